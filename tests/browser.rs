//! The web console in a real Chromium (issue 14): a person signs in, starts
//! `examples/approval.proc` from its form, finds the task, decides, and sees
//! the path the instance took; a bad value, two people on one task, a page
//! that updates itself, pages without scripts, the keyboard alone, a
//! phone's width. Each test starts the real `procdsl
//! serve` and its own chromedriver (tests/browser_support), and drives the
//! pages only by the hooks docs/CONSOLE.md lists. Screenshots of every
//! page land in target/browser-artifacts/.
//!
//! Without Chromium these tests say they skipped and pass; with `CI` set
//! they fail instead. `PROCDSL_README_SHOTS=1` also writes the README's
//! pictures (docs/images/console-*.png).

mod browser_support;
mod service_support;

use browser_support::{Driver, Session, DESKTOP, PHONE, README};
use fantoccini::key::Key;
use serde_json::json;
use service_support::Server;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One Chromium at a time: the machines these run on have two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const PASSWORD: &str = "correct horse";

/// `procdsl serve examples/approval.proc` with two people: Ada, a `user`,
/// and Grace, an `operator`.
struct Console {
    server: Server,
    _dir: tempfile::TempDir,
}

impl Console {
    fn start() -> Console {
        let dir = tempfile::tempdir().unwrap();
        let hash = procdsl::service::auth::hash_password(PASSWORD).unwrap();
        let users = json!({"users": [
            {"name": "Ada", "password": hash, "roles": ["user"]},
            {"name": "Grace", "password": hash, "roles": ["operator"]},
        ]});
        let file = dir.path().join("users.json");
        std::fs::write(&file, users.to_string()).unwrap();
        let procs = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/approval.proc");
        let server = service_support::start_serving(&procs, dir.path(), &["--users", file.to_str().unwrap()]);
        Console { server, _dir: dir }
    }

    fn base(&self) -> String {
        format!("http://{}", self.server.addr)
    }
}

/// The browser, the service, and the lock that keeps the tests apart; None
/// when the machine has no Chromium (the test then passes, saying so).
fn setup(test: &str) -> Option<(std::sync::MutexGuard<'static, ()>, Driver, Console)> {
    let lock = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let driver = Driver::start(test)?;
    Some((lock, driver, Console::start()))
}

/// From the processes list to UsrApproval's page, by the link a person would follow.
fn open_approval(s: &Session) {
    s.click("#nav-processes");
    s.click("tr.process[data-code='UsrApproval'] a.process-link");
    s.find("form#start");
}

/// Starts UsrApproval with `amount` from its form; gives the new instance's page path.
fn start_approval(s: &Session, amount: &str) -> String {
    open_approval(s);
    s.fill("form#start [name=Amount]", amount);
    s.click("#start-submit");
    instance_page(s)
}

/// Waits for an instance page; gives its path without the query.
fn instance_page(s: &Session) -> String {
    let path = s.wait_path("/instances/");
    s.find("body[data-page='instance']");
    path.split('?').next().unwrap().to_string()
}

/// The UId of the waiting task of the instance at `instance` (a page path),
/// read from the tasklist's row for it.
fn task_of(s: &Session, instance: &str) -> String {
    s.click("#nav-tasks");
    s.find("body[data-page='tasks']");
    let id = instance.rsplit('/').next().unwrap();
    s.attr(&format!("tr.task[data-instance='{id}']"), "data-uid").expect("a task row has data-uid")
}

/// Opens the form of task `uid` from its tasklist row.
fn open_task(s: &Session, uid: &str) {
    s.click("#nav-tasks");
    s.click(&format!("tr.task[data-uid='{uid}'] a.task-link"));
    s.find(&format!("form#task-{uid}"));
}

/// The harness itself, on a page that is not the console's: Chromium
/// starts, loads, runs a script and takes a picture.
#[test]
fn the_harness_drives_chromium() {
    let Some((_lock, driver, console)) = setup("the_harness_drives_chromium") else {
        return;
    };
    let s = driver.session("harness", &console.base(), DESKTOP);
    s.goto("/health");
    assert!(s.text("body").contains("\"ok\""), "{}", s.text("body"));
    let inner = s.js("return [window.innerWidth, window.innerHeight]");
    assert_eq!(inner, json!([DESKTOP.0, DESKTOP.1]), "the viewport is the size asked for");
    let png = std::fs::read(s.shot("health")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
    // The phone test's measure sees a page wider than its viewport.
    let (scroll, inner) = s.widths();
    assert!(scroll <= inner, "/health is {scroll} px wide in {inner}");
    s.js("const d = document.createElement('div'); d.style.width = '2000px'; d.textContent = 'wide'; document.body.append(d)");
    let (scroll, inner) = s.widths();
    assert!(scroll > inner, "a 2000 px element, yet {scroll} px wide in {inner}");
    s.close();
}

#[test]
fn approval_from_its_start_form_to_completed_with_the_path() {
    let Some((_lock, driver, console)) = setup("approval_from_its_start_form_to_completed_with_the_path") else {
        return;
    };
    let s = driver.session("approval", &console.base(), DESKTOP);

    // Not signed in: any page leads to the sign-in form.
    s.goto("/tasks");
    s.find("form#signin");
    s.shot("signin");
    s.sign_in("Ada", PASSWORD);
    s.shot("home");

    open_approval(&s);
    s.shot("start-form");
    s.fill("form#start [name=Amount]", "5000");
    s.click("#start-submit");
    let instance = instance_page(&s);
    s.wait_text("#status", "Waiting");
    assert!(s.has("#picture .pd-element.waiting[data-element='Approve']"), "Approve is not marked waiting");
    s.shot("instance-waiting");

    let uid = task_of(&s, &instance);
    let row = s.text(&format!("tr.task[data-uid='{uid}']"));
    assert!(row.contains("Approve the order"), "the task row shows its caption: {row:?}");
    s.shot("tasklist");

    open_task(&s, &uid);
    s.shot("task-form");
    let decision = format!("form#task-{uid} [name=Decision]");
    if !s.selected(&decision) {
        s.click(&decision);
    }
    s.fill(&format!("form#task-{uid} [name=Comment]"), "fine by me");
    s.click(&format!("form#task-{uid} [type=submit]"));
    s.wait_gone(&format!("form#task-{uid}"));
    s.shot("task-done");

    s.goto(&instance);
    let status = s.wait_text("#status", "Completed");
    assert!(!status.contains("Running"), "{status}");
    s.shot("instance-completed");
    // The picture marks the path: the start, the gateway, the task, the end;
    // not Auto, the other way, which is drawn untouched.
    for passed in ["Begin", "Route", "Approve", "Done"] {
        assert!(
            s.has(&format!("#picture .pd-element.passed[data-element='{passed}']")),
            "{passed} is not marked passed in #picture"
        );
    }
    assert!(s.has("#picture .pd-element[data-element='Auto']"), "Auto is in the picture");
    assert!(!s.has("#picture .pd-element.passed[data-element='Auto']"), "Auto is marked passed but was not");
    assert!(s.has("#picture .pd-element.untouched[data-element='Auto']"), "Auto is not drawn untouched");
    assert!(!s.has("#picture .pd-element.waiting"), "a completed instance waits nowhere");
    let approved = s.text("#parameters tr[data-param='Approved']");
    assert!(approved.contains("true"), "Approved: {approved}");
    let note = s.text("#parameters tr[data-param='Note']");
    assert!(note.contains("fine by me"), "Note: {note}");

    // The instances list has it, Completed.
    s.click("#nav-instances");
    let id = instance.rsplit('/').next().unwrap();
    let listed = s.attr(&format!("tr.instance[data-id='{id}']"), "data-status");
    assert_eq!(listed.as_deref(), Some("Completed"), "the instances list's row of {id}");
    s.shot("instances");

    // Signing out ends the session: the next page asks to sign in again.
    s.click("#signout");
    s.find("form#signin");
    s.goto(&instance);
    s.find("form#signin");
    s.shot("signed-out");
    s.close();
}

#[test]
fn a_bad_value_is_shown_at_its_field_and_what_was_typed_is_kept() {
    let Some((_lock, driver, console)) = setup("a_bad_value_is_shown_at_its_field_and_what_was_typed_is_kept") else {
        return;
    };
    let s = driver.session("bad-value", &console.base(), DESKTOP);
    s.sign_in("Ada", PASSWORD);
    open_approval(&s);
    let before = s.path();
    s.fill("form#start [name=Amount]", "12,5 euros");
    s.shot("start-form-typed");
    s.click("#start-submit");
    let error = s.wait_text("#error-Amount", "Decimal");
    s.shot("start-form-error");
    assert!(!s.path().starts_with("/instances/"), "a bad value started an instance (from {before})");
    assert_eq!(s.value("form#start [name=Amount]"), "12,5 euros", "the typed value is kept");
    assert_eq!(s.attr("form#start [name=Amount]", "aria-invalid").as_deref(), Some("true"));
    assert!(error.contains("Decimal"), "{error}");

    // Corrected, the same form starts the instance.
    s.fill("form#start [name=Amount]", "12.5");
    s.click("#start-submit");
    s.wait_path("/instances/");
    s.wait_text("#status", "Completed");
    s.close();
}

#[test]
fn two_people_submit_one_task_and_the_second_is_told_it_was_already_executed() {
    let Some((_lock, driver, console)) = setup("two_people_submit_one_task") else {
        return;
    };
    let ada = driver.session("two-sessions-ada", &console.base(), DESKTOP);
    let grace = driver.session("two-sessions-grace", &console.base(), DESKTOP);
    ada.sign_in("Ada", PASSWORD);
    grace.sign_in("Grace", PASSWORD);
    let instance = start_approval(&ada, "5000");
    let uid = task_of(&ada, &instance);

    // Both have the form open before either submits.
    open_task(&ada, &uid);
    open_task(&grace, &uid);
    ada.shot("task-form");
    grace.shot("task-form");
    let form = format!("form#task-{uid}");
    grace.click(&format!("{form} [name=Decision]"));
    ada.click(&format!("{form} [type=submit]"));
    ada.wait_gone(&form);
    ada.shot("submitted");
    grace.click(&format!("{form} [type=submit]"));
    let told = grace.wait_text("#message", "already executed");
    grace.shot("already-executed");
    assert!(!told.contains("500"), "{told}");

    // Ada's decision (Decision unchecked: false) stands, not Grace's.
    ada.goto(&instance);
    ada.wait_text("#status", "Completed");
    let approved = ada.text("#parameters tr[data-param='Approved']");
    assert!(approved.contains("false"), "Approved should be Ada's false, not Grace's true: {approved}");

    // Again, both clicking at the same moment: still exactly one wins.
    let instance = start_approval(&ada, "5000");
    let uid = task_of(&ada, &instance);
    open_task(&ada, &uid);
    open_task(&grace, &uid);
    let form = format!("form#task-{uid}");
    grace.click(&format!("{form} [name=Decision]"));
    browser_support::click_together(&ada, &grace, &format!("{form} [type=submit]"));
    // Each page has moved on: the task done (its form gone), or told it was done already.
    let told = |s: &Session| s.has("#message") && s.text("#message").contains("already executed");
    let settled = |s: &Session| {
        let started = std::time::Instant::now();
        while s.has(&form) && !told(s) {
            assert!(started.elapsed() < browser_support::PATIENCE, "the submit led nowhere: {}", s.path());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        told(s)
    };
    let (ada_told, grace_told) = (settled(&ada), settled(&grace));
    ada.shot("together");
    grace.shot("together");
    assert!(ada_told != grace_told, "exactly one is told (Ada: {ada_told}, Grace: {grace_told})");
    ada.goto(&instance);
    ada.wait_text("#status", "Completed");
    let approved = ada.text("#parameters tr[data-param='Approved']");
    let winner = if ada_told { "true" } else { "false" };
    assert!(approved.contains(winner), "Approved should be the winner's {winner}: {approved}");
    ada.close();
    grace.close();
}

#[test]
fn an_open_instance_page_updates_itself_when_its_task_is_done_elsewhere() {
    let Some((_lock, driver, console)) = setup("an_open_instance_page_updates_itself") else {
        return;
    };
    let ada = driver.session("live-ada", &console.base(), DESKTOP);
    let grace = driver.session("live-grace", &console.base(), DESKTOP);
    ada.sign_in("Ada", PASSWORD);
    grace.sign_in("Grace", PASSWORD);
    let instance = start_approval(&ada, "5000");
    let uid = task_of(&ada, &instance);

    // Grace watches the instance; Ada decides in her own browser.
    grace.goto(&instance);
    grace.wait_text("#status", "Waiting");
    open_task(&ada, &uid);
    ada.click(&format!("form#task-{uid} [name=Decision]"));
    ada.click(&format!("form#task-{uid} [type=submit]"));
    ada.wait_gone(&format!("form#task-{uid}"));

    // Nobody touches Grace's browser: its page finds out by itself.
    grace.wait_text("#status", "Completed");
    assert_eq!(grace.path(), instance, "Grace's browser stayed on the instance page");
    assert!(grace.has("#picture .pd-element.passed[data-element='Approve']"), "the new page shows the path");
    grace.shot("updated");
    ada.close();
    grace.close();
}

#[test]
fn without_javascript_the_pages_work_and_the_refresh_link_shows_a_change() {
    let Some((_lock, driver, console)) = setup("without_javascript") else {
        return;
    };
    let s = driver.session_without_javascript("no-javascript", &console.base(), DESKTOP);
    // Page scripts are really off: an inline script (no policy on a data: URL) does not run.
    s.goto_url("data:text/html,<title>before</title><script>document.title='ran'</script>");
    assert_eq!(s.title(), "before", "page scripts run although they were turned off");

    // Sign-in, start form, tasklist and task form are plain HTML forms and links.
    s.sign_in("Ada", PASSWORD);
    let instance = start_approval(&s, "5000");
    s.wait_text("#status", "Waiting");
    let uid = task_of(&s, &instance);
    open_task(&s, &uid);
    s.goto(&instance);

    // Someone else decides; without the script this page does not know until asked.
    let grace = driver.session("no-javascript-grace", &console.base(), DESKTOP);
    grace.sign_in("Grace", PASSWORD);
    open_task(&grace, &uid);
    grace.click(&format!("form#task-{uid} [type=submit]"));
    grace.wait_gone(&format!("form#task-{uid}"));
    grace.close();
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(s.text("#status").contains("Waiting"), "the page changed by itself without scripts");
    s.click("#refresh");
    s.wait_text("#status", "Completed");
    s.shot("instance-refreshed");
    s.close();
}

#[test]
fn the_keyboard_alone_reaches_the_start_form_and_submits_it_with_enter() {
    let Some((_lock, driver, console)) = setup("the_keyboard_alone_reaches_the_start_form") else {
        return;
    };
    let s = driver.session("keyboard", &console.base(), DESKTOP);
    s.sign_in("Ada", PASSWORD);
    open_approval(&s);
    // A fresh load: the focus starts at the top of the page.
    s.goto(&s.path());
    s.keys(&Key::Tab.to_string());
    let skip = s.js("return document.activeElement.getAttribute('href')");
    assert_eq!(skip, json!("#main"), "the first Tab stop is the skip link to <main id=main>");

    // Tab from the top of the page until the focus is in Amount; no mouse.
    let mut stops = Vec::new();
    while s.focused() != "input#field-Amount[name=Amount]" {
        assert!(stops.len() < 60, "Tab never reached Amount; it went {stops:?}");
        s.keys(&Key::Tab.to_string());
        stops.push(s.focused());
    }
    let outline = s.js("const st = getComputedStyle(document.activeElement); \
         return [st.outlineStyle, st.outlineWidth, st.boxShadow]");
    let visible = outline[0] != "none" && outline[1] != "0px" || outline[2] != "none";
    assert!(visible, "the focused field shows no focus (outline, width, shadow): {outline}");
    s.shot("focus-on-amount");
    s.keys(&(Key::Control + "a"));
    s.keys(&format!("20{}", Key::Enter));
    s.wait_path("/instances/");
    s.wait_text("#status", "Completed");
    s.shot("submitted-with-enter");
    s.close();
}

#[test]
fn at_a_phones_width_the_tasklist_fits_without_scrolling_sideways() {
    let Some((_lock, driver, console)) = setup("at_a_phones_width_the_tasklist_fits") else {
        return;
    };
    let s = driver.session("phone", &console.base(), PHONE);
    s.sign_in("Ada", PASSWORD);
    let instance = start_approval(&s, "5000");
    s.wait_text("#status", "Waiting");
    task_of(&s, &instance);
    let fits = |s: &Session, page: &str| {
        let (scroll, inner) = s.widths();
        s.shot(page);
        assert_eq!(inner, u64::from(PHONE.0), "the viewport is a phone's");
        assert!(scroll <= inner, "the {page} is {scroll} px wide in a {inner} px viewport");
    };
    fits(&s, "tasklist");
    // The other pages a phone user meets, wide picture included.
    s.goto(&instance);
    s.find("#picture");
    fits(&s, "instance");
    s.click("#nav-processes");
    s.find("body[data-page='processes']");
    fits(&s, "processes");
    s.close();
}

/// The README's pictures, 1000 px wide: the tasklist, a start form, an
/// instance with its path. Always taken (as artifacts); copied into
/// docs/images/ only with `PROCDSL_README_SHOTS=1`.
#[test]
fn readme_pictures() {
    let Some((_lock, driver, console)) = setup("readme_pictures") else {
        return;
    };
    let s = driver.session("readme", &console.base(), README);
    s.sign_in("Ada", PASSWORD);
    for amount in ["2500", "7200"] {
        start_approval(&s, amount);
    }
    let instance = start_approval(&s, "5000");
    let uid = task_of(&s, &instance);
    let tasklist = s.shot("tasklist");
    open_approval(&s);
    s.fill("form#start [name=Amount]", "5000");
    let start = s.shot("start-form");
    open_task(&s, &uid);
    s.click(&format!("form#task-{uid} [name=Decision]"));
    s.fill(&format!("form#task-{uid} [name=Comment]"), "within budget");
    s.click(&format!("form#task-{uid} [type=submit]"));
    s.wait_gone(&format!("form#task-{uid}"));
    s.goto(&instance);
    s.wait_text("#status", "Completed");
    let done = s.shot("instance");
    s.close();

    if std::env::var_os("PROCDSL_README_SHOTS").is_some() {
        let images = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/images");
        std::fs::create_dir_all(&images).unwrap();
        for (shot, name) in [(tasklist, "tasklist"), (start, "start-form"), (done, "instance")] {
            std::fs::copy(&shot, images.join(format!("console-{name}.png"))).unwrap();
        }
    }
}

/// The README shows the pictures `readme_pictures` takes: each is there,
/// a PNG, and small (the window is 1000 px wide).
#[test]
fn the_readmes_console_pictures_are_there_and_small() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for name in ["tasklist", "start-form", "instance"] {
        let file = format!("docs/images/console-{name}.png");
        assert!(readme.contains(&format!("]({file})")), "README.md does not show {file}");
        let png = std::fs::read(root.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "{file} is not a PNG");
        assert!(png.len() < 150_000, "{file} is {} bytes", png.len());
        // The IHDR chunk: width, big-endian, at bytes 16..20.
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(width, README.0, "{file} is {width} px wide");
    }
}
