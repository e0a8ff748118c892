//! A real browser for the console's tests: Debian's `chromedriver` on a free
//! loopback port, driving a headless Chromium with a temporary profile per
//! session, through `fantoccini` on a runtime of its own. The tests stay
//! synchronous: every step blocks on the runtime, so that a failing step
//! unwinds through plain `Drop`s, which take a last screenshot and then end
//! the browser and the driver (its whole process group) in every case.
//!
//! Without Chromium or its driver, [`Driver::start`] prints loudly that the
//! test is skipped and returns None; with `CI` set it panics instead, so CI
//! never skips (the rule of tests/support/pg.rs).
//!
//! Screenshots: `target/browser-artifacts/<scenario>-<page>.png`, one per
//! step that names a page, and `<scenario>-failure.png` when a step fails.
#![allow(dead_code)]

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a step waits for what it looks for (a page, an element, a text)
/// before it fails. Generous: the machine is shared and a debug build slow.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The desktop window of every scenario but the phone's.
pub const DESKTOP: (u32, u32) = (1280, 900);
/// A phone held upright (an iPhone 12-15's CSS pixels).
pub const PHONE: (u32, u32) = (390, 844);
/// The README's pictures: small files, still readable.
pub const README: (u32, u32) = (1000, 760);

/// Where the screenshots go: `target/browser-artifacts`.
pub fn artifacts() -> PathBuf {
    // CARGO_TARGET_TMPDIR is `<target>/tmp`, set for integration tests.
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target/tmp has a parent").join("browser-artifacts");
    std::fs::create_dir_all(&dir).expect("target/browser-artifacts can be created");
    dir
}

/// The binary at `var`, or at `default`; None when it is not there. `var`
/// set empty behaves as a machine without it (to try the skip path).
fn program(var: &str, default: &str) -> Option<PathBuf> {
    let path = match std::env::var_os(var) {
        Some(p) if p.is_empty() => return None,
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(default),
    };
    path.is_file().then_some(path)
}

/// A running chromedriver, and the runtime its sessions are driven on.
pub struct Driver {
    child: Child,
    url: String,
    chromium: PathBuf,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl Driver {
    /// Starts `chromedriver` (`PROCDSL_CHROMEDRIVER`, else
    /// /usr/bin/chromedriver) for Chromium (`PROCDSL_CHROMIUM`, else
    /// /usr/bin/chromium). `test` names the test in the skip note.
    pub fn start(test: &str) -> Option<Driver> {
        let driver = program("PROCDSL_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = program("PROCDSL_CHROMIUM", "/usr/bin/chromium");
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            let why = "Chromium and chromedriver are not both installed \
                       (apt-get install chromium chromium-driver; .ci/run does)";
            if std::env::var_os("CI").is_some() {
                panic!("{test}: {why}, and CI is set: the browser tests may not be skipped");
            }
            eprintln!("\n*** note: {test} skipped: {why} ***\n");
            return None;
        };
        // A free port: bound, read and let go (chromedriver cannot report one it chose).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group: Drop ends chromedriver and every Chromium it started at once.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{test}: cannot start {}: {e}", driver.display()));
        // Its first lines, read on a thread: a driver that says nothing must not hang the test.
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // Read to the end (and drop) after the first lines, so that it never blocks on a full pipe.
                let _ = tx.send(line);
            }
        });
        let mut said = String::new();
        let mut started = false;
        let deadline = Instant::now() + PATIENCE;
        while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            said.push_str(&line);
            said.push('\n');
            if line.contains("started successfully") {
                started = true;
                break;
            }
        }
        let runtime = Arc::new(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
        let driver_guard = Driver { child, url: format!("http://127.0.0.1:{port}"), chromium, runtime };
        assert!(started, "{test}: chromedriver did not start on port {port}; it said:\n{said}");
        Some(driver_guard)
    }

    /// A new browser (a Chromium with a fresh profile) for `scenario`, with
    /// a window of `size` CSS pixels, on the console at `base`
    /// (`http://127.0.0.1:PORT`).
    pub fn session(&self, scenario: &str, base: &str, size: (u32, u32)) -> Session {
        self.browser(scenario, base, size, &[])
    }

    /// As [`Driver::session`], with page scripts off (the pages must work
    /// without them). WebDriver's own scripts still run.
    pub fn session_without_javascript(&self, scenario: &str, base: &str, size: (u32, u32)) -> Session {
        self.browser(scenario, base, size, &["--blink-settings=scriptEnabled=false"])
    }

    fn browser(&self, scenario: &str, base: &str, size: (u32, u32), extra: &[&str]) -> Session {
        // A failure picture of an earlier run would tell of a failure this run did not have.
        let _ = std::fs::remove_file(artifacts().join(format!("{scenario}-failure.png")));
        let profile = tempfile::Builder::new().prefix("procdsl-chromium-").tempdir().unwrap();
        let args: Vec<String> = [
            "--headless=new".to_string(),
            "--no-sandbox".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-gpu".to_string(),
            "--no-first-run".to_string(),
            "--disable-extensions".to_string(),
            "--hide-scrollbars".to_string(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={},{}", size.0, size.1),
        ]
        .into_iter()
        .chain(extra.iter().map(|a| a.to_string()))
        .collect();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), json!({ "binary": self.chromium, "args": args }));
        let started = self.runtime.block_on(async {
            let builder = ClientBuilder::new(HttpConnector::new()).capabilities(capabilities).clone();
            tokio::time::timeout(PATIENCE * 3, builder.connect(&self.url)).await
        });
        let client = match started {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!("{scenario}: Chromium did not start: {e}"),
            Err(_) => panic!("{scenario}: Chromium did not start in {:?}", PATIENCE * 3),
        };
        let session = Session {
            runtime: self.runtime.clone(),
            client: Some(client),
            scenario: scenario.to_string(),
            base: base.trim_end_matches('/').to_string(),
            _profile: profile,
        };
        // The viewport, not the window: headless windows have no chrome around the page,
        // but say so by measuring rather than assuming.
        session.resize(size);
        session
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any Chromium a failed test left open.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

/// One browser, signed in or not, on the console.
pub struct Session {
    runtime: Arc<tokio::runtime::Runtime>,
    client: Option<Client>,
    scenario: String,
    base: String,
    _profile: tempfile::TempDir,
}

impl Session {
    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    fn block<T>(
        &self,
        what: &str,
        step: impl std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    ) -> T {
        match self.runtime.block_on(async { tokio::time::timeout(PATIENCE, step).await }) {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => panic!("{}: {what}: {e}", self.scenario),
            Err(_) => panic!("{}: {what}: no answer in {PATIENCE:?}", self.scenario),
        }
    }

    /// Sets the viewport (what `innerWidth`/`innerHeight` say) to `size`.
    pub fn resize(&self, size: (u32, u32)) {
        self.block("sizing the window", self.client().set_window_size(size.0, size.1));
        let inner = self.js("return [window.innerWidth, window.innerHeight]");
        let (w, h) = (inner[0].as_u64().unwrap_or(0) as u32, inner[1].as_u64().unwrap_or(0) as u32);
        if (w, h) != size && w > 0 && h > 0 {
            // The window has a frame after all: grow it by the difference.
            let outer = (size.0 + size.0.saturating_sub(w), size.1 + size.1.saturating_sub(h));
            self.block("sizing the window again", self.client().set_window_size(outer.0, outer.1));
        }
    }

    /// Opens `path` of the console (`/tasks`) and waits for the page.
    pub fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.block(&format!("opening {url}"), self.client().goto(&url));
    }

    /// Opens any URL (not only the console's).
    pub fn goto_url(&self, url: &str) {
        self.block(&format!("opening {url}"), self.client().goto(url));
    }

    /// The page's title.
    pub fn title(&self) -> String {
        self.block("reading the title", self.client().title())
    }

    /// The path (and query) of the page shown now.
    pub fn path(&self) -> String {
        let url = self.block("reading the URL", self.client().current_url());
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// The element `css` selects, waited for.
    pub fn find(&self, css: &str) -> Element {
        let wait = self.client().wait().at_most(PATIENCE).every(Duration::from_millis(50));
        self.block(&format!("finding {css} on {}", self.path()), wait.for_element(Locator::Css(css)))
    }

    /// Every element `css` selects now (maybe none: no waiting).
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.block(&format!("finding all of {css}"), self.client().find_all(Locator::Css(css)))
    }

    /// Whether `css` selects something now.
    pub fn has(&self, css: &str) -> bool {
        !self.find_all(css).is_empty()
    }

    /// Follows the link whose text contains `text`.
    pub fn click_link(&self, text: &str) {
        let xpath = format!("//a[contains(normalize-space(.), '{text}')]");
        let wait = self.client().wait().at_most(PATIENCE).every(Duration::from_millis(50));
        let link = self
            .block(&format!("finding a link {text:?} on {}", self.path()), wait.for_element(Locator::XPath(&xpath)));
        self.block(&format!("following the link {text:?}"), link.click());
    }

    /// Waits until `css` selects nothing (the page moved on).
    pub fn wait_gone(&self, css: &str) {
        let started = Instant::now();
        while self.has(css) {
            assert!(started.elapsed() < PATIENCE, "{}: {css} is still on {}", self.scenario, self.path());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the checkbox `css` is checked.
    pub fn selected(&self, css: &str) -> bool {
        let element = self.find(css);
        self.block(&format!("reading whether {css} is checked"), element.is_selected())
    }

    /// The outer HTML of `element`.
    pub fn html_of(&self, element: &Element) -> String {
        self.block("reading an element's HTML", element.html(false))
    }

    /// An attribute of `element`.
    pub fn attr_of(&self, element: &Element, name: &str) -> Option<String> {
        self.block(&format!("reading {name}"), element.attr(name))
    }

    /// Replaces what the field `css` holds with `text`, typed.
    pub fn fill(&self, css: &str, text: &str) {
        let field = self.find(css);
        self.block(&format!("clearing {css}"), field.clear());
        self.block(&format!("typing into {css}"), field.send_keys(text));
    }

    /// Clicks `css`.
    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.block(&format!("clicking {css}"), element.click());
    }

    /// Sends keys to whatever has the focus (see `fantoccini::key::Key`).
    pub fn keys(&self, keys: &str) {
        let focused = self.block("finding the focused element", self.client().active_element());
        self.block("typing", focused.send_keys(keys));
    }

    /// The element with the focus, as `tag#id[name]`, to say where it is.
    pub fn focused(&self) -> String {
        self.js(
            "const e = document.activeElement; \
             return e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : '') : ''",
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The visible text of `css`.
    pub fn text(&self, css: &str) -> String {
        let element = self.find(css);
        self.block(&format!("reading the text of {css}"), element.text())
    }

    /// An attribute of `css`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let element = self.find(css);
        self.block(&format!("reading {name} of {css}"), element.attr(name))
    }

    /// What the field `css` holds now (its `value` property, not the attribute).
    pub fn value(&self, css: &str) -> String {
        let element = self.find(css);
        self.block(&format!("reading the value of {css}"), element.prop("value")).unwrap_or_default()
    }

    /// How wide the page is (`document.documentElement.scrollWidth`) and
    /// how wide the viewport (`innerWidth`): the first larger means the page
    /// scrolls sideways.
    pub fn widths(&self) -> (u64, u64) {
        let sizes = self.js("return [document.documentElement.scrollWidth, window.innerWidth]");
        (sizes[0].as_u64().unwrap_or(0), sizes[1].as_u64().unwrap_or(0))
    }

    /// Runs `script` in the page (a function body: `return …`).
    pub fn js(&self, script: &str) -> Value {
        self.block("running a script", self.client().execute(script, vec![]))
    }

    /// Waits until the text of `css` contains `wanted`, and gives the text.
    pub fn wait_text(&self, css: &str, wanted: &str) -> String {
        let started = Instant::now();
        loop {
            let now = self.find_all(css);
            let text = match now.first() {
                Some(e) => self.runtime.block_on(e.text()).unwrap_or_default(),
                None => String::new(),
            };
            if text.contains(wanted) {
                return text;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "{}: {css} on {} says {text:?}, not {wanted:?}, after {PATIENCE:?}",
                self.scenario,
                self.path()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the page shown is at a path that starts with `prefix`.
    pub fn wait_path(&self, prefix: &str) -> String {
        let started = Instant::now();
        loop {
            let path = self.path();
            if path.starts_with(prefix) {
                return path;
            }
            assert!(started.elapsed() < PATIENCE, "{}: still on {path}, not on {prefix}…", self.scenario);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Saves a screenshot of what the browser shows as
    /// `target/browser-artifacts/<scenario>-<page>.png`, and gives its path.
    pub fn shot(&self, page: &str) -> PathBuf {
        let png = self.block(&format!("taking a screenshot of {page}"), self.client().screenshot());
        let path = artifacts().join(format!("{}-{page}.png", self.scenario));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// Signs in on the console's sign-in page (`form#signin`) as `user`.
    pub fn sign_in(&self, user: &str, password: &str) {
        self.goto("/");
        self.find("form#signin");
        self.fill("[name=UserName]", user);
        self.fill("[name=UserPassword]", password);
        self.click("#signin-submit");
        let started = Instant::now();
        while self.has("form#signin") {
            let error = self.find_all("#signin-error");
            if let Some(e) = error.first() {
                let text = self.runtime.block_on(e.text()).unwrap_or_default();
                assert!(text.trim().is_empty(), "{}: signing in as {user}: {text}", self.scenario);
            }
            assert!(started.elapsed() < PATIENCE, "{}: still on the sign-in page as {user}", self.scenario);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Ends the session normally (Drop does it too, also after a failure).
    pub fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(async { tokio::time::timeout(PATIENCE, client.close()).await });
        }
    }
}

/// Clicks `css` in both sessions at once (both requests in flight
/// together), for races between two people.
pub fn click_together(a: &Session, b: &Session, css: &str) {
    let (first, second) = (a.find(css), b.find(css));
    let both = a.runtime.block_on(async {
        tokio::time::timeout(PATIENCE, async { tokio::join!(first.click(), second.click()) }).await
    });
    match both {
        Ok((Ok(()), Ok(()))) => {}
        Ok((first, second)) => panic!("{}/{}: clicking {css} together: {first:?}, {second:?}", a.scenario, b.scenario),
        Err(_) => panic!("{}/{}: clicking {css} together: no answer in {PATIENCE:?}", a.scenario, b.scenario),
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        if std::thread::panicking() {
            // The page the failure left: a picture, and where it was.
            let shot = self.runtime.block_on(async { tokio::time::timeout(PATIENCE, client.screenshot()).await });
            let path = artifacts().join(format!("{}-failure.png", self.scenario));
            if let Ok(Ok(png)) = shot {
                if std::fs::write(&path, png).is_ok() {
                    eprintln!("{}: the page at the failure: {}", self.scenario, path.display());
                }
            }
            let url = self.runtime.block_on(async { tokio::time::timeout(PATIENCE, client.current_url()).await });
            if let Ok(Ok(url)) = url {
                eprintln!("{}: the failure was on {url}", self.scenario);
            }
        }
        let _ = self.runtime.block_on(async { tokio::time::timeout(PATIENCE, client.close()).await });
    }
}
