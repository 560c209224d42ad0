//! A `securescore serve` child process of a benchmark (the bench binary's hidden `serve`), on
//! a port the bench picks, ready when `/readyz` answers.

use std::time::Duration;

/// A running server child; killed when dropped.
pub struct Server {
    child: std::process::Child,
    /// Its process id.
    pub pid: u32,
    /// `127.0.0.1:PORT`.
    pub address: String,
}

impl Server {
    /// Starts `serve` on `database_url` accepting HS256 tokens signed with `secret`, with
    /// `extra` options, and waits until it is ready.
    pub async fn start(database_url: &str, secret: &str, extra: &[&str]) -> Result<Server, String> {
        let program = std::env::current_exe().map_err(|e| e.to_string())?;
        Server::start_binary(&program, database_url, secret, extra).await
    }

    /// As [`Server::start`], with `program serve` (a `securescore` binary, of another release
    /// too).
    pub async fn start_binary(
        program: &std::path::Path,
        database_url: &str,
        secret: &str,
        extra: &[&str],
    ) -> Result<Server, String> {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            probe.local_addr().map_err(|e| e.to_string())?.port()
        };
        let address = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(program)
            .args(["serve", "--bind", &address, "--database-url", database_url])
            .args(extra)
            .env("SECURESCORE_JWT_SECRET", secret)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the server: {e}"))?;
        let pid = child.id();
        let ready = format!("http://{address}/readyz");
        for _ in 0..600 {
            if reqwest::get(&ready)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(Server {
                    child,
                    pid,
                    address,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("the server did not become ready".into())
    }

    /// Starts its peak resident set size again from what it holds now (`clear_refs` 5), so
    /// the next [`Server::peak_rss`] is the peak since this call.
    pub fn reset_peak_rss(&self) -> Result<(), String> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5")
            .map_err(|e| format!("resetting the peak RSS: {e}"))
    }

    /// Its peak resident set size so far (`VmHWM`, as the kernel prints it).
    pub fn peak_rss(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
