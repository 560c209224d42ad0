//! A tenant's action results of one scored day, packed into one row that every day with the
//! same results shares: history grows with what changed, not with days × actions.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::enums::{ActionCategory, ActionState, ActionStatus};

/// One row of `action_score_sets`: immutable once written; days name it by id.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "action_score_sets")]
pub struct Model {
    /// Server-assigned id, named by `daily_scores.action_set_id`.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant whose days share the set.
    pub tenant_id: String,
    /// The computation that wrote it (microseconds since the epoch; 0 when migrated), so the
    /// sweeper leaves alone a set a writer has not named yet.
    pub version: i64,
    /// The first eight bytes of the SHA-256 of `results` ([`digest`]): how a writer finds a
    /// stored set equal to the one it would write without reading the set itself.
    pub digest: i64,
    /// The results, one JSON array per action in action id order ([`encode`]).
    pub results: String,
}

/// Relations of `action_score_sets` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// One action's result on a day, as scored then.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "Packed", from = "Packed")]
pub struct ActionResult {
    /// Catalog action.
    pub action_id: String,
    /// Points earned.
    pub score: f64,
    /// Points this action counted for in the day's maximum.
    pub max_score: f64,
    /// Why the points are what they are.
    pub status: ActionStatus,
    /// The override state in force.
    pub state: ActionState,
    /// Progress numerator of a RATIO rule.
    pub progress_current: Option<f64>,
    /// Progress denominator of a RATIO rule.
    pub progress_total: Option<f64>,
    /// The catalog's maxScore when the day was scored (for CATALOG_CHANGED).
    pub catalog_max_score: f64,
    /// The catalog's scored flag when the day was scored.
    pub catalog_scored: bool,
    /// The catalog's deprecated flag when the day was scored.
    pub catalog_deprecated: bool,
    /// The action's category when the day was scored.
    pub category: ActionCategory,
}

/// How a result is stored: a positional array, so a set does not repeat field names.
#[derive(Clone, Serialize, Deserialize)]
struct Packed(
    String,
    f64,
    f64,
    ActionStatus,
    ActionState,
    Option<f64>,
    Option<f64>,
    f64,
    bool,
    bool,
    ActionCategory,
);

impl From<ActionResult> for Packed {
    fn from(r: ActionResult) -> Packed {
        Packed(
            r.action_id,
            r.score,
            r.max_score,
            r.status,
            r.state,
            r.progress_current,
            r.progress_total,
            r.catalog_max_score,
            r.catalog_scored,
            r.catalog_deprecated,
            r.category,
        )
    }
}

impl From<Packed> for ActionResult {
    fn from(p: Packed) -> ActionResult {
        ActionResult {
            action_id: p.0,
            score: p.1,
            max_score: p.2,
            status: p.3,
            state: p.4,
            progress_current: p.5,
            progress_total: p.6,
            catalog_max_score: p.7,
            catalog_scored: p.8,
            catalog_deprecated: p.9,
            category: p.10,
        }
    }
}

/// The stored text of a day's results, which must be in action id order.
pub fn encode(results: &[ActionResult]) -> Result<String, serde_json::Error> {
    serde_json::to_string(results)
}

/// A set's results as stored, in action id order.
pub fn decode(results: &str) -> Result<Vec<ActionResult>, DbErr> {
    serde_json::from_str(results)
        .map_err(|e| DbErr::Custom(format!("a stored action score set does not read back: {e}")))
}

/// The digest stored with a set's text.
pub fn digest(results: &str) -> i64 {
    let hash = Sha256::digest(results.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    i64::from_be_bytes(first)
}
