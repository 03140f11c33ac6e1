//! `xunjian-collector backup` while the collector takes pushes, and a restore on a fresh
//! directory: every batch acknowledged before the backup began is there (its sites, its
//! problems, and its id, so the agent's re-send is a duplicate), and the daily history closed
//! before it is the same row for row.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use xunjian_shared::wire::api::ProblemPage;
use xunjian_shared::wire::{Batch, PushAck, PushStatus};
use xunjian_tests::deployment::{Deployment, probe};
use xunjian_tests::harness::{http_get, wait_until};

/// Every row of the daily history tables for `day`, in a stable order.
fn history_rows(database: &std::path::Path, day: &str) -> Vec<String> {
    let connection = rusqlite::Connection::open(database).expect("open database");
    let mut rows = Vec::new();
    for (table, order) in [
        ("history_pages", "agent, target, kind, column_name, channel"),
        ("history_targets", "county, target, kind, platform"),
        ("history_counties", "county, kind"),
    ] {
        let mut statement =
            connection.prepare(&format!("SELECT * FROM {table} WHERE day = ?1 ORDER BY {order}")).expect("prepare");
        let columns = statement.column_count();
        let read = statement
            .query_map([day], |row| {
                let cells: Vec<String> = (0..columns)
                    .map(|index| match row.get_ref(index)? {
                        rusqlite::types::ValueRef::Integer(value) => Ok(value.to_string()),
                        rusqlite::types::ValueRef::Text(text) => Ok(String::from_utf8_lossy(text).into_owned()),
                        other => Ok(format!("{other:?}")),
                    })
                    .collect::<rusqlite::Result<_>>()?;
                Ok(format!("{table}: {}", cells.join(" | ")))
            })
            .expect("query");
        rows.extend(read.map(|row| row.expect("row")));
    }
    rows
}

async fn open_problem_targets(collector: &Deployment) -> Vec<String> {
    let (status, _, body) = http_get(&format!("{}/api/v1/problems?status=open&limit=1000", collector.web), None).await;
    assert_eq!(status, 200, "{body}");
    let page: ProblemPage = serde_json::from_str(&body).unwrap_or_else(|err| panic!("{err}: {body}"));
    page.problems.into_iter().map(|problem| problem.target).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_acknowledged_batch_the_ledger_and_the_history() {
    let mut collector = Deployment::new("backup", "", "");
    collector.start().await;
    let agent = Arc::new(collector.agent("lc"));

    // Yesterday (China time): twenty sites, every third one down. One observation of today
    // closes yesterday, whose history is then written.
    let yesterday = Timestamp::now() - SignedDuration::from_hours(24);
    let yesterday_day = xunjian_shared::time::china_today(yesterday).to_string();
    let sites: Vec<_> = (0..20).map(|n| probe(&format!("站点{n}"), "县政府办", n % 3 != 0, yesterday)).collect();
    let (status, body) = agent.push(&agent.batch("龙川县", sites)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        agent.push(&agent.batch("龙川县", vec![probe("站点1", "县政府办", true, Timestamp::now())])).await;
    assert_eq!(status, 200, "{body}");

    // Load: one batch after another, each a new site (every fourth down), each remembered once
    // acknowledged, until told to stop.
    let acknowledged: Arc<Mutex<Vec<(Batch, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let pusher = {
        let (agent, acknowledged, stop) = (agent.clone(), acknowledged.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let target = format!("负载站{n}");
                let batch = agent.batch("龙川县", vec![probe(&target, "县政府办", n % 4 != 0, Timestamp::now())]);
                let (status, body) = agent.push(&batch).await;
                assert_eq!(status, 200, "{body}");
                acknowledged.lock().unwrap().push((batch, target));
                n += 1;
            }
        })
    };
    wait_until(Duration::from_secs(60), "twenty batches acknowledged under load", || async {
        (acknowledged.lock().unwrap().len() >= 20).then_some(())
    })
    .await;

    let out = collector.dir.join("backup.db");
    let before = acknowledged.lock().unwrap().len();
    let (code, stdout, stderr) =
        tokio::task::block_in_place(|| collector.cli(&["backup", "--out", out.to_str().expect("UTF-8")]));
    let after = acknowledged.lock().unwrap().len();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("已备份到") && stdout.contains("恢复："), "{stdout}");
    println!("{stdout}pushes acknowledged while the backup ran: {}", after - before);
    assert!(after > before, "the collector kept acknowledging pushes while the backup ran");
    // Never over an existing file.
    let (code, _, stderr) =
        tokio::task::block_in_place(|| collector.cli(&["backup", "--out", out.to_str().expect("UTF-8")]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("已存在"), "{stderr}");

    stop.store(true, Ordering::SeqCst);
    pusher.await.expect("the pusher");
    assert_eq!(collector.stop().await, Some(0));
    let history = history_rows(&collector.dir.join("xunjian.db"), &yesterday_day);
    assert!(history.iter().any(|row| row.starts_with("history_targets")), "yesterday's history: {history:?}");

    // Restore on a fresh directory: another deployment, the copy in its database's place.
    let mut restored = Deployment::new("backup-restored", "", "");
    std::fs::copy(&out, restored.dir.join("xunjian.db")).expect("restore the copy");
    restored.start().await;
    let status = restored.status().await;
    let acknowledged = acknowledged.lock().unwrap().clone();
    let (before_backup, _) = acknowledged.split_at(before);
    for n in 0..20 {
        let site = format!("站点{n}");
        assert!(status.targets.iter().any(|t| t.observation.target == site), "{site} is restored");
    }
    for (_, target) in before_backup {
        assert!(status.targets.iter().any(|t| &t.observation.target == target), "{target} is restored");
    }
    let open = open_problem_targets(&restored).await;
    let down_yesterday = (0..20).filter(|n| n % 3 == 0).map(|n| format!("站点{n}"));
    let down_under_load = before_backup.iter().enumerate().filter(|(n, _)| n % 4 == 0).map(|(_, (_, t))| t.clone());
    for target in down_yesterday.chain(down_under_load) {
        assert!(open.contains(&target), "the open problem of {target} is restored: {open:?}");
    }
    assert_eq!(history_rows(&restored.dir.join("xunjian.db"), &yesterday_day), history, "yesterday's history");

    // Exactly once across the restore: the agent's re-send of an acknowledged batch changes
    // nothing.
    let agent = restored.agent("lc");
    for (batch, _) in before_backup {
        let (status, body) = agent.push(batch).await;
        assert_eq!(status, 200, "{body}");
        let ack: PushAck = serde_json::from_str(&body).expect("ack");
        assert_eq!(ack.status, PushStatus::Duplicate, "{} was acknowledged before the backup", batch.batch_id);
    }
    assert_eq!(restored.stop().await, Some(0));
}
