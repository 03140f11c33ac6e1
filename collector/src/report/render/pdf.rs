//! PDF: the HTML page printed by headless Chromium (A4, tables never split a row). Chromium
//! is found as `XUNJIAN_CHROMIUM`, or `chromium`, `chromium-browser`, `google-chrome` on PATH;
//! without it the error says what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::time::{Duration, Instant};

use crate::report::ReportError;
use crate::report::model::Report;

/// Longest a print may take before it is abandoned.
const PRINT_TIMEOUT: Duration = Duration::from_secs(180);

const BROWSERS: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

pub fn render(report: &Report) -> Result<Vec<u8>, ReportError> {
    let html = super::html::render(report);
    print(&html)
}

/// The Chromium to print with, if any.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("XUNJIAN_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| BROWSERS.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Prints `html` (a self-contained page) to PDF bytes.
pub fn print(html: &str) -> Result<Vec<u8>, ReportError> {
    let chromium = find_chromium().ok_or_else(|| {
        ReportError::NoChromium(
            "生成 PDF 需要 Chromium，但未找到 chromium、chromium-browser 或 google-chrome：请安装（Debian/Ubuntu：apt-get install chromium），或用环境变量 XUNJIAN_CHROMIUM 指定其路径；也可改用 --format html 后在浏览器中打印为 PDF"
                .to_string(),
        )
    })?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let dir = std::env::temp_dir().join(format!("xunjian-report-{}-{stamp}", std::process::id()));
    let result = print_in(&chromium, &dir, html);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn print_in(chromium: &Path, dir: &Path, html: &str) -> Result<Vec<u8>, ReportError> {
    let failed = |what: String| ReportError::Render(format!("PDF 生成失败：{what}"));
    std::fs::create_dir_all(dir).map_err(|e| failed(format!("无法创建临时目录 {}：{e}", dir.display())))?;
    let page = dir.join("report.html");
    let pdf = dir.join("report.pdf");
    std::fs::write(&page, html).map_err(|e| failed(format!("无法写入 {}：{e}", page.display())))?;
    let log_path = dir.join("chromium.log");
    let log = std::fs::File::create(&log_path).map_err(|e| failed(format!("无法写入 {}：{e}", log_path.display())))?;
    let mut command = Command::new(chromium);
    command.args([
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-pdf-header-footer",
        "--print-to-pdf-no-header",
        // Tagging (the accessibility tree) doubles the print time and makes the file 14 times
        // larger on a province's report; the Word draft is the document people edit and read.
        "--disable-pdf-tagging",
    ]);
    if running_as_root() {
        // Chromium refuses to start its sandbox as root; the page is our own, without script.
        command.arg("--no-sandbox");
    }
    command
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(
            url::Url::from_file_path(&page).map(String::from).unwrap_or_else(|()| format!("file://{}", page.display())),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    let mut child = command.spawn().map_err(|e| failed(format!("无法启动 {}：{e}", chromium.display())))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > PRINT_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!("Chromium 超过 {} 秒未完成打印，已终止", PRINT_TIMEOUT.as_secs())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(failed(format!("等待 Chromium 时出错：{e}"))),
        }
    };
    let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
    let bytes = std::fs::read(&pdf).unwrap_or_default();
    if !status.success() || !bytes.starts_with(b"%PDF") {
        let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" / ");
        return Err(failed(format!("Chromium（{}）退出状态 {status}：{tail}", chromium.display())));
    }
    Ok(bytes)
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|line| line.starts_with("Uid:")).map(|line| line.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}
