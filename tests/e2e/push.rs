//! The distributed path, as deployed: `xunjian-collector certs`, `serve`, two `xunjian-agent run`
//! processes pushing over mutual TLS, the site simulator, and `/metrics` scraped over HTTP.

use std::time::Duration;

use jiff::Timestamp;
use xunjian_shared::time::{Published, china_today};
use xunjian_shared::wire::StatusReport;
use xunjian_sim::Sim;
use xunjian_sim::county::{self, PageState, SimCounty};
use xunjian_tests::exposition::{self, Sample};
use xunjian_tests::harness::{
    Process, http_get, http_get_rendered_after, promtool_check_metrics, run_cli, start_collector, temp_dir, wait_until,
};

fn agent_config(county: &SimCounty, sim: &Sim, push_port: u16, down_port: u16, certs: &std::path::Path) -> String {
    let mut toml = format!(
        "[agent]\nid = \"{id}\"\ncounty = \"{county}\"\n[probe]\ninterval = \"1s\"\ncolumn_interval = \"2s\"\ntimeout = \"2s\"\n\
         [collector]\nurl = \"https://127.0.0.1:{push_port}/\"\nca = \"{ca}\"\ncert = \"{dir}/{id}.pem\"\nkey = \"{dir}/{id}-key.pem\"\n",
        id = county.agent,
        county = county.county,
        ca = certs.join("ca.pem").display(),
        dir = certs.join("agents").display(),
    );
    for site in &county.sites {
        let url =
            site.home_path.as_ref().map(|p| sim.url(p)).unwrap_or_else(|| format!("http://127.0.0.1:{down_port}/"));
        toml.push_str(&format!("\n[[site]]\nname = \"{}\"\nunit = \"{}\"\nurl = \"{url}\"\n", site.name, site.unit));
        for column in &site.columns {
            toml.push_str(&format!(
                "[[site.column]]\nname = \"{}\"\nurl = \"{}\"\nkind = \"{}\"\n",
                column.name,
                sim.url(&column.path),
                column.kind
            ));
            if let Some(interpretations) = column.interpretations {
                toml.push_str(&format!("interpretations = \"{interpretations}\"\n"));
            }
        }
    }
    toml
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The series projected from pushes, for comparing before and after a restart.
fn business(samples: &[Sample]) -> Vec<Sample> {
    let mut kept: Vec<Sample> = samples
        .iter()
        .filter(|s| s.name.starts_with("xunjian_") && !s.name.starts_with("xunjian_collector_"))
        // Alerts are evaluated on their own clock; their restart is tested in alerts.rs.
        .filter(|s| !s.name.starts_with("xunjian_alerts_"))
        .cloned()
        .collect();
    kept.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
    kept
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_push_over_mtls_and_metrics_match_the_simulator() {
    let dir = temp_dir("push");
    let certs = dir.join("certs");
    run_cli("xunjian-collector", &["certs", "init", "--dir", certs.to_str().unwrap(), "--host", "127.0.0.1"]);
    let today = china_today(Timestamp::now());
    let counties: Vec<SimCounty> = county::province(today).into_iter().take(2).collect();
    for county in &counties {
        run_cli("xunjian-collector", &["certs", "issue", "--dir", certs.to_str().unwrap(), "--agent", county.agent]);
    }
    let push_port = free_port();
    let collector_toml = dir.join("collector.toml");
    std::fs::write(
        &collector_toml,
        format!(
            "[collector]\ndatabase = \"state/xunjian.db\"\n[push]\nlisten = \"127.0.0.1:{push_port}\"\nca = \"certs/ca.pem\"\ncert = \"certs/server.pem\"\nkey = \"certs/server-key.pem\"\n[web]\nlisten = \"127.0.0.1:0\"\nopen_reads = true\n"
        ),
    )
    .unwrap();
    let (collector, web) = start_collector(&collector_toml).await;

    let sim = Sim::start().await.unwrap();
    county::serve(&sim, &counties, today);
    let down_port = free_port();
    let mut agents = Vec::new();
    for county in &counties {
        let path = dir.join(format!("{}.toml", county.agent));
        std::fs::write(&path, agent_config(county, &sim, push_port, down_port, &certs)).unwrap();
        agents.push(Process::spawn("xunjian-agent", &["run", "--config", path.to_str().unwrap()]));
    }

    // Every page of both counties reaches the collector.
    let expected_pages: usize = counties.iter().flat_map(|c| &c.sites).map(|s| 1 + s.columns.len()).sum();
    let status: StatusReport = wait_until(Duration::from_secs(30), "every page at the collector", || async {
        let (_, _, body) = http_get(&format!("{web}/api/v1/status"), None).await;
        let status: StatusReport = serde_json::from_str(&body).ok()?;
        let probed_twice = status
            .targets
            .iter()
            .filter(|t| t.observation.column.is_none())
            .all(|t| t.probes_ok + t.probes_failed >= 2);
        (status.targets.len() == expected_pages && status.agents.len() == 2 && probed_twice).then_some(status)
    })
    .await;
    assert!(status.agents.iter().all(|a| a.batches >= 1));

    let (code, content_type, text) = http_get(&format!("{web}/metrics"), None).await;
    assert_eq!(code, 200);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    promtool_check_metrics(&text)
        .unwrap_or_else(|complaint| panic!("promtool check metrics failed:\n{complaint}\n{text}"));
    let samples = exposition::parse(&text);

    // The metrics say what the simulator serves.
    for county in &counties {
        for site in &county.sites {
            let site_labels = [("county", county.county), ("target", site.name), ("unit", site.unit), ("kind", "site")];
            let up = exposition::value(&samples, "xunjian_up", &site_labels);
            assert_eq!(up, Some(if site.home_path.is_some() { 1.0 } else { 0.0 }), "{} up", site.name);
            if site.home_path.is_none() {
                let failures =
                    exposition::value(&samples, "xunjian_probes_total", &[site_labels[2], ("result", "failure")])
                        .unwrap();
                assert!(failures >= 2.0, "the down site's failed probes are counted");
                continue;
            }
            // A guide list is judged by its guides, not by how new it is (see the guides below).
            let dated = site.columns.iter().filter(|c| c.kind != "guide");
            let pages = std::iter::once((None, site.home)).chain(dated.map(|c| (Some(c.name), c.state)));
            for (column, state) in pages {
                let labels = [site_labels[0], site_labels[1], site_labels[2], ("column", column.unwrap_or(""))];
                let items = exposition::value(&samples, "xunjian_column_items", &labels);
                assert_eq!(items, Some(state.items() as f64), "{} {column:?} items", site.name);
                let newest = exposition::value(&samples, "xunjian_last_update_timestamp_seconds", &labels);
                let expected = state.newest(today).map(|d| Published::date(d).timestamp().as_second() as f64);
                assert_eq!(newest, expected, "{} {column:?} last update", site.name);
                let stale = exposition::value(&samples, "xunjian_stale", &labels);
                let blank =
                    exposition::value(&samples, "xunjian_findings", &[labels[2], labels[3], ("code", "column_blank")]);
                match state {
                    PageState::Stale { .. } => assert_eq!(stale, Some(1.0), "{column:?} is stale"),
                    PageState::Blank => assert_eq!(blank, Some(1.0), "{column:?} is blank"),
                    PageState::Fresh { .. } => assert_eq!((stale, blank), (Some(0.0), None), "{column:?} is fresh"),
                }
            }
            let mut paired_columns = 0;
            for column in &site.columns {
                let labels = [site_labels[0], site_labels[1], site_labels[2], ("column", column.name)];
                let value = |name: &str| exposition::value(&samples, name, &labels);
                if column.kind == "guide" {
                    let incomplete = column.guides.iter().filter(|g| !g.missing.is_empty()).count();
                    // Fewer than max_guides: all read in the first round.
                    assert_eq!(value("xunjian_guides_checked"), Some(column.guides.len() as f64), "{}", column.name);
                    assert_eq!(value("xunjian_guides_incomplete"), Some(incomplete as f64), "{}", column.name);
                }
                if column.interpretations.is_some() {
                    // The simulator's 龙川 policy column: one exempt, one interpreted the next day,
                    // one never, one three weeks late.
                    assert_eq!(value("xunjian_policies"), Some(3.0), "{}", column.name);
                    assert_eq!(value("xunjian_policies_not_interpreted"), Some(1.0));
                    assert_eq!(value("xunjian_interpretations_late"), Some(1.0));
                    assert!(value("xunjian_interpretation_delay_workdays").is_some_and(|days| days > 10.0));
                    paired_columns += 1;
                }
            }
            let named = site.columns.iter().filter(|c| c.interpretations.is_some()).count();
            assert_eq!(paired_columns, named, "{}: every policy column naming interpretations checked", site.name);
            if site.name == "龙川县人民政府门户网站" {
                assert_eq!(named, 1, "the simulator's 龙川 site pairs its policies");
            }
        }
        let pushed = exposition::value(
            &samples,
            "xunjian_agent_last_push_timestamp_seconds",
            &[("agent", county.agent), ("county", county.county)],
        );
        assert!(pushed.is_some_and(|at| at > 0.0), "{} last push", county.agent);
    }
    // OpenMetrics on request.
    let (_, content_type, openmetrics) =
        http_get(&format!("{web}/metrics"), Some("application/openmetrics-text; version=1.0.0")).await;
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    assert!(openmetrics.trim_end().ends_with("# EOF"));

    // Agents stop cleanly on SIGTERM with nothing left unsent; then the collector restarts
    // and still holds every series.
    for agent in agents {
        assert_eq!(agent.terminate().await, Some(0), "an agent with nothing unsent exits 0");
    }
    let stopped = Timestamp::now();
    let before = business(&exposition::parse(&http_get_rendered_after(&format!("{web}/metrics"), stopped).await));
    assert_eq!(collector.terminate().await, Some(0));
    let (collector, web) = start_collector(&collector_toml).await;
    let after = business(&exposition::parse(&http_get(&format!("{web}/metrics"), None).await.2));
    let missing: Vec<_> = before.iter().filter(|s| !after.contains(s)).collect();
    let extra: Vec<_> = after.iter().filter(|s| !before.contains(s)).collect();
    assert_eq!(before.len(), after.len(), "missing {missing:?}\nextra {extra:?}");
    assert_eq!(before, after, "a restart keeps every series and value");
    let (_, _, page) = http_get(&format!("{web}/"), None).await;
    assert!(
        page.contains("龙川县教育局") && page.contains("和平县") && !page.contains("失联"),
        "status page lists the counties"
    );
    collector.terminate().await;
    let _ = std::fs::remove_dir_all(&dir);
}
