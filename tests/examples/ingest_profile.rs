use jiff::Timestamp;
use std::io::{Read, Write};
use std::time::Instant;
use xunjian_shared::wire::*;

fn main() {
    // 100 batches of 500 synthetic observations, like the bench.
    let now = Timestamp::now();
    let json_batches: Vec<Vec<u8>> = (0..100).map(|b| {
        let observations: Vec<Observation> = (0..500).map(|i| {
            let site = b * 500 + i;
            serde_json::from_value(serde_json::json!({
                "target": format!("某县第{site}号政府网站"), "kind": "site", "unit": format!("某县第{}号单位", site % 300), "platform": null,
                "column": if i % 4 == 0 { serde_json::Value::Null } else { serde_json::Value::from("工作动态") }, "column_kind": null,
                "url": format!("https://www{site}.example.gov.cn/"), "checks": ["availability", "home_update"], "checked_at": now.to_string(),
                "ok": true, "items": 20, "last_update": "2026-11-20", "age_days": 6, "max_age_days": 14,
                "fetch": {"status": 200, "duration_ms": 81, "failure": null, "redirects": [], "tls_not_after": "2027-02-24T00:00:00Z", "charset": "UTF-8", "body_bytes": 30000, "truncated": false},
                "findings": []
            })).unwrap()
        }).collect();
        let batch = Batch { schema_version: 1, batch_id: BatchId::parse(&format!("prof-{b:08}")).unwrap(), agent: "bench".into(), county: "县".into(), sequence: b as u64, created_at: now, inventory: None, observations };
        serde_json::to_vec(&batch).unwrap()
    }).collect();
    let gz: Vec<Vec<u8>> = json_batches
        .iter()
        .map(|j| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(j).unwrap();
            e.finish().unwrap()
        })
        .collect();
    let n = 50_000.0;
    println!(
        "json bytes/obs {:.0}, gz bytes/obs {:.0}",
        json_batches.iter().map(|j| j.len()).sum::<usize>() as f64 / n,
        gz.iter().map(|j| j.len()).sum::<usize>() as f64 / n
    );
    let t = Instant::now();
    for g in &gz {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&g[..]).read_to_end(&mut out).unwrap();
    }
    println!("gunzip   {:.2} us/obs", t.elapsed().as_secs_f64() * 1e6 / n);
    let t = Instant::now();
    for g in &gz {
        std::hint::black_box(
            xunjian_collector::ingest::decode_push(
                g,
                true,
                1 << 26,
                &xunjian_shared::config::collector::PushLimits::default(),
            )
            .is_ok(),
        );
    }
    println!("decode_push {:.2} us/obs", t.elapsed().as_secs_f64() * 1e6 / n);
    let t = Instant::now();
    let batches: Vec<Batch> = json_batches.iter().map(|j| serde_json::from_slice(j).unwrap()).collect();
    println!("decode   {:.2} us/obs", t.elapsed().as_secs_f64() * 1e6 / n);
    let t = Instant::now();
    for b in &batches {
        for o in &b.observations {
            std::hint::black_box(serde_json::to_string(o).unwrap());
        }
    }
    println!("reencode {:.2} us/obs", t.elapsed().as_secs_f64() * 1e6 / n);
    // The projection alone: admission and application of batches of pages seen before.
    {
        use xunjian_collector::projection::{Claims, Dirty, Receipt, Snapshot};
        let receipt = Receipt { received_at: now, certificate_not_after: None };
        let mut snapshot = Snapshot::default();
        let mut dirty = Dirty::default();
        for b in batches.clone() {
            snapshot.apply(b, receipt, &mut dirty);
        }
        let t = Instant::now();
        for b in &batches {
            std::hint::black_box(snapshot.admit(b, usize::MAX, &Claims::default()).is_ok());
        }
        println!("admit    {:.2} us/obs", t.elapsed().as_secs_f64() * 1e6 / n);
        let copies = batches.clone();
        let t = Instant::now();
        for b in copies {
            snapshot.apply(b, receipt, &mut dirty);
        }
        println!("apply    {:.2} us/obs (pages seen before)", t.elapsed().as_secs_f64() * 1e6 / n);
    }
    let dir = std::env::temp_dir().join("xunjian-ingest-profile");
    let _ = std::fs::remove_dir_all(&dir);
    let store = xunjian_collector::store::Store::open(&dir.join("p.db")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let commit_all = |batches: Vec<Batch>| {
        rt.block_on(async {
            for (b, g) in batches.into_iter().zip(gz.clone()) {
                let body = xunjian_collector::store::LoggedBody { bytes: g, gzip: true };
                let receipt = xunjian_collector::projection::Receipt { received_at: now, certificate_not_after: None };
                store.commit(b, body, receipt, usize::MAX).await.unwrap();
            }
        })
    };
    let t = Instant::now();
    commit_all(batches.clone());
    println!("commit (new subjects)      {:.2} us/obs", t.elapsed().as_secs_f64() * 1e6 / n);
    let again: Vec<Batch> = batches
        .into_iter()
        .map(|mut b| {
            b.batch_id = BatchId::parse(&format!("{}x", b.batch_id)).unwrap();
            b
        })
        .collect();
    let t = Instant::now();
    commit_all(again);
    println!("commit (existing subjects) {:.2} us/obs", t.elapsed().as_secs_f64() * 1e6 / n);
    let t = Instant::now();
    let written = rt.block_on(store.checkpoint()).unwrap();
    println!(
        "checkpoint of {} subjects: {:.2} us/subject",
        written.subjects,
        t.elapsed().as_secs_f64() * 1e6 / written.subjects as f64
    );
}
