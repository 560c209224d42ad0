//! The load generator of `securescore-bench reads`: the benchmark binary started again as a
//! child process (`securescore-bench load`), one thread with one HTTP/1.1 keep-alive
//! connection per client, so the load costs every server measured the same and is accounted
//! apart from the servers. It rotates through the requests (each tenant's dashboard with its
//! own token), so no single tenant's reads stay hot; successive requests, whichever client
//! sends them, take the next entry.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One request of a rotation: a bearer token (empty: none) and a JSON body.
#[derive(Clone, Debug)]
pub struct Rotated {
    /// Bearer token, or empty for none.
    pub token: String,
    /// The JSON request body.
    pub body: String,
}

/// A rotation of requests written to a file the load child reads (`[token, body]` pairs).
#[derive(Clone, Debug)]
pub struct Rotation {
    file: PathBuf,
}

/// What the load child saw in one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Load {
    /// Answers received.
    pub requests: u64,
    /// Answers per second.
    pub per_second: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Answers that were not 2xx, and failed requests.
    pub errors: u64,
}

impl Rotation {
    /// Writes `requests` into `dir` as `name.json`.
    pub fn write(dir: &Path, name: &str, requests: &[Rotated]) -> Result<Rotation, String> {
        let file = dir.join(format!("{name}.json"));
        let pairs: Vec<(&str, &str)> = requests
            .iter()
            .map(|r| (r.token.as_str(), r.body.as_str()))
            .collect();
        let json = serde_json::to_vec(&pairs).map_err(|e| e.to_string())?;
        std::fs::write(&file, json).map_err(|e| format!("writing {}: {e}", file.display()))?;
        Ok(Rotation { file })
    }

    /// Sends the rotation to `url` from `clients` clients for `seconds`, from a child process.
    pub fn run(&self, url: &str, clients: usize, seconds: u64) -> Result<Load, String> {
        let output = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
            .arg("load")
            .arg("--requests")
            .arg(&self.file)
            .args(["--url", url])
            .args(["--clients", &clients.to_string()])
            .args(["--seconds", &seconds.to_string()])
            .output()
            .map_err(|e| format!("starting the load child: {e}"))?;
        let printed = String::from_utf8_lossy(&output.stdout);
        let line = printed
            .lines()
            .find_map(|l| l.strip_prefix("LOAD "))
            .ok_or_else(|| {
                format!(
                    "the load child printed no figures: {printed}{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })?;
        let fields: Vec<f64> = line
            .split_whitespace()
            .map(|f| {
                f.parse()
                    .map_err(|e| format!("the load child printed {line:?}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let [requests, seconds, p50_ms, p99_ms, errors] = fields[..] else {
            return Err(format!("the load child printed {line:?}"));
        };
        Ok(Load {
            requests: requests as u64,
            per_second: requests / seconds,
            p50_ms,
            p99_ms,
            errors: errors as u64,
        })
    }
}

/// The child's side: loads `url` with the rotation in `file` on one thread, and prints one
/// `LOAD` line: answers, seconds, p50 and p99 in ms, errors.
pub fn generate(file: &Path, url: &str, clients: usize, seconds: u64) -> Result<(), String> {
    let text = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let pairs: Vec<(String, String)> = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
    let requests: Vec<Rotated> = pairs
        .into_iter()
        .map(|(token, body)| Rotated { token, body })
        .collect();
    if requests.is_empty() {
        return Err("the rotation is empty".into());
    }
    let url = url.to_owned();
    // Its own thread and runtime: one thread drives every client (the caller's runtime is left
    // idle).
    let (latencies, errors, elapsed) = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(drive(Arc::new(requests), &url, clients, seconds))
    })
    .join()
    .map_err(|_| "the load thread panicked".to_owned())??;
    println!(
        "LOAD {} {:.6} {:.4} {:.4} {errors}",
        latencies.len(),
        elapsed,
        crate::close_day::percentile(&latencies, 0.50),
        crate::close_day::percentile(&latencies, 0.99),
    );
    Ok(())
}

/// `clients` loops, each on its own connection, sending the next request of the rotation
/// until `seconds` have passed; answers the latencies (ms), the errors and the elapsed time.
async fn drive(
    requests: Arc<Vec<Rotated>>,
    url: &str,
    clients: usize,
    seconds: u64,
) -> Result<(Vec<f64>, u64, f64), String> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        // One client, one connection (as one browser tab or integration keeps one).
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .map_err(|e| e.to_string())?;
        let (requests, next, url) = (requests.clone(), next.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0u64);
            while Instant::now() < until {
                let request = &requests[next.fetch_add(1, Ordering::Relaxed) % requests.len()];
                let mut sent = client
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(request.body.clone());
                if !request.token.is_empty() {
                    sent = sent.bearer_auth(&request.token);
                }
                let at = Instant::now();
                let answered = match sent.send().await {
                    Ok(response) if response.status().is_success() => {
                        response.bytes().await.is_ok()
                    }
                    _ => false,
                };
                if answered {
                    latencies.push(at.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (mine, failed) = task.await.map_err(|e| e.to_string())?;
        latencies.extend(mine);
        errors += failed;
    }
    Ok((latencies, errors, started.elapsed().as_secs_f64()))
}
