//! A small load generator for `procdsl serve` (run by `scripts/load.sh`):
//! keep-alive HTTP/1.1 connections over loopback, each sending its next
//! request when the answer to the last one came (or, with `--rate`, on a
//! fixed schedule), for a number of seconds. Prints requests per second and
//! latency percentiles as one JSON line.
//!
//! ```text
//! load ADDR[,ADDR…] execute|cycle [--connections N] [--seconds S] [--rate R]
//! ```
//! With several addresses (service nodes on one store), the connections
//! are dealt to them in turn.
//! - `execute`: `GET …/UsrLoadTen/Execute?ResultParameterName=Total` (a
//!   ten-element process, answered with its result).
//! - `cycle`: `POST …/RunProcess` of `UsrLoadWait` (runs to a user task and
//!   commits it), then `GET …/ExecProcElByUId/{uid}` (executes it, runs to
//!   the end and commits). `cyclesPerSecond` counts complete cycles.

use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const SVC: &str = "/0/ServiceModel/ProcessEngineService.svc";

struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    async fn open(addr: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream: BufReader::new(stream), host: addr.to_string() })
    }

    /// Sends one request and reads the answer: (status, body).
    async fn send(&mut self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.stream.get_mut().write_all(request.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut buf = vec![0; length];
        self.stream.read_exact(&mut buf).await?;
        Ok((status, String::from_utf8_lossy(&buf).into_owned()))
    }
}

#[derive(Default)]
struct Tally {
    latencies: Vec<u32>,
    errors: u64,
    cycles: u64,
}

async fn execute(conn: &mut Conn, tally: &mut Tally) -> std::io::Result<()> {
    let started = Instant::now();
    let (status, _) = conn.send("GET", &format!("{SVC}/UsrLoadTen/Execute?ResultParameterName=Total&N=7"), "").await?;
    tally.latencies.push(micros(started));
    if status == 200 {
        tally.cycles += 1;
    } else {
        tally.errors += 1;
    }
    Ok(())
}

async fn cycle(conn: &mut Conn, tally: &mut Tally) -> std::io::Result<()> {
    let started = Instant::now();
    let (status, body) = conn
        .send("POST", &format!("{SVC}/RunProcess"), r#"{"schemaName":"UsrLoadWait","parameterValues":{"Amount":5000}}"#)
        .await?;
    tally.latencies.push(micros(started));
    let uid = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|d| d["waiting"][0]["uid"].as_str().map(str::to_string));
    let (200, Some(uid)) = (status, uid) else {
        tally.errors += 1;
        return Ok(());
    };
    let started = Instant::now();
    let (status, _) = conn.send("GET", &format!("{SVC}/ExecProcElByUId/{uid}?Decision=true"), "").await?;
    tally.latencies.push(micros(started));
    if status == 200 {
        tally.cycles += 1;
    } else {
        tally.errors += 1;
    }
    Ok(())
}

fn micros(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX)
}

async fn worker(addr: String, mode: String, until: Instant, interval: Option<Duration>, offset: Duration) -> Tally {
    let mut tally = Tally::default();
    let Ok(mut conn) = Conn::open(&addr).await else {
        tally.errors += 1;
        return tally;
    };
    // Connections start spread over one interval, so that paced requests do not come in bursts.
    let mut next = Instant::now() + offset;
    while Instant::now() < until {
        if let Some(interval) = interval {
            tokio::time::sleep_until(next.into()).await;
            next += interval;
        }
        let result =
            if mode == "cycle" { cycle(&mut conn, &mut tally).await } else { execute(&mut conn, &mut tally).await };
        if result.is_err() {
            tally.errors += 1;
            match Conn::open(&addr).await {
                Ok(c) => conn = c,
                Err(_) => break,
            }
        }
    }
    tally
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(addr), Some(mode)) = (args.first().cloned(), args.get(1).cloned()) else {
        eprintln!("usage: load ADDR[,ADDR…] execute|cycle [--connections N] [--seconds S] [--rate R]");
        std::process::exit(2);
    };
    let option = |name: &str, default: f64| -> f64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let nodes: Vec<&str> = addr.split(',').filter(|a| !a.is_empty()).collect();
    if nodes.is_empty() {
        eprintln!("load: no address given");
        std::process::exit(2);
    }
    let connections = option("--connections", 32.0).max(1.0) as usize;
    let seconds = option("--seconds", 10.0);
    let rate = option("--rate", 0.0);
    // With a rate, each connection paces itself to its share of it (in cycles).
    let interval = (rate > 0.0).then(|| Duration::from_secs_f64(connections as f64 / rate));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let tallies = runtime.block_on(async {
        let tasks: Vec<_> = (0..connections)
            .map(|i| {
                let offset = interval.map_or(Duration::ZERO, |d| d.mul_f64(i as f64 / connections as f64));
                let addr = nodes[i % nodes.len()].to_string();
                tokio::spawn(worker(addr, mode.clone(), until, interval, offset))
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap_or_default());
        }
        out
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<u32> = tallies.iter().flat_map(|t| t.latencies.iter().copied()).collect();
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        f64::from(latencies[i]) / 1000.0
    };
    let cycles: u64 = tallies.iter().map(|t| t.cycles).sum();
    // This client's own CPU time (utime + stime, in clock ticks of 10 ms),
    // so that a run can tell what the load generator itself cost.
    let cpu = std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| {
        let fields: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
        Some((fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?) / 100.0)
    });
    let errors: u64 = tallies.iter().map(|t| t.errors).sum();
    println!(
        "{}",
        serde_json::json!({
            "mode": mode, "nodes": nodes.len(), "connections": connections, "seconds": (elapsed * 100.0).round() / 100.0,
            "targetRate": if rate > 0.0 { Some(rate) } else { None },
            "requests": latencies.len(), "errors": errors,
            "requestsPerSecond": (latencies.len() as f64 / elapsed).round(),
            "cyclesPerSecond": (cycles as f64 / elapsed).round(),
            "latencyMs": { "p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0) },
            "clientCpuSeconds": cpu,
        })
    );
}
