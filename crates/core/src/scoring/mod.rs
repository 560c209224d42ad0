//! The scoring engine: pure functions from facts, catalog entries and override states to scores.
//!
//! Every scoring decision lives here (rules, precedence, the override state and snapshot in
//! force, totals, coverage, comparison groups, ranking, diffs); services only load and store,
//! resolvers only map. No database and no async, so every rule of docs/design.md's "The
//! scoring rules" is tested in isolation.

pub mod action;
pub mod alerts;
pub mod comparison;
pub mod diff;
pub mod facts;
pub mod frameworks;
pub mod overrides;
pub mod planning;
pub mod rule;
pub mod runs;
pub mod snapshots;
pub mod totals;
pub mod trends;

pub use action::{
    ActionDefinition, ActionResult, Progress, percentage, potential_increase, rank_improvements,
    score_action, score_impact,
};
pub use frameworks::{ComplianceMapping, FrameworkScore, ScoredAction, framework_scores};
pub use rule::{RuleFields, RuleOutcome, ScoringRule};
pub use totals::{CategoryTotal, DayScore, DayTotals, LicenseGap, score_day, total_scores};
