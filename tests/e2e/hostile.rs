//! Hostile targets, all in one `check` round: each misbehaviour becomes its finding, the round
//! finishes within its deadline, and the agent stays under a memory bound. Prints the table of
//! behaviours and outcomes and the agent's peak RSS.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use xunjian_shared::wire::{CheckReport, FetchFailure, FindingCode, Observation};
use xunjian_sim::{Route, Sim};
use xunjian_tests::certs::self_signed;
use xunjian_tests::harness::{binary, temp_dir};
use xunjian_tests::measure::peak_rss_mb;

const LIST: &str = "<ul><li><a href='/a/1.html'>县政府召开常务会议</a><span>2026-11-20</span></li><li><a href='/a/2.html'>县领导调研</a><span>2026-11-19</span></li></ul>";
/// Every probe's deadline in this round.
const TIMEOUT_SECS: u64 = 4;
/// The agent's peak resident memory must stay under this during the round (MiB).
const MAX_RSS_MB: f64 = 100.0;

fn stream(declared_length: Option<u64>, chunk: &[u8], pause_ms: u64) -> Route {
    Route::Stream {
        content_type: "text/html; charset=utf-8".into(),
        declared_length,
        chunk: chunk.to_vec(),
        pause: Duration::from_millis(pause_ms),
    }
}

/// What a hostile target must come to.
enum Expect {
    Failure(FetchFailure),
    Finding(FindingCode),
    /// The page is read: its two dated items are found despite the abuse.
    Items(u32),
    /// Opened and judged without a crash (nothing readable in it).
    Survived,
    /// Not this finding (a cut column is not blank).
    No(FindingCode),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_targets_become_findings_within_bounds() {
    let _alone = xunjian_tests::harness::exclusive().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start().await.unwrap();
    let gbk_list = encoding_rs::GBK
        .encode(&format!("<html><head><title>和平县</title></head><body>{LIST}</body></html>"))
        .0
        .into_owned();
    let mut garbage = vec![0u8; 256 * 1024];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for byte in garbage.iter_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *byte = seed as u8;
    }
    let nested = format!("{}{LIST}{}", "<div>".repeat(200_000), "</div>".repeat(200_000));
    let mut one_line = format!("<html><body>{LIST}<p>");
    one_line.push_str(&"县".repeat(10 * 1024 * 1024 / 3));
    let mut bomb = LIST.as_bytes().to_vec();
    bomb.resize(512 << 20, b' ');
    // 100,000 list items in one list, each a link: a reader that walks every one for every
    // candidate, or keeps them all, shows here.
    let flat = format!(
        "<ul>{}</ul>",
        "<li><a href='/a/x.html'>县政府召开常务会议</a><span>2026-11-20</span></li>".repeat(100_000)
    );
    let huge_attribute = format!("<div title=\"{}\">{LIST}</div>", "题".repeat(1024 * 1024));
    // 30,000 links to other sites: dead links are checked up to [limits] dead_links_max.
    let many_links: String =
        (0..30_000).map(|i| format!("<a href='http://127.0.0.{}:9/{i}.html'>链接{i}</a>", 2 + i % 200)).collect();
    let huge_script = format!(
        "<script>var list = [{}];</script>{LIST}",
        "{title:'县政府召开常务会议',date:'2026-11-20'},".repeat(60_000)
    );
    let endless_gbk = encoding_rs::GBK.encode(&"<li>县政府召开常务会议 2026-11-20</li>".repeat(2000)).0.into_owned();
    // A list that never ends: tens of thousands of fresh items read are still a cut page.
    let endless_list = "<li><a href='/a/x.html'>县政府召开常务会议</a><span>2026-11-20</span></li>".repeat(500);
    // A GBK page with three byte pairs no GBK decoder reads: 乱码 a visitor sees.
    let mut invalid_bytes = gbk_list.clone();
    let at = invalid_bytes.windows(4).position(|w| w == b"<ul>").unwrap();
    invalid_bytes.splice(at..at, [0x81, b' ', 0xFE, b'"', 0x90, b'<']);

    let routes: Vec<(&str, &str, Route, Expect)> = vec![
        (
            "慢响应头",
            "/slow-headers/",
            Route::html(LIST).delayed(Duration::from_secs(30)),
            Expect::Failure(FetchFailure::Timeout),
        ),
        ("慢速正文", "/slowloris/", stream(Some(100_000), b"<", 500), Expect::Failure(FetchFailure::Timeout)),
        ("无尽正文", "/endless/", stream(None, &[b'x'; 64 * 1024], 0), Expect::Finding(FindingCode::BodyTruncated)),
        (
            "巨大长度",
            "/huge-length/",
            stream(Some(1 << 40), &[b'y'; 64 * 1024], 0),
            Expect::Finding(FindingCode::BodyTruncated),
        ),
        (
            "压缩炸弹",
            "/gzip-bomb/",
            Route::bytes("text/html; charset=utf-8", bomb).gzipped(),
            Expect::Finding(FindingCode::BodyTruncated),
        ),
        ("重定向循环", "/loop/", Route::redirect("/loop/"), Expect::Failure(FetchFailure::RedirectLoop)),
        ("编码标错", "/mislabelled/", Route::bytes("text/html; charset=utf-8", gbk_list.clone()), Expect::Items(2)),
        (
            "无效字节",
            "/invalid-bytes/",
            Route::bytes("text/html; charset=gbk", invalid_bytes),
            Expect::Finding(FindingCode::CharsetInvalid),
        ),
        (
            "无效编码名",
            "/bad-charset/",
            Route::bytes("text/html; charset=x-no-such-charset", gbk_list),
            Expect::Items(2),
        ),
        ("二进制乱码", "/garbage/", Route::bytes("text/html", garbage), Expect::Survived),
        // Past the parser's depth cap (256) content is flattened, past its node cap not read:
        // judged, not crashed.
        ("深层嵌套", "/nested/", Route::html(nested), Expect::Finding(FindingCode::BodyTruncated)),
        ("超长单行", "/one-line/", Route::html(one_line), Expect::Finding(FindingCode::BodyTruncated)),
        ("十万条目", "/flat/", Route::html(flat), Expect::Finding(FindingCode::BodyTruncated)),
        ("巨型属性", "/huge-attribute/", Route::html(huge_attribute), Expect::Items(2)),
        // More tags than the reader keeps: its end unread, which is a finding (else padding
        // would hide what follows from every check).
        ("海量链接", "/many-links/", Route::html(many_links), Expect::Finding(FindingCode::BodyTruncated)),
        ("巨型脚本", "/huge-script/", Route::html(huge_script), Expect::Items(2)),
        (
            "无尽GBK",
            "/endless-gbk/",
            Route::Stream {
                content_type: "text/html; charset=gbk".into(),
                declared_length: None,
                chunk: endless_gbk,
                pause: Duration::ZERO,
            },
            Expect::Finding(FindingCode::BodyTruncated),
        ),
        (
            "中途断开",
            "/reset/",
            Route::ResetMidBody { body_prefix: LIST.as_bytes()[..40].to_vec(), claimed_length: 50_000 },
            Expect::Failure(FetchFailure::Reset),
        ),
    ];
    for (_, path, route, _) in &routes {
        sim.route(path, route.clone());
    }
    // Columns of one site: an endless list and an endless body are cut pages, never blank ones.
    let columns = [("无尽列表", "/endless-list/"), ("无尽正文栏目", "/endless/")];
    sim.route("/endless-list/", stream(None, endless_list.as_bytes(), 0));
    sim.route("/columns/", Route::html(LIST));
    let expired = self_signed(
        &["127.0.0.1"],
        Timestamp::now() - SignedDuration::from_hours(24 * 400),
        Timestamp::now() - SignedDuration::from_hours(24 * 3),
    );
    let expired_site = Sim::start_tls(&expired.cert_pem, &expired.key_pem).await.unwrap();
    expired_site.route("/", Route::html(LIST));
    let untrusted = self_signed(
        &["127.0.0.1"],
        Timestamp::now() - SignedDuration::from_hours(24),
        Timestamp::now() + SignedDuration::from_hours(24 * 300),
    );
    let untrusted_site = Sim::start_tls(&untrusted.cert_pem, &untrusted.key_pem).await.unwrap();
    untrusted_site.route("/", Route::html(LIST));

    let mut config =
        format!("[agent]\nid = \"hostile\"\ncounty = \"测试县\"\n[probe]\ntimeout = \"{TIMEOUT_SECS}s\"\n");
    let mut site = |name: &str, url: String| {
        config.push_str(&format!("[[site]]\nname = \"{name}\"\nunit = \"{name}办\"\nurl = \"{url}\"\n"))
    };
    for (name, path, _, _) in &routes {
        site(name, sim.url(path));
    }
    site("证书过期", expired_site.url("/"));
    site("自签证书", untrusted_site.url("/"));
    // A label longer than DNS allows: the resolver refuses it locally, no query leaves the machine.
    site("域名无法解析", format!("http://{}.gov.cn/", "x".repeat(70)));
    site("栏目站", sim.url("/columns/"));
    for (name, path) in columns {
        config.push_str(&format!("[[site.column]]\nname = \"{name}\"\nurl = \"{}\"\nkind = \"news\"\n", sim.url(path)));
    }
    let dir = temp_dir("hostile");
    std::fs::write(dir.join("agent.toml"), &config).unwrap();

    // Resolved (and built, on the first call) before the clock starts: the round is the agent's.
    let agent = binary("xunjian-agent");
    let started = Instant::now();
    let mut child = tokio::process::Command::new(agent)
        .args(["check", "--json", "--config"])
        .arg(dir.join("agent.toml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = tokio::spawn(async move {
        let mut out = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut stdout, &mut out).await.unwrap();
        out
    });
    let mut peak = 0.0f64;
    let status = loop {
        peak = peak.max(peak_rss_mb(pid));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let elapsed = started.elapsed();
    let stdout = reader.await.unwrap();
    assert!(status.success(), "check failed: {:?}", status);
    let report: CheckReport = serde_json::from_slice(&stdout).unwrap();
    let home = |name: &str| -> &Observation {
        report
            .observations
            .iter()
            .find(|o| {
                o.target == name
                    && o.column.is_none()
                    && o.checks.contains(&xunjian_shared::wire::CheckKind::Availability)
            })
            .unwrap_or_else(|| panic!("no observation of {name}"))
    };

    let column = |name: &str| -> &Observation {
        report
            .observations
            .iter()
            .find(|o| o.column.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no observation of column {name}"))
    };

    println!("{:<12} {:<22} {:>9}  findings", "behaviour", "failure", "fetch");
    let mut rows: Vec<(&str, Vec<Expect>)> =
        routes.into_iter().map(|(name, _, _, expect)| (name, vec![expect])).collect();
    rows.push(("证书过期", vec![Expect::Finding(FindingCode::TlsCertificateInvalid)]));
    rows.push(("自签证书", vec![Expect::Finding(FindingCode::TlsCertificateInvalid)]));
    rows.push(("域名无法解析", vec![Expect::Failure(FetchFailure::Dns)]));
    // The browser shows the mislabelled page as 乱码; the agent still reads its dates.
    rows.iter_mut()
        .find(|(name, _)| *name == "编码标错")
        .unwrap()
        .1
        .push(Expect::Finding(FindingCode::CharsetMismatch));
    for (name, _) in columns {
        rows.push((name, vec![Expect::Finding(FindingCode::BodyTruncated), Expect::No(FindingCode::ColumnBlank)]));
    }
    for (name, expects) in &rows {
        let observation = if columns.iter().any(|(column, _)| column == name) { column(name) } else { home(name) };
        let failure = observation.fetch.as_ref().and_then(|f| f.failure);
        let codes: Vec<&str> = observation.findings.iter().map(|f| f.code.as_str()).collect();
        let millis = observation.fetch.as_ref().map_or(0, |f| f.duration_ms);
        println!("{name:<12} {:<22} {millis:>6} ms  {}", format!("{failure:?}"), codes.join(","));
        for expect in expects {
            let has = |code: &FindingCode| observation.findings.iter().any(|f| f.code == *code);
            match expect {
                Expect::Failure(expected) => {
                    assert_eq!(failure, Some(*expected), "{name}: {:?}", observation.findings)
                }
                Expect::Finding(code) => assert!(has(code), "{name}: {:?}", observation.findings),
                Expect::No(code) => assert!(!has(code), "{name}: {:?}", observation.findings),
                Expect::Items(n) => assert_eq!(observation.items(), Some(*n), "{name}: {:?}", observation.findings),
                Expect::Survived => {
                    assert!(observation.fetch.as_ref().is_some_and(|f| f.status == Some(200)), "{name}")
                }
            }
        }
    }
    let invalid = home("无效字节").findings.iter().find(|f| f.code == FindingCode::CharsetInvalid).unwrap();
    assert!(invalid.detail.contains("有 3 处"), "{}", invalid.detail);
    for name in ["证书过期", "自签证书"] {
        assert!(
            home(name).fetch.as_ref().unwrap().tls_not_after.is_some(),
            "{name}: the refused certificate's not-after is reported"
        );
    }
    println!("round: {elapsed:.1?}, agent peak RSS {peak:.1} MB (bound {MAX_RSS_MB} MB)");
    // Seventeen of these sites share one host, which the agent visits two requests at a time
    // (its politeness limit), so their timeouts queue; the bound is that nothing hangs.
    assert!(elapsed < Duration::from_secs(60), "the round took {elapsed:?}");
    assert!(peak > 0.0 && peak < MAX_RSS_MB, "agent peak RSS {peak:.1} MB");
    let _ = std::fs::remove_dir_all(&dir);
}
