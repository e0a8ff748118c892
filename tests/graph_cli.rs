//! `procdsl graph`: a process drawn as SVG (by procdsl), Mermaid or
//! Graphviz, with gateway conditions and `on error` flows on the arrows;
//! with `--instance`, the path a stored instance took, on SQLite and
//! PostgreSQL.
//!
//! The SVG of each example in [`GOLDEN`] is compared with
//! `tests/graph/NAME.svg`; `PROCDSL_BLESS=1 cargo test --test graph_cli`
//! rewrites them (review the pictures before committing).

#[cfg(feature = "postgres")]
#[path = "support/pg.rs"]
mod pg;

use std::path::Path;
use std::process::{Command, Output};

/// Examples whose SVG is kept as a golden file: (file, process).
const GOLDEN: &[(&str, Option<&str>)] = &[
    ("approval", None),
    ("order_approval", None),
    ("payment_retry", None),
    ("parallel_checks", None),
    ("contract_review", Some("UsrContractReview")),
];

fn procdsl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("PROCDSL_STORE")
        .output()
        .expect("the binary runs")
}

fn graph(args: &[&str]) -> Output {
    let mut all = vec!["graph"];
    all.extend_from_slice(args);
    procdsl(&all)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The SVG, checked to be well-formed XML with the picture's framing.
fn svg_of(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(out);
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("not well-formed: {e}\n{text}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("role"), Some("img"));
    assert!(root.attribute("viewBox").is_some());
    let children: Vec<&str> = root.children().filter(|n| n.is_element()).map(|n| n.tag_name().name()).collect();
    assert_eq!(&children[..2], ["title", "desc"], "{children:?}");
    text
}

/// The `<g>` groups of a class, by the text of their `<title>`.
fn groups(svg: &str, class: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class").is_some_and(|c| c.split(' ').any(|c| c == class)))
        .map(|g| {
            let title = g.children().find(|c| c.has_tag_name("title")).and_then(|t| t.text()).unwrap_or_default();
            let fill = g.children().find(|c| c.is_element() && c.attribute("fill").is_some());
            (title.to_string(), fill.and_then(|f| f.attribute("stroke")).unwrap_or_default().to_string())
        })
        .collect()
}

#[test]
fn mermaid_shows_every_element_and_the_conditions() {
    let out = graph(&["examples/approval.proc"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("flowchart LR"), "{text}");
    for node in [
        r#"e0(("start Begin"))"#,
        r#"e1{"exclusive Route"}"#,
        r#"e2(["user Approve<br/>Approve the order"])"#,
        r#"e4(("end Done"))"#,
    ] {
        assert!(text.contains(node), "missing {node} in\n{text}");
    }
    assert!(text.contains(r#"e1 -->|"Amount > 1000"| e2"#), "{text}");
    assert!(text.contains(r#"e1 -->|"else"| e3"#), "{text}");
}

#[test]
fn dot_shows_calls_and_error_flows() {
    let out = graph(&["examples/order_approval.proc", "--format", "dot"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("digraph \"UsrOrderApproval\" {"), "{text}");
    assert!(text.contains("call Ship\\n→ UsrShipOrder"), "{text}");
    assert!(text.contains("[label=\"on error\", style=dashed]"), "{text}");
    assert!(text.trim_end().ends_with('}'));
}

#[test]
fn unknown_formats_and_processes_are_refused() {
    let out = graph(&["examples/approval.proc", "--format", "png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use svg, mermaid or dot"));
    let out = graph(&["examples/approval.proc", "--process", "UsrApprovl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `UsrApproval`"));
    // --instance needs a store, and takes no file.
    let out = graph(&["--instance", "abc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--store"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_svg_of_each_example_matches_its_golden_file() {
    let bless = std::env::var_os("PROCDSL_BLESS").is_some();
    let mut failed = Vec::new();
    for (name, process) in GOLDEN {
        let file = format!("examples/{name}.proc");
        let mut args = vec![file.as_str(), "--format", "svg"];
        if let Some(p) = process {
            args.extend(["--process", p]);
        }
        let svg = svg_of(&graph(&args));
        // Stable: a second run gives the same bytes.
        assert_eq!(svg, svg_of(&graph(&args)), "{name}: two runs differ");
        let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/graph/{name}.svg"));
        if bless {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &svg).unwrap();
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == svg => {}
            _ => failed.push(format!("{name}: differs from {} (PROCDSL_BLESS=1 rewrites it)", golden.display())),
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn the_svg_draws_every_element_and_flow_with_its_shape() {
    let svg = svg_of(&graph(&["examples/contract_review.proc", "--process", "UsrContractReview", "--format", "svg"]));
    let elements = groups(&svg, "pd-element");
    let names: Vec<&str> =
        elements.iter().map(|(title, _)| title.lines().next().unwrap().split(' ').nth(1).unwrap()).collect();
    for name in ["Begin", "Route", "Review", "Remind", "Reminded", "Overdue", "Escalate", "Decide", "Sign", "Done"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    // Review is a multi-instance user task with a deadline and a reminder.
    let review = &elements.iter().find(|(t, _)| t.starts_with("user Review")).unwrap().0;
    assert!(review.contains("||| for each Reviewer until …"), "{review}");
    let timers = groups(&svg, "pd-boundary");
    let labels: Vec<&str> = timers.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(labels, ["deadline P3D", "every P1D"]);
    assert!(svg.contains("stroke-dasharray=\"3 2\""), "a reminder's timer is dashed");
    // The gateways carry their markers, the call its sub-process.
    assert!(svg.contains("→ UsrSignContract"));
    let flows = groups(&svg, "pd-flow");
    assert!(flows.iter().any(|(t, _)| t.starts_with("Route → ")), "{flows:?}");
}

#[test]
fn text_in_the_svg_is_escaped_and_long_captions_are_clipped_with_a_tooltip() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("odd.proc");
    let long = "a caption that goes on and on & on, far longer than any box could hold <b>bold</b>";
    std::fs::write(
        &file,
        format!(
            "process UsrOdd {{\n caption \"<script>alert('x')</script>\"\n in A: Integer = 0\n start Begin -> G\n \
             exclusive G {{\n when A < 1 and \"&\" != \"<\" -> Long\n else -> Done\n }}\n \
             script Long \"{long}\" {{ A = 1 }} -> Done\n end Done\n}}\n"
        ),
    )
    .unwrap();
    let svg = svg_of(&graph(&[file.to_str().unwrap(), "--format", "svg"]));
    assert!(!svg.contains("<script>") && !svg.contains("<b>"), "{svg}");
    assert!(svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "{svg}");
    assert!(svg.contains("A &lt; 1 and &quot;&amp;&quot; != &quot;&lt;&quot;"), "{svg}");
    let long_task = groups(&svg, "pd-element").into_iter().find(|(t, _)| t.starts_with("script Long")).unwrap();
    assert!(long_task.0.ends_with(long), "the tooltip keeps the whole caption: {}", long_task.0);
    assert!(svg.contains('…'), "the box shows the caption clipped");
}

/// A store with three instances of payment_retry: one waiting at its
/// timer, one completed after three attempts, one failed after giving up;
/// and one of order_approval waiting at its user task.
struct Instances {
    live: String,
    finished: String,
    failed: String,
}

fn payment_instances(store: &str) -> Instances {
    let start = |succeed_on: &str| -> String {
        let out = procdsl(&[
            "run",
            "examples/payment_retry.proc",
            "-p",
            "Amount=9.90",
            "-p",
            &format!("SucceedOn={succeed_on}"),
            "--now",
            "2026-01-01T00:00:00Z",
            "--store",
            store,
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        d["processId"].as_str().unwrap().to_string()
    };
    let finished = start("3");
    let failed = start("9");
    // Two ticks, each past the five minutes' pause: the first two run on.
    for now in ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"] {
        let out = procdsl(&["tick", "--now", now, "--store", store]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let live = start("3");
    Instances { live, finished, failed }
}

/// The element groups of an instance's SVG: (tooltip, stroke).
fn marked(svg: &str) -> Vec<(String, String)> {
    groups(svg, "pd-element")
}

fn find<'a>(elements: &'a [(String, String)], name: &str) -> &'a (String, String) {
    elements.iter().find(|(t, _)| t.lines().next().unwrap().ends_with(&format!(" {name}"))).unwrap()
}

/// The picture README shows: the finished instance's path.
const README_PICTURE: &str = "docs/images/payment_retry-completed.svg";

/// Checks the pictures of [`payment_instances`]; returns the finished one's SVG.
fn check_instance_pictures(store: &str) -> String {
    let ids = payment_instances(store);
    // Finished: passed three times through Charge, twice through Pause.
    let svg = svg_of(&graph(&["--instance", &ids.finished[..8], "--store", store, "--format", "svg"]));
    let finished = svg.clone();
    let elements = marked(&svg);
    let charge = find(&elements, "Charge");
    assert!(charge.0.contains("passed 3×"), "{charge:?}");
    assert_eq!(charge.1, "#1a7f37", "passed elements are green");
    assert!(find(&elements, "Pause").0.contains("passed 2×"));
    assert_eq!(find(&elements, "GiveUp").1, "#8c959f", "an element not passed is grey");
    assert!(svg.contains(">×3</text>"), "the count shows on the picture");
    let flows = groups(&svg, "pd-flow");
    let back = flows.iter().find(|(t, _)| t.starts_with("Pause → Charge")).unwrap();
    assert!(back.0.ends_with("(taken 2×)"), "{back:?}");
    assert!(svg.contains("Instance Completed; passed: Begin, Charge, Declined, Retry, Pause, Done."), "{svg}");

    // Failed: the element that failed, with its error.
    let svg = svg_of(&graph(&["--instance", &ids.failed, "--store", store, "--format", "svg"]));
    let give_up = find(&marked(&svg), "GiveUp").clone();
    assert_eq!(give_up.1, "#cf222e");
    assert!(give_up.0.contains("failed: payment failed after 3 attempts"), "{give_up:?}");
    assert!(svg.contains(">failed</text>"));

    // Live: waiting at its timer after one attempt.
    let svg = svg_of(&graph(&["--instance", &ids.live, "--store", store, "--format", "svg"]));
    let pause = find(&marked(&svg), "Pause").clone();
    assert_eq!(pause.1, "#9a6700");
    assert!(pause.0.contains("waiting now"), "{pause:?}");
    assert!(svg.contains("waiting at: Pause"));

    // The same path as Mermaid and dot.
    let text = stdout(&graph(&["--instance", &ids.finished, "--store", store]));
    assert!(text.contains(r#"e4 -->|"×2"| e1"#), "{text}");
    assert!(text.contains("class e0,e1,e2,e3,e4,e6 passed"), "{text}");
    let text = stdout(&graph(&["--instance", &ids.failed, "--store", store, "--format", "dot"]));
    assert!(text.contains("[failed: payment failed after 3 attempts"), "{text}");
    assert!(text.contains("color=\"#cf222e\", penwidth=3"), "{text}");

    // An id that names nothing is refused with help.
    let out = graph(&["--instance", "ffffffff", "--store", store]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("procdsl instances"));
    finished
}

#[test]
fn an_instance_picture_shows_its_path_counts_waits_and_failure_with_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let svg = check_instance_pictures(store.to_str().unwrap());
    // README's picture is this one, kept up to date like the golden files.
    let picture = Path::new(env!("CARGO_MANIFEST_DIR")).join(README_PICTURE);
    if std::env::var_os("PROCDSL_BLESS").is_some() {
        std::fs::create_dir_all(picture.parent().unwrap()).unwrap();
        std::fs::write(&picture, &svg).unwrap();
    }
    let kept = std::fs::read_to_string(&picture).unwrap_or_default();
    assert!(kept == svg, "{README_PICTURE} is not the picture of today (PROCDSL_BLESS=1 rewrites it)");
}

#[cfg(feature = "postgres")]
#[test]
fn an_instance_picture_shows_its_path_with_postgresql() {
    let Some((_server, conninfo)) = pg::fresh_database() else { return };
    let svg = check_instance_pictures(&pg::url_of(&conninfo));
    assert!(svg.contains("Instance Completed"));
}

#[test]
fn test_coverage_draws_what_the_tests_passed() {
    let dir = tempfile::tempdir().unwrap();
    let pictures = dir.path().join("pictures");
    let out = procdsl(&["test", "examples/approval.proc", "--coverage", "--svg", pictures.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = std::fs::read_to_string(pictures.join("UsrApproval.svg")).unwrap();
    roxmltree::Document::parse(&svg).unwrap();
    let elements = marked(&svg);
    // Both tests start; each takes one branch.
    assert!(find(&elements, "Begin").0.contains("passed 2×"), "{elements:?}");
    assert!(find(&elements, "Approve").0.contains("passed 1×"), "{elements:?}");
    assert!(svg.contains("Tests (2); passed: Begin, Route, Approve, Auto"), "{svg}");
    // --svg needs --coverage.
    let out = procdsl(&["test", "examples/approval.proc", "--svg", pictures.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}
