//! Starting securescore: database, migrations, catalog, optional demo data, then HTTP.

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;

use crate::auth::TokenVerifier;
use crate::collector::Collector;
use crate::config::ServeConfig;
use crate::graphql::build_schema;
use crate::http::connections::{ConnectionLimit, connection_cap, raise_open_file_limit};
use crate::http::listen::serve_http;
use crate::http::{App, metrics_router, router, shutdown_signal};
use crate::pipeline::{Background, Pipeline};
use crate::secrets::SecretsKey;
use crate::webhooks::delivery::Deliveries;
use crate::{db, demo, jobs, service};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The JWT keys could not be loaded.
    #[error("{0}")]
    Keys(#[from] crate::auth::verifier::KeyLoadError),
    /// Seeding failed.
    #[error("{0}")]
    Seed(String),
    /// An option has an unusable value.
    #[error("{0}")]
    Config(String),
    /// The address could not be bound.
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// A ready application: its router and the pieces background tasks need.
pub struct Prepared {
    /// The HTTP router.
    pub router: Router,
    /// The router of the separate metrics address, when `--metrics-bind` is set.
    pub metrics_router: Option<Router>,
    /// The database pool.
    pub db: sea_orm::DatabaseConnection,
    /// How long a client may take to send a request's headers.
    pub header_timeout: std::time::Duration,
    /// The places for client connections.
    pub connections: Arc<ConnectionLimit>,
    /// The scoring pipeline's handle.
    pub pipeline: Pipeline,
    /// The pipeline's background tasks, stopped when this is dropped.
    pub background: Background,
    /// The replica's jobs, whose queues tests drain with [`Jobs::run_pending`].
    pub jobs: Jobs,
}

/// Every kind of job this replica runs through the job engine.
#[derive(Clone)]
pub struct Jobs {
    scoring: Pipeline,
    collections: Collector,
    deliveries: Deliveries,
}

impl Jobs {
    /// Runs every claimable job of every kind, again while one queued another (a collection's
    /// snapshot, a run's comparisons), until none is left; answers how many ran. The loops
    /// keep running beside it: the claims keep each job to one runner.
    pub async fn run_pending(&self) -> Result<usize, sea_orm::DbErr> {
        let mut total = 0;
        loop {
            let ran = jobs::run_pending(&self.scoring).await?
                + jobs::run_pending(&self.collections).await?
                + jobs::run_pending(&self.deliveries).await?;
            if ran == 0 {
                return Ok(total);
            }
            total += ran;
        }
    }
}

/// Connects, migrates, loads the built-in catalog and (in demo mode) seeds; builds the router.
pub async fn prepare(mut config: ServeConfig) -> Result<Prepared, StartError> {
    crate::telemetry::recorder();
    let mut db = db::connect_with(
        config.database_url.expose_secret(),
        &config.database_timeouts,
    )
    .await?;
    crate::telemetry::count_statements(&mut db);
    db::migrate(&db).await?;
    let catalog_sync = service::catalog::load_built_in_catalog(&db)
        .await
        .map_err(|e| StartError::Seed(format!("loading the built-in catalog: {e:?}")))?;
    if catalog_sync.changed() || catalog_sync.kept > 0 {
        tracing::info!(
            added = catalog_sync.added,
            updated = catalog_sync.updated,
            kept_as_an_admin_changed_them = catalog_sync.kept,
            "built-in catalog"
        );
    }
    if config.demo && config.keys.secret.is_none() {
        config.keys.secret = Some(SecretString::from(demo::random_secret()));
    }
    let verifier = TokenVerifier::from_sources(&config.keys)?;
    config.graph.validate().map_err(StartError::Config)?;
    config.cost.validate().map_err(StartError::Config)?;
    let secrets = match &config.secrets_key_file {
        Some(path) => SecretsKey::from_file(path).map_err(StartError::Config)?,
        // The demo connects a directory, so it needs a key; this one lives as long as the
        // process (a credential it sealed does not open after a restart, and says so).
        None if config.demo => SecretsKey::random(),
        None => SecretsKey::default(),
    };
    let sealed = service::webhooks::seal_plaintext_signing_keys(&db, &secrets)
        .await
        .map_err(|e| StartError::Seed(format!("sealing webhook signing keys: {e:?}")))?;
    if sealed > 0 {
        tracing::info!(sealed, "webhook signing keys sealed under the secrets key");
    }
    // Starting the pipeline rescores every tenant's today, so a catalog the sync above changed
    // shows at once (and still does after a crash between that commit and this line).
    let (pipeline, mut background) = Pipeline::start(db.clone(), config.scoring);
    let collector = Collector::new(
        db.clone(),
        config.graph.clone(),
        secrets.clone(),
        pipeline.clone(),
    );
    let mut demo_tokens = None;
    if config.demo {
        demo::seed_if_empty(&db, &pipeline, &collector)
            .await
            .map_err(|e| StartError::Seed(format!("seeding demo data: {e:?}")))?;
        if let Some(secret) = &config.keys.secret {
            let tokens = demo::DemoTokens::new(
                secret.clone(),
                config.keys.issuer.clone(),
                config.keys.audience.clone(),
            );
            tokens.print(&config.bind.to_string());
            demo_tokens = Some(tokens);
        }
    }
    pipeline.start_scheduler(&mut background);
    background.adopt(tokio::spawn(db::checkpoint_wal_periodically(
        db.clone(),
        config.sqlite_checkpoint_interval,
    )));
    let jobs = Jobs {
        scoring: pipeline.clone(),
        collections: collector.clone(),
        deliveries: Deliveries::new(db.clone(), pipeline.replica(), config.webhooks, secrets),
    };
    background.adopt(tokio::spawn(jobs::run(jobs.deliveries.clone())));
    background.adopt(tokio::spawn(jobs::run(jobs.collections.clone())));
    if let Some(keys) = verifier.remote_keys() {
        // The identity provider's keys: loaded now, then refreshed on schedule.
        background.adopt(tokio::spawn(keys.run()));
    }
    let schema = build_schema(
        db.clone(),
        pipeline.clone(),
        config.scoring,
        config.webhooks,
        collector.clone(),
        &config.limits,
        config.cost,
    );
    let header_timeout = config.limits.request_timeout;
    let open_files = raise_open_file_limit();
    let cap = connection_cap(config.limits.max_connections, open_files);
    tracing::info!(
        open_files = open_files.unwrap_or_default(),
        max_connections = cap,
        "connection limits"
    );
    let connections = ConnectionLimit::new(cap);
    let app = Arc::new(App {
        schema,
        verifier,
        db: db.clone(),
        limits: config.limits,
        cors_origins: config
            .cors_origins
            .iter()
            .map(|origin| {
                HeaderValue::from_str(origin)
                    .map_err(|_| StartError::Config(format!("`{origin}` is not a valid origin")))
            })
            .collect::<Result<_, _>>()?,
        persisted: Default::default(),
        subscribers: Default::default(),
        demo_tokens,
        collector,
    });
    Ok(Prepared {
        router: router(app.clone(), config.metrics_bind.is_none()),
        metrics_router: config.metrics_bind.map(|_| metrics_router(app)),
        db,
        header_timeout,
        connections,
        pipeline,
        background,
        jobs,
    })
}

/// Connections the separate metrics address holds at once (scrapers, not clients).
const METRICS_CONNECTIONS: usize = 16;

/// Serves until SIGINT or SIGTERM, letting requests in flight finish.
pub async fn serve(config: ServeConfig) -> Result<(), StartError> {
    let (bind, metrics_bind) = (config.bind, config.metrics_bind);
    let mut prepared = prepare(config).await?;
    let listener = TcpListener::bind(bind).await?;
    tracing::info!(address = %listener.local_addr()?, "securescore listening; the dashboard at /, GraphiQL at /graphql");
    let metrics = match (metrics_bind, prepared.metrics_router.take()) {
        (Some(address), Some(router)) => {
            let listener = TcpListener::bind(address).await?;
            tracing::info!(metrics_address = %listener.local_addr()?, "metrics at /metrics");
            Some(tokio::spawn(serve_http(
                listener,
                router,
                prepared.header_timeout,
                ConnectionLimit::new(METRICS_CONNECTIONS),
                std::future::pending(),
            )))
        }
        _ => None,
    };
    serve_http(
        listener,
        prepared.router,
        prepared.header_timeout,
        prepared.connections.clone(),
        shutdown_signal(),
    )
    .await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    drop(prepared.background);
    prepared.db.close().await?;
    tracing::info!("securescore stopped");
    Ok(())
}
