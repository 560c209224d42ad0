//! The scoring engine: pure functions from facts, catalog entries and override states to scores.
//!
//! No database and no async here, so every rule of DESIGN.md's "Scoring rules" is tested in
//! isolation.

pub mod action;
pub mod diff;
pub mod facts;
pub mod rule;
pub mod totals;

pub use action::{ActionDefinition, ActionResult, Progress, score_action};
pub use rule::{RuleOutcome, ScoringRule};
pub use totals::{CategoryTotal, DayScore, DayTotals, percentage, score_day, total_scores};
