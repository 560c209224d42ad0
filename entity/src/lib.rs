//! sea-orm entities for securescore's tables; the migrations crate is their only source.

pub mod action_override;
pub mod action_plan;
pub mod action_plan_change;
pub mod action_score_set;
pub mod alert;
pub mod alert_rule;
pub mod collection_run;
pub mod comparative_score;
pub mod daily_score;
pub mod directory_change;
pub mod enums;
pub mod graph_connection;
pub mod improvement_action;
pub mod latest_action_score;
pub mod latest_action_tally;
pub mod partner_application;
pub mod scoring_run;
pub mod scoring_task;
pub mod snapshot;
pub mod tenant;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;
