//! The `securescore` binary: `serve`, `migrate` and `token`.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use secrecy::SecretString;
use securescore::auth::mint::{TokenRequest, mint_hs256};
use securescore::cli::{Cli, Command, LogFormat};
use securescore::{db, server};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's malloc: a request allocates and frees thousands of small values
/// (GraphQL values, rows, JSON), and glibc's arenas spent about a fifth of the server's CPU on it
/// under the read benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match &cli.command {
        Command::Serve(args) => args.log_format,
        _ => LogFormat::Text,
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    let outcome = match cli.command {
        Command::Serve(args) => server::serve(args.into_config())
            .await
            .map_err(|e| e.to_string()),
        Command::Migrate(args) => migrate(&args.database_url).await,
        Command::Token(args) => {
            let request = TokenRequest {
                subject: args.subject,
                roles: args.roles.into_iter().map(Into::into).collect(),
                tenants: args.tenants,
                ttl: args.ttl,
                issuer: args.jwt_issuer,
                audience: args.jwt_audience,
            };
            mint_hs256(&SecretString::from(args.jwt_secret), &request)
                .map(|token| println!("{token}"))
                .map_err(|e| format!("cannot sign the token: {e}"))
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("securescore: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(database_url: &str) -> Result<(), String> {
    let db = db::connect(database_url)
        .await
        .map_err(|e| format!("database: {e}"))?;
    db::migrate(&db)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    tracing::info!("migrations applied");
    Ok(())
}
