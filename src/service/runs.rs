//! Reading scoring runs: one by id, or a page of them, newest first.

use entity::enums::ScoringRunStatus;
use entity::scoring_run;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::pagination::{Page, decode_cursor, encode_cursor, page_size};
use crate::error::ApiResult;

/// Whose runs a caller may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunVisibility {
    /// Every run (a platform admin).
    All,
    /// Only the runs this subject requested.
    RequestedBy(String),
}

impl RunVisibility {
    /// True when `run` is visible.
    pub fn allows(&self, run: &scoring_run::Model) -> bool {
        match self {
            RunVisibility::All => true,
            RunVisibility::RequestedBy(subject) => run.requested_by.as_ref() == Some(subject),
        }
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
    if let RunVisibility::RequestedBy(subject) = visibility {
        query = query.filter(scoring_run::Column::RequestedBy.eq(subject.clone()));
    }
    if let Some(status) = status {
        query = query.filter(scoring_run::Column::Status.eq(status));
    }
    if let Some(cursor) = after {
        let id: i64 = decode_cursor(cursor)?;
        query = query.filter(scoring_run::Column::Id.lt(id));
    }
    let rows = query.limit(size + 1).all(db).await?;
    Ok(Page::from_rows(rows, size, after.is_some(), |r| {
        encode_cursor(&r.id)
    }))
}
