//! Typed access to what every resolver needs: the caller, the database, the settings.

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::auth::Viewer;
use crate::collector::Collector;
use crate::config::{ScoringConfig, WebhookConfig};
use crate::error::{ApiError, ApiResult};
use crate::pipeline::Pipeline;

/// Accessors on the resolver context; a missing viewer is UNAUTHENTICATED.
pub trait ContextExt {
    /// The verified caller.
    fn viewer(&self) -> ApiResult<&Viewer>;
    /// The database pool.
    fn db(&self) -> ApiResult<&DatabaseConnection>;
    /// Scoring settings.
    fn scoring(&self) -> ApiResult<&ScoringConfig>;
    /// The scoring pipeline.
    fn pipeline(&self) -> ApiResult<&Pipeline>;
    /// Webhook settings.
    fn webhooks(&self) -> ApiResult<&WebhookConfig>;
    /// The directory collector (and the secrets key it holds).
    fn collector(&self) -> ApiResult<&Collector>;
}

impl ContextExt for Context<'_> {
    fn viewer(&self) -> ApiResult<&Viewer> {
        self.data_opt::<Viewer>()
            .ok_or_else(|| ApiError::Unauthenticated("a bearer token is required".into()))
    }

    fn db(&self) -> ApiResult<&DatabaseConnection> {
        self.data_opt::<DatabaseConnection>()
            .ok_or_else(|| ApiError::Internal("no database in schema data".into()))
    }

    fn scoring(&self) -> ApiResult<&ScoringConfig> {
        self.data_opt::<ScoringConfig>()
            .ok_or_else(|| ApiError::Internal("no scoring settings in schema data".into()))
    }

    fn pipeline(&self) -> ApiResult<&Pipeline> {
        self.data_opt::<Pipeline>()
            .ok_or_else(|| ApiError::Internal("no scoring pipeline in schema data".into()))
    }

    fn webhooks(&self) -> ApiResult<&WebhookConfig> {
        self.data_opt::<WebhookConfig>()
            .ok_or_else(|| ApiError::Internal("no webhook settings in schema data".into()))
    }

    fn collector(&self) -> ApiResult<&Collector> {
        self.data_opt::<Collector>()
            .ok_or_else(|| ApiError::Internal("no collector in schema data".into()))
    }
}
