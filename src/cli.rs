//! The `securescore` command line: every option is also an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveTime;
use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

use crate::auth::KeySources;
use crate::config::{RequestLimits, ScoringConfig, ServeConfig};
use crate::domain::Role;
use crate::graphql::budget::CostConfig;

/// securescore: daily security-configuration scores for many tenants, over GraphQL.
#[derive(Debug, Parser)]
#[command(name = "securescore", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve GraphQL.
    Serve(Box<ServeArgs>),
    /// Apply migrations and exit.
    Migrate(DatabaseArgs),
    /// Print an HS256 token signed with the configured secret.
    Token(TokenArgs),
}

/// Where the database is.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// sea-orm database URL: SQLite file by default, `postgres://…` in production.
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite://securescore.db?mode=rwc"
    )]
    pub database_url: String,
}

/// Token verification keys.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// HS256 shared secret (at least 16 bytes).
    #[arg(long, env = "SECURESCORE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM file with an RS256 (RSA) or ES256 (P-256) public key.
    #[arg(long, env = "SECURESCORE_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,
    /// JWKS file; keys are chosen by the token's `kid`.
    #[arg(long, env = "SECURESCORE_JWKS")]
    pub jwks: Option<PathBuf>,
    /// Required `iss` claim; not checked when unset.
    #[arg(long, env = "SECURESCORE_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim; not checked when unset.
    #[arg(long, env = "SECURESCORE_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[arg(long, env = "SECURESCORE_JWT_LEEWAY", default_value = "30s", value_parser = humantime::parse_duration)]
    pub jwt_leeway: Duration,
    /// Longest a token may still be valid for; a later `exp` is refused.
    #[arg(long, env = "SECURESCORE_JWT_MAX_LIFETIME", default_value = "24h", value_parser = humantime::parse_duration)]
    pub jwt_max_lifetime: Duration,
    /// Most tenants one token may reach (`tid` and `tenants` together).
    #[arg(long, env = "SECURESCORE_JWT_MAX_TENANTS", default_value_t = KeySources::default().max_tenants)]
    pub jwt_max_tenants: usize,
    /// An OpenID Provider (`https://login.microsoftonline.com/{tenant}/v2.0`): its discovery
    /// document names the JWKS, and tokens must carry its issuer.
    #[arg(long, env = "SECURESCORE_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// A JWKS URL (keys chosen by the token's `kid`).
    #[arg(long, env = "SECURESCORE_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// Accept plain-HTTP issuer and JWKS URLs (development and tests only).
    #[arg(long, env = "SECURESCORE_JWKS_ALLOW_HTTP")]
    pub jwks_allow_http: bool,
    /// How often the provider's keys are fetched again.
    #[arg(long, env = "SECURESCORE_JWKS_REFRESH", default_value = "1h", value_parser = humantime::parse_duration)]
    pub jwks_refresh: Duration,
    /// The soonest a token with an unknown `kid` may cause another fetch.
    #[arg(long, env = "SECURESCORE_JWKS_MIN_REFRESH", default_value = "30s", value_parser = humantime::parse_duration)]
    pub jwks_min_refresh: Duration,
    /// The claim that carries the caller's own tenant (Entra ID: `tid`).
    #[arg(long, env = "SECURESCORE_JWT_TENANT_CLAIM", default_value = "tid")]
    pub jwt_tenant_claim: String,
    /// The claim that carries the caller's roles (Entra ID app roles: `roles`).
    #[arg(long, env = "SECURESCORE_JWT_ROLES_CLAIM", default_value = "roles")]
    pub jwt_roles_claim: String,
}

impl KeyArgs {
    /// The key sources these flags name.
    pub fn key_sources(&self) -> KeySources {
        KeySources {
            secret: self.jwt_secret.clone().map(SecretString::from),
            public_key_pem: self.jwt_public_key.clone(),
            jwks: self.jwks.clone(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            leeway_seconds: self.jwt_leeway.as_secs(),
            max_lifetime_seconds: self.jwt_max_lifetime.as_secs(),
            max_tenants: self.jwt_max_tenants,
            oidc_issuer: self.oidc_issuer.clone(),
            jwks_url: self.jwks_url.clone(),
            jwks_allow_http: self.jwks_allow_http,
            jwks_refresh: crate::auth::remote_keys::RefreshPolicy {
                every: self.jwks_refresh,
                at_least: self.jwks_min_refresh,
                // `serve` sets it to the request timeout.
                sign_in_wait: Duration::from_secs(30),
            },
            tenant_claim: self.jwt_tenant_claim.clone(),
            roles_claim: self.jwt_roles_claim.clone(),
        }
    }
}

/// Options of `securescore serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SECURESCORE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Seed demo data when the database is empty and print a token per role.
    #[arg(long, env = "SECURESCORE_DEMO")]
    pub demo: bool,
    /// Token verification keys.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Smallest group whose average a comparison shows.
    #[arg(long, env = "SECURESCORE_COMPARISON_MIN_TENANTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub comparison_min_tenants: u32,
    /// UTC time of day (HH:MM) at which the previous date is closed.
    #[arg(long, env = "SECURESCORE_SCORING_TIME", default_value = "01:00", value_parser = parse_time_of_day)]
    pub scoring_time: NaiveTime,
    /// Closed dates checked for a missing close at start and at every tick.
    #[arg(long, env = "SECURESCORE_CATCH_UP_DAYS", default_value_t = ScoringConfig::default().catch_up_days)]
    pub catch_up_days: u32,
    /// How long `recomputeScores` waits for its run before answering with it (e.g. `10s`).
    #[arg(long, env = "SECURESCORE_RECOMPUTE_WAIT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub recompute_wait: Duration,
    /// Most tenant-days in one scoring task (the unit replicas claim and write at once).
    #[arg(long, env = "SECURESCORE_SCORING_BATCH", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub scoring_batch: u32,
    /// How long a replica's claim on a task lasts without renewal (a dead replica's task is
    /// taken over after it).
    #[arg(long, env = "SECURESCORE_SCORING_LEASE", default_value = "60s", value_parser = humantime::parse_duration)]
    pub scoring_lease: Duration,
    /// How often the scheduler looks for dates to close.
    #[arg(long, env = "SECURESCORE_SCORING_TICK", default_value = "60s", value_parser = humantime::parse_duration)]
    pub scoring_tick: Duration,
    /// How long action score sets no day names any more are kept after their tenant's last
    /// rewrite, for reads in flight (longer than the request timeout).
    #[arg(long, env = "SECURESCORE_SUPERSEDED_GRACE", default_value = "60s", value_parser = humantime::parse_duration)]
    pub superseded_grace: Duration,
    /// Memory for closed days read recently, in MiB (0 turns the cache off).
    #[arg(long, env = "SECURESCORE_SCORE_CACHE_MB", default_value_t = 32)]
    pub score_cache_mb: u64,
    /// How long a cached closed day (or the cached catalog, or a date's comparisons) is served
    /// before it is read again.
    #[arg(long, env = "SECURESCORE_SCORE_CACHE_TTL", default_value = "5m", value_parser = humantime::parse_duration)]
    pub score_cache_ttl: Duration,
    /// Deepest selection nesting a query may have.
    #[arg(long, env = "SECURESCORE_MAX_QUERY_DEPTH", default_value_t = RequestLimits::default().max_depth)]
    pub max_query_depth: usize,
    /// Most fields a document may select, aliases included and fragments expanded.
    #[arg(long, env = "SECURESCORE_MAX_QUERY_FIELDS", default_value_t = RequestLimits::default().max_fields)]
    pub max_query_fields: usize,
    /// Highest estimated cost of an operation (list fields multiply by their page size).
    #[arg(long, env = "SECURESCORE_MAX_QUERY_COMPLEXITY", default_value_t = RequestLimits::default().max_complexity)]
    pub max_query_complexity: usize,
    /// Query-cost points each caller (a token's subject) may spend at once on this replica;
    /// 0 turns budgets off. Default: two requests of the largest complexity allowed.
    #[arg(long, env = "SECURESCORE_COST_BUCKET")]
    pub cost_bucket: Option<u64>,
    /// Query-cost points restored to each caller's bucket a second. Default: a full bucket in
    /// 40 seconds.
    #[arg(long, env = "SECURESCORE_COST_RESTORE")]
    pub cost_restore: Option<f64>,
    /// Largest request body in bytes.
    #[arg(long, env = "SECURESCORE_MAX_BODY_BYTES", default_value_t = RequestLimits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// An origin (`https://dashboard.example.com`) whose browser pages may call the API;
    /// repeat for several. None: browsers may call only from the same origin.
    #[arg(
        long = "cors-origin",
        env = "SECURESCORE_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// A separate address for `/metrics` (e.g. `127.0.0.1:9090`), so it need not be public;
    /// without it `/metrics` is served with the API.
    #[arg(long, env = "SECURESCORE_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Longest wait for a pooled database connection before a request fails as unavailable.
    #[arg(long, env = "SECURESCORE_DB_ACQUIRE_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub db_acquire_timeout: Duration,
    /// Longest wait to open a database connection.
    #[arg(long, env = "SECURESCORE_DB_CONNECT_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub db_connect_timeout: Duration,
    /// Longest a PostgreSQL statement may run (`statement_timeout`).
    #[arg(long, env = "SECURESCORE_DB_STATEMENT_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub db_statement_timeout: Duration,
    /// How often SQLite's write-ahead log is checkpointed and truncated (SQLite only).
    #[arg(long, env = "SECURESCORE_SQLITE_CHECKPOINT_INTERVAL", default_value = "5m", value_parser = humantime::parse_duration)]
    pub sqlite_checkpoint_interval: Duration,
    /// Log lines as plain text or as one JSON object per line.
    #[arg(long, env = "SECURESCORE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Allow webhooks over plain HTTP and to private, loopback and link-local addresses
    /// (development and tests only).
    #[arg(long, env = "SECURESCORE_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// File holding base64 of 32 random bytes (`openssl rand -base64 32`): the key that
    /// encrypts stored Graph credentials and webhook signing secrets.
    #[arg(long, env = "SECURESCORE_SECRETS_KEY_FILE")]
    pub secrets_key_file: Option<PathBuf>,
    /// The Microsoft identity platform's base URL (national clouds: e.g.
    /// `https://login.microsoftonline.us`).
    #[arg(
        long,
        env = "SECURESCORE_GRAPH_AUTHORITY_URL",
        default_value = "https://login.microsoftonline.com"
    )]
    pub graph_authority_url: String,
    /// Microsoft Graph's base URL (national clouds: e.g. `https://graph.microsoft.us`).
    #[arg(
        long,
        env = "SECURESCORE_GRAPH_URL",
        default_value = "https://graph.microsoft.com"
    )]
    pub graph_url: String,
    /// The address browsers reach this server at, e.g. `https://score.example.com`: admin
    /// consent to the partner application comes back to its `/connect/consented`. Without it
    /// consent URLs are null.
    #[arg(long, env = "SECURESCORE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Accept plain-HTTP URLs for the identity platform and Graph (development and tests only).
    #[arg(long, env = "SECURESCORE_GRAPH_ALLOW_HTTP")]
    pub graph_allow_http: bool,
    /// How often every enabled directory connection is collected (e.g. `12h`).
    #[arg(long, env = "SECURESCORE_COLLECT_INTERVAL", default_value = "12h", value_parser = humantime::parse_duration)]
    pub collect_interval: Duration,
    /// Longest a request may run (e.g. `30s`).
    #[arg(long, env = "SECURESCORE_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
    /// Most client connections held at once, lowered to fit under the open-file limit (which
    /// the server raises to its hard limit at start) with 128 descriptors kept in reserve; at
    /// the cap, the connection idle the longest is closed for a newcomer.
    #[arg(long, env = "SECURESCORE_MAX_CONNECTIONS", default_value_t = RequestLimits::default().max_connections)]
    pub max_connections: usize,
}

impl ServeArgs {
    /// The typed configuration these flags describe.
    pub fn into_config(self) -> ServeConfig {
        let mut keys = self.keys.key_sources();
        keys.jwks_refresh.sign_in_wait = self.request_timeout;
        ServeConfig {
            bind: self.bind,
            database_url: self.database.database_url.into(),
            demo: self.demo,
            keys,
            scoring: ScoringConfig {
                comparison_min_tenants: self.comparison_min_tenants,
                scoring_time: self.scoring_time,
                run_scheduler: true,
                catch_up_days: self.catch_up_days,
                recompute_wait: self.recompute_wait,
                batch_tenant_days: self.scoring_batch as usize,
                lease: self.scoring_lease,
                tick: self.scoring_tick,
                superseded_grace: self.superseded_grace,
                score_cache_bytes: self.score_cache_mb.saturating_mul(1 << 20),
                score_cache_ttl: self.score_cache_ttl,
            },
            limits: RequestLimits {
                max_depth: self.max_query_depth,
                max_fields: self.max_query_fields,
                max_complexity: self.max_query_complexity,
                max_body_bytes: self.max_body_bytes,
                request_timeout: self.request_timeout,
                max_connections: self.max_connections,
            },
            cost: CostConfig::with_defaults(
                self.cost_bucket,
                self.cost_restore,
                self.max_query_complexity,
            ),
            cors_origins: self.cors_origins,
            metrics_bind: self.metrics_bind,
            sqlite_checkpoint_interval: self.sqlite_checkpoint_interval,
            database_timeouts: crate::db::DatabaseTimeouts {
                acquire: self.db_acquire_timeout,
                connect: self.db_connect_timeout,
                statement: self.db_statement_timeout,
            },
            webhooks: crate::config::WebhookConfig {
                allow_private: self.webhook_allow_private,
                ..Default::default()
            },
            graph: crate::config::GraphConfig {
                authority_url: self.graph_authority_url,
                graph_url: self.graph_url,
                allow_http: self.graph_allow_http,
                collect_interval: self.collect_interval,
                lease: self.scoring_lease,
                public_url: self.public_url,
                ..Default::default()
            },
            secrets_key_file: self.secrets_key_file,
        }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable text.
    Text,
    /// One JSON object per line.
    Json,
}

/// A role name as typed on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    /// GlobalAdmin.
    GlobalAdmin,
    /// SecurityAdmin.
    SecurityAdmin,
    /// SecurityReader.
    SecurityReader,
    /// Collector.
    Collector,
    /// PlatformAdmin.
    PlatformAdmin,
}

impl From<RoleArg> for Role {
    fn from(arg: RoleArg) -> Role {
        match arg {
            RoleArg::GlobalAdmin => Role::GlobalAdmin,
            RoleArg::SecurityAdmin => Role::SecurityAdmin,
            RoleArg::SecurityReader => Role::SecurityReader,
            RoleArg::Collector => Role::Collector,
            RoleArg::PlatformAdmin => Role::PlatformAdmin,
        }
    }
}

/// Options of `securescore token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Role to grant; repeat for several.
    #[arg(long = "role", required = true, value_enum)]
    pub roles: Vec<RoleArg>,
    /// Tenant within reach; the first becomes `tid`, the rest `tenants`.
    #[arg(long = "tenant")]
    pub tenants: Vec<String>,
    /// The `sub` claim.
    #[arg(long, default_value = "dev@securescore.local")]
    pub subject: String,
    /// Lifetime (e.g. `1h`, `30m`, `7d`).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
    /// HS256 secret to sign with.
    #[arg(long, env = "SECURESCORE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: String,
    /// `iss` claim to embed.
    #[arg(long, env = "SECURESCORE_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// `aud` claim to embed.
    #[arg(long, env = "SECURESCORE_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
}

/// Parses `HH:MM` (or `HH:MM:SS`) as a time of day.
fn parse_time_of_day(value: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(value, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(value, "%H:%M:%S"))
        .map_err(|_| format!("`{value}` is not a time of day like 01:00"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_defaults_hold() {
        let cli = Cli::try_parse_from(["securescore", "serve", "--jwt-secret", "0123456789abcdef"])
            .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let config = args.into_config();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.scoring.comparison_min_tenants, 5);
        assert_eq!(
            config.scoring.scoring_time,
            NaiveTime::from_hms_opt(1, 0, 0).unwrap()
        );
    }

    #[test]
    fn scoring_time_must_be_a_time_of_day() {
        assert!(parse_time_of_day("25:00").is_err());
        assert_eq!(
            parse_time_of_day("06:30").unwrap(),
            NaiveTime::from_hms_opt(6, 30, 0).unwrap()
        );
    }
}
