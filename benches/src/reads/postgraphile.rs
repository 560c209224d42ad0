//! PostGraphile 4 and 5 as the baselines of `securescore-bench reads`: started from npm installs
//! of `benches/postgraphile` and `benches/postgraphile5` on the benchmark's PostgreSQL database,
//! sent the closest equivalent of the dashboard query over the same tables, their CPU read from
//! `/proc` like the server's.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

/// The dashboard as PostGraphile answers it with no code: the tenant, its newest day with the
/// categories, 90 days of history, today's action rows with their catalog entries, and the
/// three comparison groups the client names (PostGraphile knows nothing of groups or reach).
pub const DASHBOARD: &str = "query Dashboard($id: String!, $today: Date!, $industry: String!, $seats: String!) {
  tenantById(id: $id) {
    id name goal
    latest: dailyScoresByTenantId(orderBy: DATE_DESC, first: 1) { nodes { date score maxScore percentage coverage plannedScore categories } }
    trend: dailyScoresByTenantId(orderBy: DATE_DESC, first: 90) { nodes { date score maxScore percentage } }
    actions: dailyActionScoresByTenantId(condition: {date: $today}) { nodes { improvementActionByActionId { id title category } status score maxScore } }
  }
  all: allComparativeScores(condition: {date: $today, basis: \"ALL_TENANTS\"}) { nodes { basis groupKey tenantCount averagePercentage } }
  industry: allComparativeScores(condition: {date: $today, basis: \"INDUSTRY\", groupKey: $industry}) { nodes { basis groupKey tenantCount averagePercentage } }
  seats: allComparativeScores(condition: {date: $today, basis: \"SEAT_SIZE\", groupKey: $seats}) { nodes { basis groupKey tenantCount averagePercentage } }
}";

/// The variables of `DASHBOARD` for one tenant on `today`, with its industry and seat groups.
pub fn dashboard_variables(tenant: &str, today: &str, industry: &str, seats: &str) -> Value {
    json!({"id": tenant, "today": today, "industry": industry, "seats": seats})
}

/// A PostGraphile process group (the CLI, and its cluster workers when there are several).
pub struct PostGraphile {
    child: std::process::Child,
    /// The process group, which is the CLI's pid.
    pub group: u32,
    /// Where it answers GraphQL.
    pub url: String,
}

impl PostGraphile {
    /// Starts PostGraphile 4 (`node <dir>/node_modules/postgraphile/cli.js`) on `database_url`
    /// with `workers` cluster workers (one: no cluster), and waits until it answers.
    pub async fn start(dir: &Path, database_url: &str, workers: usize) -> Result<Self, String> {
        let cli = installed(dir, "node_modules/postgraphile/cli.js")?;
        let port = free_port()?;
        let mut command = std::process::Command::new("node");
        command
            .arg(&cli)
            .args(["--connection", database_url, "--schema", "public"])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--disable-query-log");
        if workers > 1 {
            command.args(["--cluster-workers", &workers.to_string()]);
        }
        Self::spawn(command, port).await
    }

    /// Starts PostGraphile 5 (`<node> <dir>/node_modules/postgraphile/dist/cli-run.js`, the
    /// amber preset with the V4 preset, so the schema keeps PostGraphile 4's names and the
    /// same query runs) on `database_url` with the Node.js binary `node`, and waits until it
    /// answers.
    pub async fn start_v5(dir: &Path, node: &Path, database_url: &str) -> Result<Self, String> {
        let cli = installed(dir, "node_modules/postgraphile/dist/cli-run.js")?;
        let port = free_port()?;
        let mut command = std::process::Command::new(node);
        command
            .env("GRAPHILE_ENV", "production")
            .arg(&cli)
            .args(["-P", "postgraphile/presets/amber,postgraphile/presets/v4"])
            .args(["-c", database_url, "-s", "public"])
            .args(["-n", "127.0.0.1", "-p", &port.to_string()]);
        Self::spawn(command, port).await
    }

    async fn spawn(mut command: std::process::Command, port: u16) -> Result<Self, String> {
        use std::os::unix::process::CommandExt;
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("starting PostGraphile with node: {e}"))?;
        let group = child.id();
        let url = format!("http://127.0.0.1:{port}/graphql");
        let client = reqwest::Client::new();
        let baseline = PostGraphile { child, group, url };
        for _ in 0..600 {
            let answered = client
                .post(&baseline.url)
                .json(&json!({"query": "{ __typename }"}))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if answered {
                return Ok(baseline);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("PostGraphile did not answer within a minute".into())
    }
}

/// `file` under an npm install in `dir`, or how to install it.
fn installed(dir: &Path, file: &str) -> Result<std::path::PathBuf, String> {
    let path = dir.join(file);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: run `npm ci --prefix {}` first",
            path.display(),
            dir.display()
        ))
    }
}

/// A port nothing listens on now.
fn free_port() -> Result<u16, String> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(probe.local_addr().map_err(|e| e.to_string())?.port())
}

impl Drop for PostGraphile {
    fn drop(&mut self) {
        // The whole group, cluster workers included.
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.group)])
            .status();
        let _ = self.child.wait();
    }
}
