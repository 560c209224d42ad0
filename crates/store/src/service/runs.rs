//! Reading scoring runs: one by id, or a page of them, newest first.

use std::collections::BTreeSet;

use entity::enums::ScoringRunStatus;
use entity::scoring_run;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::pagination::{Page, decode_cursor, encode_cursor, page_size};
use super::tenants::Visibility;
use crate::auth::{Operation, Viewer};
use crate::error::ApiResult;

/// Whose runs a caller may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunVisibility {
    /// Every run (a platform admin).
    All,
    /// The runs this subject requested over tenants all within `reach`.
    RequestedBy {
        /// The caller's token subject.
        subject: String,
        /// The tenants the caller's token reaches.
        reach: BTreeSet<String>,
    },
}

impl RunVisibility {
    /// The runs `viewer` may read, as the role matrix grants `ReadRuns`: every run when it
    /// reaches every tenant, otherwise the ones it requested over tenants all within its reach.
    pub fn of(viewer: &Viewer) -> RunVisibility {
        match Visibility::of(viewer, Operation::ReadRuns) {
            Visibility::All => RunVisibility::All,
            Visibility::Only(reach) => RunVisibility::RequestedBy {
                subject: viewer.subject.clone(),
                reach: reach.into_iter().collect(),
            },
        }
    }

    /// True when `run` is visible: a run over tenants one of which is out of the caller's
    /// reach is not, whoever requested it.
    pub fn allows(&self, run: &scoring_run::Model) -> bool {
        match self {
            RunVisibility::All => true,
            RunVisibility::RequestedBy { subject, reach } => {
                run.requested_by.as_ref() == Some(subject)
                    && run_scope(run).is_some_and(|scope| scope.iter().all(|t| reach.contains(t)))
            }
        }
    }
}

/// The tenants a run was asked for; `None`: every tenant.
fn run_scope(run: &scoring_run::Model) -> Option<Vec<String>> {
    match (&run.tenant_scope, &run.tenant_id) {
        (Some(scope), _) => serde_json::from_value(scope.clone()).ok(),
        (None, Some(tenant)) => Some(vec![tenant.clone()]),
        (None, None) => None,
    }
}

/// One run, if it exists and is visible.
pub async fn find_run(
    db: &DatabaseConnection,
    visibility: &RunVisibility,
    id: i64,
) -> ApiResult<Option<scoring_run::Model>> {
    let run = scoring_run::Entity::find_by_id(id).one(db).await?;
    Ok(run.filter(|run| visibility.allows(run)))
}

/// One page of the visible runs, newest first, optionally of one status.
pub async fn run_page(
    db: &DatabaseConnection,
    visibility: &RunVisibility,
    status: Option<ScoringRunStatus>,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<Page<scoring_run::Model>> {
    let size = page_size(first)?;
    let mut query = scoring_run::Entity::find().order_by_desc(scoring_run::Column::Id);
    if let RunVisibility::RequestedBy { subject, .. } = visibility {
        query = query.filter(scoring_run::Column::RequestedBy.eq(subject.clone()));
    }
    if let Some(status) = status {
        query = query.filter(scoring_run::Column::Status.eq(status));
    }
    let mut before: Option<i64> = after.map(decode_cursor).transpose()?;
    // Runs of this subject over tenants out of reach are skipped, so a page is read in
    // chunks until it is full or the runs run out.
    let wanted = usize::try_from(size + 1).unwrap_or(usize::MAX);
    let mut visible = Vec::with_capacity(wanted);
    loop {
        let mut chunk_query = query.clone();
        if let Some(id) = before {
            chunk_query = chunk_query.filter(scoring_run::Column::Id.lt(id));
        }
        let chunk = chunk_query.limit(size + 1).all(db).await?;
        let exhausted = chunk.len() < wanted;
        before = chunk.last().map(|r| r.id);
        visible.extend(chunk.into_iter().filter(|r| visibility.allows(r)));
        if exhausted || visible.len() >= wanted {
            break;
        }
    }
    visible.truncate(wanted);
    Ok(Page::from_rows(visible, size, after.is_some(), |r| {
        encode_cursor(&r.id)
    }))
}
