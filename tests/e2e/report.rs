//! The quarterly 通报 from a real collector database with two quarters of daily history (the
//! seed notice's three annex cases planted in it, and hostile names), made by the real CLI and
//! the real web routes while the collector runs, each format opened by a real reader: Word
//! through LibreOffice to PDF and `pdftotext`, Excel through calamine, the PDF (headless
//! Chromium) through `pdftotext -layout`, page by page, to see no table row split across pages.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use xunjian_tests::deployment::Deployment;
use xunjian_tests::harness::http_get;
use xunjian_tests::history::{self, Shape};

const HOSTILE_MARKUP: &str = "<img src=x onerror=alert(1)>恶意账号";
const HOSTILE_FORMULA: &str = "=HYPERLINK(\"http://evil.example/\",\"点击\")";

/// A collector whose database holds 2026Q2 and 2026Q3, day by day.
fn deployment() -> (Deployment, history::Written) {
    let collector = Deployment::new("report", "", "[report]\noffice = \"河源市人民政府办公室\"\n");
    let shape = Shape {
        counties: 3,
        subjects: 300,
        from: "2026-04-01".parse().unwrap(),
        days: 183,
        seed_cases: true,
        planted_names: vec![HOSTILE_MARKUP.to_string(), HOSTILE_FORMULA.to_string()],
        long_details: true,
    };
    let written = history::generate(&collector.dir.join("xunjian.db"), &shape, &|_| {}).expect("write the history");
    (collector, written)
}

/// Runs `report` with `args`; returns the file's bytes and stderr, or panics with stderr.
fn report(collector: &Deployment, args: &[&str], format: &str) -> (Vec<u8>, String) {
    let out = collector.dir.join(format!("report-{}.{format}", args.join("_").replace(['/', ' ', ','], "_")));
    let mut full = vec!["report"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--format", format, "--out", out.to_str().unwrap()]);
    let (code, _, stderr) = collector.cli(&full);
    assert_eq!(code, 0, "report {args:?} --format {format}: {stderr}");
    (std::fs::read(&out).expect("the report file"), stderr)
}

/// Every sheet of an Excel file as rows of cell text.
fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("calamine opens the xlsx");
    let names = workbook.sheet_names().to_vec();
    names
        .into_iter()
        .map(|name| {
            let range = workbook.worksheet_range(&name).expect("sheet");
            (name, range.rows().map(|row| row.to_vec()).collect())
        })
        .collect()
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

fn sheet<'a>(book: &'a [(String, Vec<Vec<Data>>)], name: &str) -> &'a [Vec<Data>] {
    &book.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("sheet {name}")).1
}

/// Text of a PDF (`pdftotext`, Debian's poppler-utils), one string per page.
fn pdf_pages(pdf: &Path, layout: bool) -> Vec<String> {
    let info = Command::new("pdfinfo").arg(pdf).output().expect("run pdfinfo (Debian: poppler-utils)");
    let pages: usize = String::from_utf8_lossy(&info.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").map(|n| n.trim().parse().unwrap()))
        .expect("page count");
    (1..=pages)
        .map(|page| {
            let mut command = Command::new("pdftotext");
            if layout {
                command.arg("-layout");
            }
            let output = command
                .args(["-f", &page.to_string(), "-l", &page.to_string()])
                .arg(pdf)
                .arg("-")
                .output()
                .expect("run pdftotext");
            String::from_utf8_lossy(&output.stdout).into_owned()
        })
        .collect()
}

/// The Word file converted by LibreOffice (Debian's libreoffice-writer-nogui) to PDF.
fn word_to_pdf(docx: &Path) -> PathBuf {
    let dir = docx.parent().unwrap().join("libreoffice");
    let output = Command::new("soffice")
        .args(["--headless", "--norestore", "--convert-to", "pdf", "--outdir"])
        .arg(&dir)
        .arg(docx)
        .env("HOME", docx.parent().unwrap())
        .output()
        .expect("run soffice (Debian: libreoffice-writer-nogui; .ci/run installs it)");
    let pdf = dir.join(docx.file_stem().unwrap()).with_extension("pdf");
    assert!(pdf.is_file(), "LibreOffice made no PDF: {}", String::from_utf8_lossy(&output.stderr));
    pdf
}

/// What the history says, independently of the report: sites and accounts judged in Q3, and
/// those 不合格 on some day (or on the sampling days).
fn oracle(database: &Path, days: &str) -> (i64, i64) {
    let connection = rusqlite::Connection::open(database).unwrap();
    let query = |sql: String| connection.query_row(&sql, [], |row| row.get::<_, i64>(0)).unwrap();
    let judged = query(format!(
        "SELECT count(*) FROM (SELECT 1 FROM history_targets WHERE {days} GROUP BY county, target, kind, platform)"
    ));
    let failed = query(format!(
        "SELECT count(*) FROM (SELECT min(pass) AS ok FROM history_targets WHERE {days} GROUP BY county, target, kind, platform) WHERE ok = 0"
    ));
    (judged, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quarterly_report_in_every_format_opened_by_real_readers() {
    let (mut collector, written) = deployment();
    let database = collector.dir.join("xunjian.db");
    let q3 = "day >= '2026-07-01' AND day <= '2026-09-30'";
    let (judged, failed_at_day_end) = oracle(&database, q3);
    // A veto open for five hours of one day, gone before the day closed: the day's verdict in
    // the history passed, but judged continuously the site failed that day.
    let brief = {
        let connection = rusqlite::Connection::open(&database).unwrap();
        let (county, unit, target): (String, String, String) = connection
            .query_row(
                &format!(
                    "SELECT county, unit, target FROM history_targets WHERE {q3} AND kind = 'site'
                     GROUP BY county, target HAVING min(pass) = 1 ORDER BY county, target LIMIT 1"
                ),
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .unwrap();
        let opened = "2026-08-10T02:00:00Z".parse::<jiff::Timestamp>().unwrap().as_second();
        connection
            .execute(
                "INSERT INTO problems (agent, county, unit, target, kind, platform, column_name, channel, code, severity,
                    first_seen, last_seen, detail, url, evidence, observed_at, status, resolved_at, resolution, absent, reopened)
                 VALUES ('a', ?1, ?2, ?3, 'site', '', '', '', 'wording_error', 'veto', ?4, ?4, '首页出现严重表述错误', '', '', ?4,
                    'resolved', ?5, 'gone', 0, 0)",
                rusqlite::params![county, unit, target, opened, opened + 5 * 3600],
            )
            .unwrap();
        target
    };
    let failed = failed_at_day_end + 1;
    collector.start().await;
    assert!(failed >= 5 && failed < judged, "the history fails some, not all: {failed}/{judged}");

    // Excel: five sheets, the annex in the notice's columns, counts that agree with the history.
    let (xlsx, stderr) = report(&collector, &["--period", "2026Q3"], "xlsx");
    assert!(stderr.contains("读取每日判定记录") && stderr.contains("已写入"), "progress on stderr: {stderr}");
    let book = sheets(&xlsx);
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["总体情况", "问题清单", "附件", "各县区", "整改情况"]);
    let annex = sheet(&book, "附件");
    let header: Vec<String> = annex[0].iter().map(text).collect();
    assert_eq!(header, ["序号", "县区/单位", "名称", "平台/类型", "存在问题"]);
    let rows: Vec<Vec<String>> =
        annex[1..].iter().filter(|r| matches!(r[0], Data::Float(_))).map(|r| r.iter().map(text).collect()).collect();
    assert_eq!(rows.len() as i64, failed, "the annex lists exactly the subjects 不合格 on some day of Q3");
    for (number, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (number + 1).to_string(), "numbered in order");
    }
    let find =
        |name: &str| rows.iter().find(|r| r[2] == name).unwrap_or_else(|| panic!("{name} in the annex: {rows:?}"));
    let social = find("河源市社会保险基金管理局");
    assert_eq!((social[1].as_str(), social[3].as_str()), ("市直 市社保局", "微信"));
    assert!(social[4].starts_with("未备案（漏报）（92 天）"), "{social:?}");
    let closed = find("龙川县公共服务中心");
    assert_eq!((closed[1].as_str(), closed[3].as_str()), ("龙川县人民政府办公室", "微信"));
    assert!(closed[4].starts_with("已关停仍在运行"), "{closed:?}");
    let ecology = find("河源市生态环境局");
    assert_eq!((ecology[3].as_str(), ecology[4].as_str()), ("新浪微博", "互动功能不通畅（12 天）"));
    assert_eq!(find(&brief)[4], "严重表述错误（1 天）", "a veto open for part of a day fails that day");
    // Sorted by county (the city's own units first), then unit.
    let order: Vec<(bool, String)> = rows.iter().map(|r| (!r[1].starts_with("市直"), r[1].clone())).collect();
    assert!(order.first().is_some_and(|o| !o.0), "市直 first");
    let mut firsts: Vec<bool> = order.iter().map(|o| o.0).collect();
    firsts.dedup();
    assert_eq!(firsts, [false, true], "the city's units, then the counties");

    let overview = sheet(&book, "总体情况");
    let city = overview.iter().find(|r| text(&r[0]) == "全市").expect("a 全市 line");
    let number = |cell: &Data| match cell {
        Data::Float(f) => *f,
        other => panic!("a number, not {other:?}"),
    };
    assert_eq!(number(&city[4]) as i64, judged, "判定数");
    assert_eq!(number(&city[3]) as i64, judged - failed, "合格");
    assert!((number(&city[5]) - (judged - failed) as f64 / judged as f64).abs() < 1e-9, "合格率");
    let (q2_judged, q2_failed) = oracle(&database, "day >= '2026-04-01' AND day <= '2026-06-30'");
    let q2 = (q2_judged - q2_failed) as f64 / q2_judged as f64;
    assert!((number(&city[6]) - q2).abs() < 1e-9, "上期合格率 from Q2's history");
    let change = ((judged - failed) as f64 / judged as f64 - q2) * 100.0;
    assert!((number(&city[7]) - (change * 10.0).round() / 10.0).abs() < 1e-9, "变化 in points");
    let counties = sheet(&book, "各县区");
    assert_eq!(counties.len() as i64 - 1, judged, "各县区: one row per site and account");
    assert_eq!(counties.iter().filter(|r| text(&r[4]) == "不合格").count() as i64, failed);

    let problems = sheet(&book, "问题清单");
    assert!(problems.len() > 10, "problems listed");
    for row in &problems[1..] {
        assert!(matches!(row[12], Data::DateTime(_)), "首次发现 is an Excel date: {:?}", row[12]);
    }
    let hostile = problems.iter().find(|r| text(&r[3]) == HOSTILE_FORMULA).expect("the formula-like name, as text");
    assert!(matches!(hostile[3], Data::String(_)));

    // CSV: the same 问题清单, formulas neutralised.
    let (csv, _) = report(&collector, &["--period", "2026Q3"], "csv");
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with('\u{feff}'), "BOM for Excel");
    assert_eq!(csv.matches("\r\n").count(), problems.len(), "header and one line per problem, as the sheet");
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"点击\"\")\""), "a formula is text");

    // Markdown and HTML: the hostile name is text, never markup or a link.
    let (md, _) = report(&collector, &["--period", "2026Q3"], "md");
    let md = String::from_utf8(md).unwrap();
    assert!(md.contains("# 河源市人民政府办公室关于2026年第三季度全市政府网站及政务新媒体检查情况的通报"));
    assert!(!md.contains("<img") && md.contains("&lt;img"));
    assert!(md.contains("2026年10月20日前"), "the deadline: 10 working days after 09-30 across National Day");
    let (html, _) = report(&collector, &["--period", "2026Q3"], "html");
    let html = String::from_utf8(html).unwrap();
    assert!(!html.contains("<img") && html.contains("&lt;img src=x"), "escaped");
    for outside in ["<script", "<link", "<a ", "src=\"http", "url("] {
        assert!(!html.contains(outside), "self-contained, nothing linked: {outside}");
    }
    assert!(html.contains("@page { size: A4"), "print CSS for A4");
    // As a browser reads it: the hostile name is a text node, not an element.
    let page = collector.dir.join("通报.html");
    std::fs::write(&page, &html).unwrap();
    let output = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--dump-dom"])
        .arg(format!("--user-data-dir={}", collector.dir.join("chromium-profile").display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(dom.contains("<h1>河源市人民政府办公室关于2026年第三季度"), "the DOM has the title");
    assert!(dom.contains("&lt;img src=x onerror=alert(1)&gt;恶意账号") && !dom.contains("<img"), "text, not markup");

    // Word, through LibreOffice.
    let (docx, _) = report(&collector, &["--period", "2026Q3"], "docx");
    let docx_path = collector.dir.join("通报.docx");
    std::fs::write(&docx_path, &docx).unwrap();
    let word: String = pdf_pages(&word_to_pdf(&docx_path), false).concat();
    let word: String = word.split_whitespace().collect();
    for expected in [
        "河源市人民政府办公室关于2026年第三季度",
        "一、总体情况",
        "二、发现的主要问题",
        "四、整改情况",
        "截至本期末，未下发整改任务。",
        "五、整改要求",
        "存在突出问题的政府网站和政务新媒体名单",
        "河源市社会保险基金管理局",
        "龙川县公共服务中心",
        "河源市生态环境局",
        "2026年10月20日前",
    ] {
        assert!(word.contains(expected), "the Word file shows {expected}");
    }

    // PDF by headless Chromium: every page that continues a table starts with a whole row.
    let (pdf, _) = report(&collector, &["--period", "2026Q3"], "pdf");
    assert!(pdf.starts_with(b"%PDF"));
    let pdf_path = collector.dir.join("通报.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();
    let pages = pdf_pages(&pdf_path, true);
    let raw_pages = pdf_pages(&pdf_path, false);
    let flat: String = raw_pages.concat().split_whitespace().collect();
    assert!(flat.contains("河源市社会保险基金管理局") && flat.contains("附件"));
    // A row split across pages would put its rest under the header the table repeats on the
    // next page: so each such page must start with a row's first line (its number).
    let mut continued = 0;
    let mut long_rows_across = std::collections::BTreeSet::new();
    for (index, (page, raw)) in pages.iter().zip(&raw_pages).enumerate() {
        let lines: Vec<&str> = page.lines().filter(|l| !l.trim().is_empty()).collect();
        // A table that runs on repeats its header at the top of the next page.
        if lines.first().is_some_and(|l| l.trim_start().starts_with("序号")) {
            continued += 1;
            let first_row = lines.get(1).map(|l| l.trim_start()).unwrap_or("");
            assert!(
                first_row.chars().next().is_some_and(|c| c.is_ascii_digit()),
                "page {} continues a table with a split row: {first_row:?}",
                index + 1
            );
        }
        // Pages holding the long cases (several lines each), so a split would have shown.
        if raw.contains("〔问题") {
            long_rows_across.insert(index);
        }
    }
    assert!(continued >= 2, "the long tables run across pages ({continued} continued)");
    assert!(long_rows_across.len() >= 2, "long cases on several pages: {long_rows_across:?}");
    assert!(written.problems > 0);
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_one_county_refusals_and_the_web_routes() {
    let (mut collector, _) = deployment();
    collector.start().await;
    let database = collector.dir.join("xunjian.db");

    // Sampling: judged at two dates, which the report states.
    let (xlsx, _) = report(&collector, &["--period", "2026Q3", "--at", "2026-08-15,2026-09-28"], "xlsx");
    let book = sheets(&xlsx);
    let (_, failed) = oracle(&database, "day IN ('2026-08-15', '2026-09-28')");
    let annex = sheet(&book, "附件");
    let numbered = annex.iter().filter(|r| matches!(r[0], Data::Float(_))).count() as i64;
    assert_eq!(numbered, failed, "the annex lists the subjects 不合格 at the sampling dates");
    assert!(
        annex.iter().any(|r| text(&r[0]) == "注：采样时间为2026年8月15日、9月28日。"),
        "the dates, as the seed writes them"
    );
    let ecology = annex.iter().find(|r| text(&r[2]) == "河源市生态环境局").expect("in the annex");
    assert_eq!(text(&ecology[4]), "互动功能不通畅", "sampling names problems without days");

    // One county: nothing of another county anywhere, in any format.
    let others = ["市直", "和平县", "紫金县", "全市", "河源市社会保险基金管理局"];
    let (xlsx, _) = report(&collector, &["--period", "2026Q3", "--county", "龙川县"], "xlsx");
    for (name, rows) in sheets(&xlsx) {
        for row in rows {
            for cell in row {
                let cell = text(&cell);
                for other in others {
                    assert!(!cell.contains(other), "{name}: {cell:?} names {other}");
                }
            }
        }
    }
    for format in ["md", "csv", "html"] {
        let (bytes, _) = report(&collector, &["--period", "2026Q3", "--county", " 龙川县 "], format);
        let body = String::from_utf8(bytes).unwrap();
        assert!(body.contains("龙川县"), "{format}");
        for other in others {
            assert!(!body.contains(other), "{format} names {other}");
        }
    }

    // Refusals: what to write instead, exit 2; PDF without Chromium says what to install.
    for (args, expected) in [
        (vec!["report", "--period", "2026Q9", "--out", "x"], "无法识别的时段"),
        (vec!["report", "--period", "2026Q3", "--at", "2026-03-01", "--out", "x"], "早于2026年第三季度的第一天"),
        (vec!["report", "--period", "2026Q1", "--at", "2026-03-01", "--out", "x"], "抽样日期 2026-03-01 没有巡检记录"),
        (vec!["report", "--period", "2026Q3", "--at", "2099-01-01", "--out", "x"], "晚于今天"),
        (vec!["report", "--period", "2099Q1", "--out", "x"], "尚未开始"),
        (vec!["report", "--period", "2025Q1", "--out", "x"], "没有巡检记录"),
        (vec!["report", "--period", "2026Q3", "--format", "pptx", "--out", "x"], "不支持的格式"),
    ] {
        let (code, _, stderr) = collector.cli(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let out = collector.dir.join("no-chromium.pdf");
    let output = Command::new(xunjian_tests::harness::binary("xunjian-collector"))
        .args(["report", "--config"])
        .arg(&collector.config)
        .args(["--period", "2026Q3", "--format", "pdf", "--out"])
        .arg(&out)
        .env("PATH", "/nonexistent")
        .env_remove("XUNJIAN_CHROMIUM")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("需要 Chromium") && stderr.contains("apt-get install chromium"), "{stderr}");
    assert!(!out.exists(), "no file on failure");

    // The web: the periods with data, each format as a download.
    let (status, content_type, page) = http_get(&format!("{}/report", collector.web), None).await;
    assert_eq!((status, content_type.as_str()), (200, "text/html; charset=utf-8"));
    for expected in ["2026年第三季度", "2026年第二季度", "2026年9月", "/api/v1/report?period=2026Q3&amp;format=docx"]
    {
        assert!(page.contains(expected), "/report lists {expected}");
    }
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let response =
        client.get(format!("{}/api/v1/report?period=2026Q3&format=xlsx", collector.web)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"xunjian-report-2026Q3.xlsx\""), "{disposition}");
    let bytes = response.bytes().await.unwrap();
    let from_web = sheets(&bytes);
    assert_eq!(
        sheet(&from_web, "附件").len(),
        sheet(&sheets(&report(&collector, &["--period", "2026Q3"], "xlsx").0), "附件").len()
    );
    let response = client
        .get(format!("{}/api/v1/report?period=2026Q3&format=html&county=%E9%BE%99%E5%B7%9D%E5%8E%BF", collector.web))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(response.text().await.unwrap().contains("龙川县政府网站及政务新媒体"));
    for (query, status, code) in [
        ("period=2026Q9", 400, "bad_request"),
        ("format=exe", 400, "bad_request"),
        ("period=2026Q3&colour=red", 400, "bad_request"),
        ("period=2026Q3&at=2026-02-30", 400, "bad_request"),
        ("period=2026Q3&at=2026-05-01", 400, "bad_request"),
        ("period=2026Q3&at=2099-05-01", 400, "bad_request"),
        ("period=2025Q1", 404, "no_data"),
    ] {
        let (got, _, body) = http_get(&format!("{}/api/v1/report?{query}", collector.web), None).await;
        assert_eq!(got, status, "{query}: {body}");
        let error: xunjian_shared::wire::ApiError = serde_json::from_str(&body).unwrap();
        assert_eq!(error.error, code, "{query}: {body}");
    }
    collector.stop().await;
}
