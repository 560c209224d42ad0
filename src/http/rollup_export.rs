//! `GET /export/action-rollup.csv[?date=…][&framework=…][&tenant=…]`: the estate per action
//! (`Portfolio.actions`) as CSV, over the tenants in the caller's reach (narrowed by `tenant`),
//! with the same token, roles and budget as the other exports: one point per catalog action.

use std::collections::BTreeSet;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::caller::{Caller, NoCaller};
use super::export::{Refusal, charge, csv_response, encode, parse_date, unauthorized};
use crate::auth::Operation;
use crate::domain::ActionStatus;
use crate::service::action_rollup::{RollupDay, action_rollup};
use crate::service::catalog;
use crate::service::tenants::Visibility;

/// What was asked for, checked.
struct RollupRequest {
    day: RollupDay,
    framework: Option<String>,
    visibility: Visibility,
    caller: String,
}

/// The export handler.
pub async fn action_rollup_csv(
    State(app): State<AppState>,
    caller: Result<Caller, NoCaller>,
    RawQuery(query): RawQuery,
) -> Response {
    let request = match rollup_request(caller, query.as_deref()) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let unavailable = || {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database is unavailable".to_owned(),
        )
            .into_response()
    };
    let Ok(actions) = catalog::all_actions(&app.db).await else {
        return unavailable();
    };
    let cost = match charge(&app, &request.caller, actions.len().max(1) as u64) {
        Ok(cost) => cost,
        Err(refused) => return *refused,
    };
    let Ok(tallies) = action_rollup(&app.db, &request.visibility, request.day).await else {
        return unavailable();
    };
    let mut header: Vec<String> = ["action", "title", "category", "tenants"]
        .map(String::from)
        .to_vec();
    header.extend(ActionStatus::ALL.iter().map(|s| s.as_str().to_owned()));
    header.push("pointsAtStake".into());
    let mut records = vec![header];
    for tally in tallies {
        let Some(action) = actions.get(&tally.action_id) else {
            continue;
        };
        if let Some(framework) = &request.framework {
            let mapped = catalog::stored_compliance(action)
                .map(|mappings| mappings.iter().any(|m| &m.framework == framework))
                .unwrap_or(false);
            if !mapped {
                continue;
            }
        }
        let count = |status: ActionStatus| {
            tally
                .statuses
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n)
        };
        let mut record = vec![
            action.id.clone(),
            action.title.clone(),
            action.category.as_str().to_owned(),
            tally
                .statuses
                .iter()
                .map(|(_, n)| n)
                .sum::<i64>()
                .to_string(),
        ];
        record.extend(ActionStatus::ALL.iter().map(|s| count(*s).to_string()));
        record.push(tally.points_at_stake.to_string());
        records.push(record);
    }
    let body = encode(records);
    let mut response = csv_response(
        "action-rollup.csv",
        futures::stream::once(async move { body }),
    );
    if let Some(cost) = &cost {
        super::graphql::insert_cost_headers(&mut response, cost);
    }
    response
}

/// Authenticates, authorizes and parses the query string; refusals are short text bodies.
fn rollup_request(
    caller: Result<Caller, NoCaller>,
    query: Option<&str>,
) -> Result<RollupRequest, Refusal> {
    let Caller { viewer, label, .. } = caller.map_err(unauthorized)?;
    viewer
        .require(Operation::ReadTenantData)
        .map_err(|err| (StatusCode::FORBIDDEN, err.message().to_owned()))?;
    let (mut day, mut framework, mut tenants) = (RollupDay::Latest, None, BTreeSet::new());
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "date" => day = RollupDay::On(parse_date("date", &value)?),
            "framework" => framework = Some(value.into_owned()),
            "tenant" => {
                tenants.insert(value.into_owned());
            }
            other => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("unknown parameter `{other}`; use date, framework and tenant"),
                ));
            }
        }
    }
    Ok(RollupRequest {
        day,
        framework,
        // Tenants out of reach are simply absent, as if they did not exist.
        visibility: Visibility::of(&viewer, Operation::ReadTenantData).narrowed(tenants),
        caller: label,
    })
}
