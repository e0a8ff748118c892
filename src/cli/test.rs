//! `procdsl test [FILE or DIR…] [--filter TEXT] [--junit FILE] [--coverage [--json] [--svg DIR]]`

use super::{color_stderr, EXIT_FAILED, EXIT_INVALID, EXIT_OK};
use procdsl::graph;
use procdsl::testing::{coverage, junit, Suite, TestResult};
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// `.proc` files, or folders searched for them (default: the current folder).
    paths: Vec<PathBuf>,
    /// Run only the tests whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Report, per process, the elements and flows no test passed.
    #[arg(long)]
    coverage: bool,
    /// With --coverage: print the coverage as JSON.
    #[arg(long, requires = "coverage")]
    json: bool,
    /// With --coverage: also draw each process into DIR/CODE.svg, with what
    /// the tests passed (green, counted per test) and what none did (grey).
    #[arg(long, value_name = "DIR", requires = "coverage")]
    svg: Option<PathBuf>,
    /// How many tests run at once (default: one per core).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
}

pub fn test(args: TestArgs) -> i32 {
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let mut files = Vec::new();
    for path in &paths {
        if path.is_dir() {
            collect(path, &mut files);
        } else {
            files.push(path.clone());
        }
    }
    // Each file is loaded with its imports and tested on its own.
    let mut suites = Vec::new();
    let mut invalid = false;
    for file in &files {
        match Suite::load(std::slice::from_ref(file)) {
            Ok(mut suite) => {
                suite.keep_tests_of(&file.display().to_string());
                suites.push(suite)
            }
            Err(e) => {
                eprintln!("{}", e.render(color_stderr()));
                invalid = true;
            }
        }
    }
    if invalid {
        return EXIT_INVALID;
    }
    let filter = args.filter.as_deref();
    let mut results: Vec<TestResult> = Vec::new();
    let mut covered = Vec::new();
    for suite in &suites {
        let done = |r: &TestResult| {
            let mut line = match &r.failure {
                None => format!("ok   {}: {}\n", r.file, r.name),
                Some(f) => format!("FAIL {}: {}\n{}", r.file, r.name, f.report),
            };
            if r.failure.is_some() && !line.ends_with('\n') {
                line.push('\n');
            }
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        };
        let ran = match args.jobs {
            Some(n) => suite.run_with(filter, usize::from(n), done),
            None => suite.run(filter, done),
        };
        covered.push((suite, results.len(), ran.len()));
        results.extend(ran);
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    println!("{} passed, {failed} failed", results.len() - failed);
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, junit::to_xml(&results)) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return EXIT_INVALID;
        }
    }
    if args.coverage {
        // One entry per process Code: a file imported by several is counted once,
        // with what every test of every file passed.
        let mut report: Vec<coverage::ProcessCoverage> = Vec::new();
        for (suite, _, _) in &covered {
            for c in coverage::coverage(&suite.program, &results) {
                if !report.iter().any(|r| r.process == c.process) {
                    report.push(c);
                }
            }
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&coverage::to_json(&report)).unwrap_or_default());
        } else {
            print!("{}", coverage::to_text(&report));
        }
        if let Some(dir) = &args.svg {
            if let Err(e) = draw_coverage(dir, &covered, &results) {
                eprintln!("error: cannot write the pictures into `{}`: {e}", dir.display());
                return EXIT_INVALID;
            }
        }
    }
    if failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// Every `*.proc` under a folder, in name order (hidden folders and `target` skipped).
/// One picture per process Code, with what every test passed in it (a
/// file imported by several files is drawn once).
fn draw_coverage(dir: &Path, covered: &[(&Suite, usize, usize)], results: &[TestResult]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut drawn: Vec<&str> = Vec::new();
    for (suite, _, _) in covered {
        for spec in &suite.program.processes {
            if drawn.contains(&&*spec.code) {
                continue;
            }
            drawn.push(&spec.code);
            let path = graph::InstancePath::tested(&suite.program, spec, results);
            std::fs::write(dir.join(format!("{}.svg", spec.code)), graph::svg(&suite.program, spec, Some(&path)))?;
        }
    }
    Ok(())
}

pub(super) fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                collect(&path, out);
            }
        } else if name.ends_with(".proc") {
            // `procdsl test` in a folder names its files as `a.proc`, not `./a.proc`.
            out.push(path.strip_prefix(".").map(Path::to_path_buf).unwrap_or(path));
        }
    }
}
