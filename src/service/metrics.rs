//! Prometheus metrics, written by hand in the text exposition format:
//! requests by route and status, a latency histogram by route, requests in
//! flight (and the most seen at once), instances started, completed and
//! failed, elements executed. Instances by status come from the store when
//! `/metrics` is read.

use crate::runtime::descriptor::Descriptor;
use crate::runtime::instance::Status;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
    pub started: AtomicU64,
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub elements: AtomicU64,
    pub timers_fired: AtomicU64,
    /// Runs stopped at their request's deadline.
    pub runs_stopped: AtomicU64,
    /// Runs that outgrew a store thread's budget and ran again on the blocking pool.
    pub runs_rerun: AtomicU64,
    /// Signals not passed on (a loop).
    pub signals_dropped: AtomicU64,
    /// Background runs this node took over: left `Running` with no live
    /// lease (a node that died, or a restart of this one).
    pub runs_taken_over: AtomicU64,
    in_flight: AtomicI64,
    in_flight_max: AtomicI64,
}

impl Metrics {
    pub fn record(&self, route: &str, status: u16, latency: Duration) {
        let seconds = latency.as_secs_f64();
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = match routes.get_mut(route) {
            Some(s) => s,
            None => routes.entry(route.to_string()).or_default(),
        };
        *stats.by_status.entry(status).or_default() += 1;
        for (bound, n) in BUCKETS.iter().zip(stats.buckets.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
        stats.sum += seconds;
        stats.count += 1;
    }

    /// A request came in; returns how many are in flight now.
    pub fn enter(&self) -> i64 {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.in_flight_max.fetch_max(now, Ordering::SeqCst);
        now
    }

    pub fn leave(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// Counts what a run did to an instance: its end, and its elements.
    pub fn outcome(&self, descriptor: &Descriptor, elements: u64) {
        self.elements.fetch_add(elements, Ordering::Relaxed);
        match descriptor.status {
            Status::Completed => self.completed.fetch_add(1, Ordering::Relaxed),
            Status::Failed => self.failed.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }

    /// The text of `/metrics`; `backlog` is the background runs accepted and not finished.
    pub fn render(&self, by_status: &[(Status, u64)], backlog: usize) -> String {
        let mut out = String::new();
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# HELP procdsl_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE procdsl_http_requests_total counter\n");
        for (route, stats) in routes.iter() {
            for (status, n) in &stats.by_status {
                let _ =
                    writeln!(out, "procdsl_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}", label(route));
            }
        }
        out.push_str("# HELP procdsl_http_request_duration_seconds Time to answer a request, by route.\n");
        out.push_str("# TYPE procdsl_http_request_duration_seconds histogram\n");
        for (route, stats) in routes.iter() {
            let route = label(route);
            for (bound, n) in BUCKETS.iter().zip(stats.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "procdsl_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "procdsl_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(out, "procdsl_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", stats.sum);
            let _ = writeln!(out, "procdsl_http_request_duration_seconds_count{{route=\"{route}\"}} {}", stats.count);
        }
        drop(routes);
        let gauge = |out: &mut String, name: &str, help: &str, kind: &str, value: i64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        };
        gauge(
            &mut out,
            "procdsl_http_requests_in_flight",
            "Requests being answered now.",
            "gauge",
            self.in_flight.load(Ordering::SeqCst),
        );
        gauge(
            &mut out,
            "procdsl_http_requests_in_flight_max",
            "The most requests answered at once since start-up.",
            "gauge",
            self.in_flight_max.load(Ordering::SeqCst),
        );
        let count = |a: &AtomicU64| i64::try_from(a.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        gauge(
            &mut out,
            "procdsl_instances_started_total",
            "Instances started by the service.",
            "counter",
            count(&self.started),
        );
        gauge(
            &mut out,
            "procdsl_instances_completed_total",
            "Instances that completed in the service.",
            "counter",
            count(&self.completed),
        );
        gauge(
            &mut out,
            "procdsl_instances_failed_total",
            "Instances that failed in the service.",
            "counter",
            count(&self.failed),
        );
        gauge(
            &mut out,
            "procdsl_elements_executed_total",
            "Elements executed by the service's runs.",
            "counter",
            count(&self.elements),
        );
        gauge(
            &mut out,
            "procdsl_timers_fired_total",
            "Instances moved on by the timer scheduler.",
            "counter",
            count(&self.timers_fired),
        );
        gauge(
            &mut out,
            "procdsl_runs_stopped_total",
            "Runs stopped because their request reached its time-out (nothing of them committed).",
            "counter",
            count(&self.runs_stopped),
        );
        gauge(
            &mut out,
            "procdsl_runs_rerun_total",
            "Runs that outgrew a store thread's budget and ran again from the start on the blocking pool.",
            "counter",
            count(&self.runs_rerun),
        );
        gauge(
            &mut out,
            "procdsl_signals_dropped_total",
            "Signals not passed on: instances kept throwing signals to each other.",
            "counter",
            count(&self.signals_dropped),
        );
        gauge(
            &mut out,
            "procdsl_background_taken_over_total",
            "Background runs this node took over: left Running with no live lease (a node died, or a restart).",
            "counter",
            count(&self.runs_taken_over),
        );
        gauge(
            &mut out,
            "procdsl_background_backlog",
            "Background runs accepted and not finished (running or waiting for a worker).",
            "gauge",
            i64::try_from(backlog).unwrap_or(i64::MAX),
        );
        out.push_str("# HELP procdsl_instances Stored instances by status.\n# TYPE procdsl_instances gauge\n");
        for status in [Status::Running, Status::Waiting, Status::Completed, Status::Failed, Status::Cancelled] {
            let n = by_status.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "procdsl_instances{{status=\"{status}\"}} {n}");
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
