//! A real browser for tests: Debian's `chromium` driven by `chromedriver` (package
//! `chromium-driver`) over the W3C WebDriver protocol, which is plain JSON over HTTP on
//! loopback. Enough of it to log in, fill forms, upload a file, click, read the page and take
//! screenshots.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::measure::free_port;

/// WebDriver's key for an element reference in its answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session.
pub struct Browser {
    driver: tokio::process::Child,
    client: reqwest::Client,
    session: String,
}

impl Browser {
    /// Starts `chromedriver` on a free loopback port and a headless Chromium session with its
    /// profile under `dir`, a window of `width`×`height`.
    pub async fn start(dir: &Path, width: u32, height: u32) -> Browser {
        let port = free_port();
        let driver = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("run chromedriver (Debian package chromium-driver; .ci/run installs it)");
        let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().expect("client");
        let base = format!("http://127.0.0.1:{port}");
        crate::harness::wait_until(Duration::from_secs(20), "chromedriver to listen", || {
            let client = client.clone();
            let url = format!("{base}/status");
            async move {
                let status: Value =
                    serde_json::from_str(&client.get(url).send().await.ok()?.text().await.ok()?).ok()?;
                status["value"]["ready"].as_bool().filter(|ready| *ready)
            }
        })
        .await;
        let profile: PathBuf = dir.join("chromium-profile");
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--lang=zh-CN".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        // Downloads stay out of the way.
        args.push(format!("--download-default-directory={}", dir.join("downloads").display()));
        let mut options = json!({ "args": args });
        if Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let capabilities =
            json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": options } } });
        let created = client
            .post(format!("{base}/session"))
            .header("content-type", "application/json")
            .body(capabilities.to_string())
            .send()
            .await
            .expect("create a WebDriver session")
            .text()
            .await
            .expect("WebDriver answer");
        let created: Value = serde_json::from_str(&created).expect("WebDriver JSON");
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_string();
        Browser { driver, client, session: format!("{base}/session/{session}") }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.client.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let answer = request.send().await.expect("WebDriver request").text().await.expect("WebDriver answer");
        let answer: Value = serde_json::from_str(&answer).unwrap_or_else(|_| panic!("WebDriver {path}: {answer}"));
        if answer["value"].get("error").is_some() {
            panic!("WebDriver {path}: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    /// The address the browser is at.
    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_string()
    }

    /// The page's DOM as HTML.
    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap_or_default().to_string()
    }

    /// The first element matching `css`; panics naming it when there is none.
    pub async fn find(&self, css: &str) -> String {
        let found =
            self.call(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {found}")).to_string()
    }

    /// Whether any element matches `css`.
    pub async fn has(&self, css: &str) -> bool {
        let found =
            self.call(reqwest::Method::POST, "/elements", Some(json!({ "using": "css selector", "value": css }))).await;
        found.as_array().is_some_and(|all| !all.is_empty())
    }

    /// Types `text` into the element matching `css` (for a file input: the file's path).
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/value"), Some(json!({ "text": text }))).await;
    }

    /// Clicks the element matching `css` (a submit button: the next page loads before this returns).
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/click"), Some(json!({}))).await;
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{element}/text"), None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Logs in through the login form at `web` (the collector's base URL); returns once the
    /// browser has left the login page.
    pub async fn login(&self, web: &str, name: &str, password: &str) {
        self.goto(&format!("{web}/login")).await;
        self.type_into("input[name=name]", name).await;
        self.type_into("input[name=password]", password).await;
        self.click("button[type=submit]").await;
        self.wait_for_url(&format!("{name} logged in"), |url| !url.contains("/login")).await;
    }

    /// Waits (up to 15 s) until the address satisfies `wanted` (a form's answer can still be
    /// loading when a click returns); returns it.
    pub async fn wait_for_url(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let wanted = &wanted;
        crate::harness::wait_until(Duration::from_secs(15), what, || async move {
            let url = self.url().await;
            wanted(&url).then_some(url)
        })
        .await
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD.decode(encoded.as_str().unwrap_or_default()).expect("PNG base64")
    }

    /// Ends the session and the driver.
    pub async fn quit(mut self) {
        let _ = self.client.delete(&self.session).send().await;
        let _ = self.driver.kill().await;
    }
}
