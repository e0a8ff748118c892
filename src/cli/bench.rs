//! `procdsl bench FILE [--process CODE] [-n N] [-p CODE=VALUE]… [--resume] [--json]`
//!
//! Runs N instances of one process in this process and reports how fast
//! they ran and how much memory they took. Instances that end are dropped
//! at once; instances that wait are all kept alive, so that the growth of
//! the resident set divided by their number is the memory one waiting
//! instance costs. With `--resume`, every waiting element-instance is then
//! executed (user tasks without field values) and the resumes are timed.
//!
//! Runs use the virtual clock from a fixed start time and record no trace,
//! so two runs of the same file do the same work.

use super::run::load_process;
use super::{parse_pair, report, EXIT_FAILED, EXIT_INVALID, EXIT_OK};
use procdsl::runtime::engine::{ClockMode, Run, RunOptions, DEFAULT_MAX_STEPS};
use procdsl::runtime::instance::{ErrorInfo, Instance, Status, Wait};
use procdsl::runtime::value::Value;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How many instances run when `-n` is not given: enough for a steady
/// figure in well under a second, few enough that waiting ones fit anywhere.
pub const DEFAULT_INSTANCES: u64 = 10_000;

/// The virtual clock of every instance starts here.
const START_TIME: &str = "2026-01-01T00:00:00Z";

/// Warm-up: at most this many instances, and at most this long.
const WARM_UP_INSTANCES: u64 = 1_000;
const WARM_UP_TIME: Duration = Duration::from_millis(200);

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The .proc file.
    pub file: PathBuf,
    /// The process to run, when the file holds several.
    #[arg(long, value_name = "CODE")]
    pub process: Option<String>,
    /// How many instances to run (and keep, when they wait).
    #[arg(short = 'n', value_name = "N", default_value_t = DEFAULT_INSTANCES,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub instances: u64,
    /// An input parameter of every instance, as a string converted to its type.
    #[arg(short = 'p', long = "param", value_name = "CODE=VALUE", value_parser = parse_pair)]
    pub params: Vec<(String, String)>,
    /// Then execute every waiting element-instance and report resumes per second.
    #[arg(long)]
    pub resume: bool,
    /// Print the figures as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// What one bench measured; `None` where it was not measured.
#[derive(Debug, Default)]
struct Figures {
    instances: u64,
    seconds: f64,
    elements: u64,
    peak_rss: Option<u64>,
    bytes_per_waiting: Option<f64>,
    waiting: u64,
    resumes: u64,
    resume_seconds: f64,
    resume_elements: u64,
    failed: u64,
    first_failure: Option<String>,
}

impl Figures {
    fn instances_per_second(&self) -> f64 {
        self.instances as f64 / self.seconds
    }

    fn elements_per_instance(&self) -> f64 {
        self.elements as f64 / self.instances as f64
    }

    /// `None` when no element ran (nothing to divide by).
    fn micros_per_element(&self) -> Option<f64> {
        (self.elements > 0).then(|| self.seconds * 1e6 / self.elements as f64)
    }

    fn resumes_per_second(&self) -> Option<f64> {
        (self.resumes > 0).then(|| self.resumes as f64 / self.resume_seconds)
    }

    fn fail(&mut self, why: impl FnOnce() -> String) {
        self.failed += 1;
        if self.first_failure.is_none() {
            self.first_failure = Some(why());
        }
    }
}

pub fn bench(args: BenchArgs) -> i32 {
    let (program, process) = match load_process(&args.file, args.process.as_deref()) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let start: jiff::Timestamp = START_TIME.parse().expect("START_TIME is RFC 3339");
    // Inputs are converted once; every instance starts from these values.
    let mut template = Instance::new(program.clone(), process, start);
    if let Err(e) = template.set_inputs(args.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        report(&e);
        return EXIT_INVALID;
    }
    let bench = Bench { program, process: template.process, params: template.params, start, resume: args.resume };

    bench.warm_up();
    let figures = bench.measure(args.instances);

    if args.json {
        println!("{}", json(&figures));
    } else {
        print!("{}", human(&figures));
    }
    match &figures.first_failure {
        Some(first) => {
            eprintln!("error: {} of {} instances failed; the first: {first}", figures.failed, figures.instances);
            EXIT_FAILED
        }
        None => EXIT_OK,
    }
}

struct Bench {
    program: Arc<procdsl::check::spec::Program>,
    process: procdsl::check::spec::ProcessId,
    params: Vec<Value>,
    start: jiff::Timestamp,
    resume: bool,
}

impl Bench {
    fn options() -> RunOptions {
        RunOptions { max_steps: DEFAULT_MAX_STEPS, clock: ClockMode::Virtual, trace: false, ..RunOptions::default() }
    }

    fn instance(&self) -> Instance {
        let mut instance = Instance::new(self.program.clone(), self.process, self.start);
        instance.params.clone_from(&self.params);
        instance
    }

    /// Runs a few instances (and resumes them) so that caches, the
    /// allocator and the branch predictor settle before anything is timed.
    fn warm_up(&self) {
        let began = Instant::now();
        let mut figures = Figures::default();
        for _ in 0..WARM_UP_INSTANCES {
            let mut instance = self.instance();
            instance.run(&mut Run::new(Bench::options()));
            if self.resume && instance.status == Status::Waiting {
                resume(&mut instance, &mut figures);
            }
            if began.elapsed() > WARM_UP_TIME {
                break;
            }
        }
    }

    fn measure(&self, n: u64) -> Figures {
        let mut figures = Figures { instances: n, ..Figures::default() };
        // Room for every instance is reserved before the baseline, and
        // counted as its pages are touched: an instance's own bytes count.
        let mut waiting: Vec<Instance> = Vec::with_capacity(n as usize);
        let rss_before = memory("VmRSS");

        let began = Instant::now();
        for _ in 0..n {
            let mut instance = self.instance();
            let mut run = Run::new(Bench::options());
            instance.run(&mut run);
            figures.elements += run.elements_executed;
            match instance.status {
                Status::Waiting => waiting.push(instance),
                Status::Failed => figures.fail(|| failure(instance.error.as_ref())),
                Status::Completed => {}
                other => figures.fail(|| format!("the instance ended {other}")),
            }
        }
        figures.seconds = began.elapsed().as_secs_f64();

        figures.waiting = waiting.len() as u64;
        if !waiting.is_empty() {
            figures.bytes_per_waiting = rss_before
                .zip(memory("VmRSS"))
                .map(|(before, after)| after.saturating_sub(before) as f64 / waiting.len() as f64);
        }
        if self.resume && !waiting.is_empty() {
            let began = Instant::now();
            for instance in &mut waiting {
                resume(instance, &mut figures);
            }
            figures.resume_seconds = began.elapsed().as_secs_f64();
        }
        figures.peak_rss = memory("VmHWM");
        drop(waiting);
        figures
    }
}

/// Executes waiting element-instances of one instance (without field
/// values) until it no longer waits.
fn resume(instance: &mut Instance, figures: &mut Figures) {
    let mut uids = Vec::new();
    while instance.status == Status::Waiting {
        uids.clear();
        executable(instance, &mut uids);
        let Some(&uid) = uids.first() else {
            figures.fail(|| "the instance waits, but nothing of it can be executed".to_string());
            return;
        };
        let mut run = Run::new(Bench::options());
        let outcome = instance.exec(uid, &[] as &[(&str, &str)], &mut run);
        figures.resumes += 1;
        figures.resume_elements += run.elements_executed;
        if let Err(e) = outcome {
            figures.fail(|| format!("executing {uid}: {e}"));
            return;
        }
    }
    if instance.status == Status::Failed {
        figures.fail(|| failure(instance.error.as_ref()));
    }
}

/// The UIds of waiting element-instances that can be executed, here and in
/// waiting sub-processes.
fn executable(instance: &Instance, out: &mut Vec<Uuid>) {
    for w in &instance.waiting {
        match &w.wait {
            Wait::Call { child } => executable(child, out),
            _ => out.push(w.uid),
        }
    }
}

fn failure(error: Option<&ErrorInfo>) -> String {
    error.map_or_else(|| "the instance failed".to_string(), ErrorInfo::to_string)
}

/// A `/proc/self/status` figure in bytes (`VmRSS`, `VmHWM`), or `None`
/// where there is no such file.
fn memory(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.strip_prefix(key).is_some_and(|rest| rest.starts_with(':')))?;
    let mut words = line[key.len() + 1..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => Some(value * 1024),
        None => Some(value),
        Some(_) => None,
    }
}

fn json(f: &Figures) -> String {
    serde_json::json!({
        "instances": f.instances,
        "seconds": f.seconds,
        "instancesPerSecond": f.instances_per_second(),
        "elementsPerInstance": f.elements_per_instance(),
        "microsPerElement": f.micros_per_element(),
        "peakRssBytes": f.peak_rss,
        "bytesPerWaitingInstance": f.bytes_per_waiting,
        "resumesPerSecond": f.resumes_per_second(),
    })
    .to_string()
}

fn human(f: &Figures) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: String| {
        let _ = writeln!(out, "{label:<26} {value}");
    };
    line("instances", format!("{} in {:.3} s", group(f.instances), f.seconds));
    line("instances per second", group(f.instances_per_second().round() as u64));
    line("elements per instance", format!("{:.1}", f.elements_per_instance()));
    line("µs per element", f.micros_per_element().map_or("-".to_string(), |us| format!("{us:.3}")));
    if f.waiting > 0 {
        line("waiting instances", group(f.waiting));
        line(
            "bytes per waiting instance",
            f.bytes_per_waiting.map_or("unknown (no /proc)".to_string(), |b| group(b.round() as u64)),
        );
    }
    if let Some(rate) = f.resumes_per_second() {
        line(
            "resumes",
            format!("{} in {:.3} s ({} elements)", group(f.resumes), f.resume_seconds, group(f.resume_elements)),
        );
        line("resumes per second", group(rate.round() as u64));
    }
    line(
        "peak RSS",
        f.peak_rss.map_or("unknown (no /proc)".to_string(), |b| format!("{:.1} MiB", b as f64 / 1048576.0)),
    );
    if f.failed > 0 {
        line("failed instances", group(f.failed));
    }
    out
}

/// `1234567` → `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
