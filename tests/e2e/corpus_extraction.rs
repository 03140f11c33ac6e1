//! Every corpus page, read the way the agent reads a fetched page (bytes → charset → tree →
//! list), must yield the manifest's newest date and item count.

use url::Url;
use xunjian_agent::extract::html::Document;
use xunjian_agent::extract::html_list::{read_column, read_home};
use xunjian_agent::fetch::charset;
use xunjian_tests::corpus;

#[test]
fn corpus_pages_read_as_expected() {
    let manifest = corpus::load();
    let today: jiff::civil::Date = manifest.today.parse().unwrap();
    let mut failures = Vec::new();
    let mut layouts = std::collections::BTreeSet::new();
    for page in &manifest.page {
        layouts.insert(page.layout.clone());
        let decoded = charset::decode(&page.bytes(), Some(&page.content_type), true);
        let document = Document::parse(&decoded.text);
        let url = Url::parse(&page.url).unwrap();
        let reading = match page.kind.as_str() {
            "home" => read_home(&document, &url, today),
            _ => read_column(&document, &url, today, page.column.as_deref().unwrap_or(""), None),
        };
        let newest = reading.newest().map(|p| p.to_string());
        let undated = reading.items.len() - reading.dated_items();
        let got = (reading.dated_items(), newest.clone(), undated);
        let expected = (page.items, page.newest.clone(), page.undated);
        let status = if got == expected { "ok" } else { "MISMATCH" };
        println!(
            "{status:8} {:34} {:16} items {:>2}/{:>2} undated {}/{} newest {:?}/{:?} [{:?}, {}]",
            page.file,
            page.layout,
            got.0,
            expected.0,
            got.2,
            expected.2,
            got.1,
            expected.1,
            reading.method,
            decoded.encoding
        );
        if got != expected {
            failures.push(page.file.clone());
        }
    }
    println!("corpus: {} pages, {} layouts", manifest.page.len(), layouts.len());
    assert!(failures.is_empty(), "pages read wrongly: {failures:?}");
}

/// Every guide page, read the way the agent reads one (bytes → charset → tree → categories),
/// must miss exactly the manifest's categories.
#[test]
fn corpus_guides_read_as_expected() {
    use xunjian_agent::extract::guide::{Categories, read_guide};
    let manifest = corpus::load();
    let categories = Categories::default();
    let mut failures = Vec::new();
    let layouts: std::collections::BTreeSet<&str> = manifest.guide.iter().map(|g| g.layout.as_str()).collect();
    for guide in &manifest.guide {
        let decoded = charset::decode(&guide.bytes(), Some(&guide.content_type), true);
        let reading = read_guide(&Document::parse(&decoded.text), &categories);
        let ok = reading.missing == guide.missing && reading.title.as_deref() == Some(guide.title.as_str());
        println!(
            "{:8} {:34} {:28} missing {:?} (expected {:?}) title {:?} [{}]",
            if ok { "ok" } else { "MISMATCH" },
            guide.file,
            guide.layout,
            reading.missing,
            guide.missing,
            reading.title,
            decoded.encoding
        );
        if !ok {
            failures.push(guide.file.clone());
        }
    }
    println!("guides: {} pages, {} layouts", manifest.guide.len(), layouts.len());
    assert!(layouts.len() >= 6, "guides in at least six layouts");
    assert!(failures.is_empty(), "guides read wrongly: {failures:?}");
}

/// Every policy list and its interpretation list, read and paired the way the agent pairs them
/// (lists → rows' links → document pages' links → pairs), must stand as the manifest says.
#[test]
fn corpus_interpretations_pair_as_expected() {
    use xunjian_agent::extract::interpretation::{ListPage, Lists, Rules, Standing, counterpart_links};
    use xunjian_agent::extract::links::page_links;
    use xunjian_shared::config::Thresholds;
    use xunjian_shared::time::calendar::Calendar;
    let manifest = corpus::load();
    let today: jiff::civil::Date = manifest.today.parse().unwrap();
    let (thresholds, calendar) = (Thresholds::default(), Calendar::china());
    let rules = Rules {
        today,
        window_days: thresholds.interpretation_window_days,
        limit_working_days: thresholds.interpretation_limit_working_days,
        exempt_words: &thresholds.interpretation_exempt_words,
        calendar: &calendar,
        interpretations_from: None,
    };
    let read = |file: &corpus::CorpusFile| {
        let decoded = charset::decode(&file.bytes(), Some(&file.content_type), true);
        (Document::parse(&decoded.text), Url::parse(&file.url).unwrap(), decoded.encoding)
    };
    let mut failures = Vec::new();
    let layouts: std::collections::BTreeSet<&str> = manifest.interpretation.iter().map(|i| i.layout.as_str()).collect();
    for case in &manifest.interpretation {
        let (policy_page, policy_url, policy_encoding) = read(&case.policy);
        let (interpretation_page, interpretation_url, interpretation_encoding) = read(&case.interpretations);
        let policy_list =
            read_column(&policy_page, &policy_url, today, case.policy.column.as_deref().unwrap_or(""), None);
        let interpretation_list = read_column(
            &interpretation_page,
            &interpretation_url,
            today,
            case.interpretations.column.as_deref().unwrap_or(""),
            None,
        );
        let lists = Lists::read(
            &[ListPage { document: &policy_page, items: &policy_list.items, url: &policy_url }],
            &[ListPage { document: &interpretation_page, items: &interpretation_list.items, url: &interpretation_url }],
        );
        // The document pages the corpus holds stand for those the agent would fetch.
        let first = lists.pair(&rules);
        let wanted = lists.pages_to_read(&first, &rules);
        let details: Vec<(Url, Vec<Url>)> = case
            .detail
            .iter()
            .map(|file| {
                let (page, url, _) = read(file);
                assert!(wanted.contains(&url), "{}: {url} is read only when it could make a pair", case.layout);
                // An interpretation's page, read for links back to the policies.
                let policies: Vec<(&Url, &str)> =
                    lists.policies.iter().filter_map(|p| Some((p.url.as_ref()?, p.title.as_str()))).collect();
                let links = counterpart_links(&page_links(&page, &url, 400), &policies);
                (url, links)
            })
            .collect();
        let lists =
            lists.with_page_links(|url| details.iter().find(|(page, _)| page == url).map(|(_, links)| links.clone()));
        let pairing = lists.pair(&rules);
        let got: Vec<corpus::CorpusPairing> = pairing
            .pairs
            .iter()
            .map(|pair| {
                let interpretation = pair.interpretation.map(|(i, _)| lists.interpretations[i].title.clone());
                corpus::CorpusPairing {
                    policy: lists.policies[pair.policy].title.clone(),
                    standing: match pair.standing {
                        Standing::Interpreted => "interpreted",
                        Standing::Late => "late",
                        Standing::Missing => "missing",
                        Standing::Pending => "pending",
                    }
                    .to_string(),
                    by: interpretation,
                    delay: pair.delay_working_days,
                }
            })
            .collect();
        let ok = got == case.expect && pairing.exempt == case.exempt;
        println!(
            "{:8} {:44} policies {}/{} interpretations {} exempt {}/{} [{policy_encoding}, {interpretation_encoding}]",
            if ok { "ok" } else { "MISMATCH" },
            case.layout,
            got.len(),
            case.expect.len(),
            lists.interpretations.len(),
            pairing.exempt,
            case.exempt
        );
        if !ok {
            for (n, pair) in got.iter().enumerate() {
                let expected = case.expect.get(n);
                if expected != Some(pair) {
                    println!("    got      {pair:?}\n    expected {expected:?}");
                }
            }
            failures.push(case.layout.clone());
        }
    }
    println!("interpretations: {} layouts", layouts.len());
    assert!(layouts.len() >= 6, "policy and interpretation pairs in at least six layouts");
    assert!(failures.is_empty(), "pairs made wrongly: {failures:?}");
}
