//! The layout behind `graph --format svg`, through the library: no two
//! boxes overlap on generated processes of 100 and 1,000 elements, the
//! same process always gives the same layout and bytes, every element and
//! flow is drawn, and the path an instance records survives its saved
//! form (with the frozen store of saved format 5).

#[path = "support/big_process.rs"]
mod big_process;
#[path = "support/fixture.rs"]
mod fixture;

use procdsl::check::{self, spec::Program};
use procdsl::graph::{self, layout, Graph, InstancePath, Layout};
use procdsl::runtime::engine::{ClockMode, Run, RunOptions};
use procdsl::runtime::instance::{Instance, Status};
use procdsl::runtime::saved::{self, SavedInstance};
use std::sync::Arc;

fn program(source: &str) -> Arc<Program> {
    Arc::new(check::load_str("p.proc", source).unwrap_or_else(|e| panic!("{e}")).program)
}

/// Checks that no element's box overlaps another's, that every box and
/// route lies inside the picture, and that each border timer sits on its
/// element's box.
fn assert_readable(graph: &Graph, layout: &Layout) {
    assert_eq!(layout.nodes.len(), graph.nodes.len());
    for (i, a) in layout.nodes.iter().enumerate() {
        assert!(a.x >= 0.0 && a.y >= 0.0, "{} at {a:?}", graph.nodes[i].name);
        assert!(a.x + a.width <= layout.width && a.y + a.height <= layout.height, "{} outside", graph.nodes[i].name);
        for (j, b) in layout.nodes.iter().enumerate().skip(i + 1) {
            assert!(!a.overlaps(b), "{} {a:?} overlaps {} {b:?}", graph.nodes[i].name, graph.nodes[j].name);
        }
    }
    for route in layout.edges.iter().chain(layout.timers.iter().map(|(_, r)| r)) {
        assert!(route.len() >= 2);
        for &(x, y) in route {
            assert!((0.0..=layout.width).contains(&x) && (0.0..=layout.height).contains(&y), "({x}, {y})");
        }
    }
    for (t, ((cx, cy), _)) in graph.timers.iter().zip(&layout.timers) {
        let host = &layout.nodes[t.element];
        assert!(host.x <= *cx && *cx <= host.x + host.width && host.y <= *cy && *cy <= host.y + host.height);
    }
}

#[test]
fn a_100_element_process_lays_out_without_overlapping_boxes() {
    let program = program(&big_process::source(100));
    let graph = Graph::of(&program, &program.processes[0]);
    assert!(graph.nodes.len() >= 100, "{}", graph.nodes.len());
    let layout = layout(&graph);
    assert_readable(&graph, &layout);
    // Left to right: every flow that does not close a loop goes rightwards.
    let first = layout.nodes.iter().map(|p| p.layer).min().unwrap();
    assert_eq!(layout.nodes[0].layer, first, "the start is in the first layer");
    for e in graph.edges.iter().filter(|e| graph.nodes[e.from].name.starts_with('A')) {
        assert!(layout.nodes[e.to].layer > layout.nodes[e.from].layer, "{} → {}", e.from, e.to);
    }
}

#[test]
fn a_1000_element_process_lays_out_without_overlapping_boxes() {
    let program = program(&big_process::source(1000));
    let graph = Graph::of(&program, &program.processes[0]);
    assert!(graph.nodes.len() >= 1000);
    assert_readable(&graph, &layout(&graph));
}

#[test]
fn the_same_process_gives_the_same_layout_and_bytes() {
    let source = big_process::source(100);
    let (a, b) = (program(&source), program(&source));
    let (ga, gb) = (Graph::of(&a, &a.processes[0]), Graph::of(&b, &b.processes[0]));
    assert_eq!(layout(&ga), layout(&gb));
    assert_eq!(graph::svg(&a, &a.processes[0], None), graph::svg(&b, &b.processes[0], None));
}

#[test]
fn every_element_and_flow_of_a_big_process_is_drawn() {
    let program = program(&big_process::source(100));
    let graph = Graph::of(&program, &program.processes[0]);
    let svg = graph::svg(&program, &program.processes[0], None);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let count = |class: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name("g") && n.attribute("class").is_some_and(|c| c.contains(class)))
            .count()
    };
    assert_eq!(count("pd-element"), graph.nodes.len());
    assert_eq!(count("pd-flow"), graph.edges.len() + graph.timers.len());
    assert_eq!(count("pd-boundary"), graph.timers.len());
    for node in &graph.nodes {
        let title = format!("<title>{} {}", node.kind.keyword(), node.name);
        assert!(
            svg.contains(&format!("{title}\n")) || svg.contains(&format!("{title}</title>")),
            "{} missing",
            node.name
        );
    }
}

const RETRY: &str = r#"process UsrRetry {
    in  Fails: Integer = 2
    out Tries: Integer = 0
    start Begin -> Try
    script Try {
        if Tries < Fails { fail "try {Tries} failed" }
    } -> Wait on error -> Count
    script Count { Tries = Tries + 1 } -> Again
    exclusive Again {
        when Tries < 5 -> Try
        else -> Done
    }
    user Wait "Confirm" { in Ok: Boolean = true } -> Done
    end Done
}
"#;

fn run(instance: &mut Instance) {
    instance.run(&mut Run::new(RunOptions { clock: ClockMode::Virtual, ..RunOptions::default() }));
}

#[test]
fn an_instance_records_each_element_and_flow_it_passed_and_keeps_them_when_saved() {
    let program = program(RETRY);
    let mut instance = Instance::new(program.clone(), program.find("UsrRetry").unwrap(), jiff::Timestamp::UNIX_EPOCH);
    run(&mut instance);
    assert_eq!(instance.status, Status::Waiting);
    let path = InstancePath::of(&instance);
    let spec = instance.spec();
    let count = |name: &str| path.element_count(spec.find_element(name).unwrap().0 as usize);
    assert_eq!((count("Begin"), count("Try"), count("Count"), count("Again"), count("Wait")), (1, 3, 2, 2, 1));
    assert_eq!(count("Done"), 0);
    let try_ = spec.find_element("Try").unwrap();
    let count_ = spec.find_element("Count").unwrap();
    // Try's incoming flows: from Begin (slot 0) and from Again (slot 1).
    assert_eq!(path.flow_count((try_, 0)), 1);
    assert_eq!(path.flow_count((try_, 1)), 2);
    assert_eq!(path.flow_count((count_, 0)), 2, "the on error flow");
    assert_eq!(path.waiting, [spec.find_element("Wait").unwrap()]);
    assert!(path.recorded);

    let json = serde_json::to_string(&SavedInstance::of(&instance)).unwrap();
    assert!(json.contains(r#""passed":{"elements":[[0,1],[1,3],[2,2],[3,2],[4,1]]"#), "{json}");
    let back: SavedInstance = serde_json::from_str(&json).unwrap();
    assert_eq!(back.format, saved::FORMAT_VERSION);
    let restored = back.restore(program.clone()).unwrap();
    assert_eq!(InstancePath::of(&restored), path);

    // A path naming a flow the definition lacks is refused, not guessed at.
    let bad = json.replace(r#""flows":[[1,0,1]"#, r#""flows":[[1,7,1]"#);
    assert_ne!(bad, json);
    let bad: SavedInstance = serde_json::from_str(&bad).unwrap();
    let err = bad.restore(program).unwrap_err();
    assert!(err.contains("its path names flow 7 into element #1"), "{err}");
}

#[test]
fn an_instance_saved_before_paths_were_recorded_shows_where_it_waits() {
    // The frozen store of format 4: a multi-instance task and calls, waiting.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    std::fs::copy(fixture::dir(4).join("store.db"), &db).unwrap();
    let mut store = procdsl::store::Store::open_existing(&db).unwrap();
    let id = store.list(&procdsl::store::ListFilter::default()).unwrap()[0].id;
    let instance = store.load(id).unwrap();
    let path = InstancePath::of(&instance);
    assert!(!path.recorded);
    assert!(path.elements.iter().all(|n| *n == 0));
    assert!(!path.waiting.is_empty());
    let svg = graph::svg(&instance.program, instance.spec(), Some(&path));
    assert!(svg.contains("saved before paths were recorded"), "{svg}");
}

const SOURCE_V5: &str = r#"process UsrFixturePath {
    in  Fails: Integer = 1
    out Tries: Integer = 0
    start Begin -> Try
    script Try {
        if Tries < Fails { fail "try {Tries} failed" }
    } -> Confirm on error -> Count
    script Count { Tries = Tries + 1 } -> Again
    exclusive Again {
        when Tries < 5 -> Try
        else -> Done
    }
    user Confirm "Confirm" { in Ok: Boolean = true } -> Done
    end Done
}
"#;

#[test]
fn a_store_of_format_version_5_keeps_its_path_and_finishes() {
    use procdsl::store::{self, Store};
    if std::env::var_os("PROCDSL_REGENERATE_FIXTURES").is_some() && saved::FORMAT_VERSION == 5 {
        fixture::write(5, SOURCE_V5, |store, program| {
            let t0 = "2026-01-01T00:00:00Z".parse().unwrap();
            let none: [(&str, &str); 0] = [];
            store.start(program, "UsrFixturePath", none, store::real_time(Some(t0))).unwrap().process_id
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    std::fs::copy(fixture::dir(5).join("store.db"), &db).expect("the fixture's store.db is committed");
    let mut store = Store::open_existing(&db).unwrap();
    let id = store.list(&store::ListFilter::default()).unwrap()[0].id;
    let instance = store.load(id).unwrap();
    let path = InstancePath::of(&instance);
    let spec = instance.spec();
    let count = |name: &str| path.element_count(spec.find_element(name).unwrap().0 as usize);
    assert_eq!((count("Begin"), count("Try"), count("Count"), count("Again"), count("Confirm")), (1, 2, 1, 1, 1));
    let d = store.show(id).unwrap();
    let now = store::real_time(Some("2026-01-02T00:00:00Z".parse().unwrap()));
    store.exec(d.waiting[0].uid, &[("Ok", "true")], now).unwrap();
    let done = store.load(id).unwrap();
    assert_eq!(done.status, Status::Completed);
    let path = InstancePath::of(&done);
    assert_eq!(path.element_count(spec.find_element("Done").unwrap().0 as usize), 1);
    assert!(path.waiting.is_empty());
}
