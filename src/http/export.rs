//! CSV export of stored scores: `GET /export/scores.csv` and `GET /export/action-scores.csv`,
//! streamed in batches that the service reads (`service::export`; constant memory whatever the
//! range), for the tenants in the caller's reach, with the same token and roles as reading
//! scores. This module checks the request, and turns rows into RFC 4180 records.

use std::collections::BTreeSet;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use entity::daily_score;
use futures::{Stream, StreamExt};
use sea_orm::{DatabaseConnection, DbErr};

use super::AppState;
use super::caller::{Caller, NoCaller};
use crate::auth::Operation;
use crate::domain::ActionCategory;
use crate::error::ApiError;
use crate::graphql::budget::CostReport;
use crate::service::daily_scores::DateRange;
use crate::service::export;
use crate::service::tenants::Visibility;

/// Why an export is refused: a status and a short text.
pub(super) type Refusal = (StatusCode, String);

/// What was asked for, checked.
struct ExportRequest {
    range: DateRange,
    visibility: Visibility,
    /// Who asks (their budget pays for the rows).
    caller: String,
}

/// `GET /export/scores.csv?from=…&to=…[&tenant=…]`: one row per tenant-day.
pub async fn scores_csv(
    State(app): State<AppState>,
    caller: Result<Caller, NoCaller>,
    RawQuery(query): RawQuery,
) -> Response {
    export(&app, caller, query.as_deref(), "scores.csv", ScoreRows).await
}

/// `GET /export/action-scores.csv?from=…&to=…[&tenant=…]`: one row per tenant-day and action.
pub async fn action_scores_csv(
    State(app): State<AppState>,
    caller: Result<Caller, NoCaller>,
    RawQuery(query): RawQuery,
) -> Response {
    export(
        &app,
        caller,
        query.as_deref(),
        "action-scores.csv",
        ActionScoreRows,
    )
    .await
}

/// One export: checked, then streamed as `filename`.
async fn export<R: RowKind>(
    app: &AppState,
    caller: Result<Caller, NoCaller>,
    query: Option<&str>,
    filename: &str,
    kind: R,
) -> Response {
    let request = match export_request(caller, query) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let cost = match charge_rows(app, &request, kind.rows_per_day()).await {
        Ok(cost) => cost,
        Err(refused) => return refused,
    };
    let mut response = csv_response(filename, rows_stream(app.db.clone(), request, kind));
    if let Some(cost) = &cost {
        super::graphql::insert_cost_headers(&mut response, cost);
    }
    response
}

/// Charges an export's rows to its caller's budget before anything is streamed, as GraphQL
/// charges a query before it runs: 429 with `Retry-After` when the bucket does not hold them
/// yet, 400 when it never could. Nothing is charged with budgets off.
async fn charge_rows(
    app: &AppState,
    request: &ExportRequest,
    rows_per_day: u64,
) -> Result<Option<CostReport>, Response> {
    if app.schema.budgets().is_none() {
        return Ok(None);
    }
    let days = export::day_rows(&app.db, request.range, &request.visibility)
        .await
        .map_err(|_| {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable".to_owned(),
            )
                .into_response()
        })?;
    charge(
        app,
        &request.caller,
        days.saturating_mul(rows_per_day).max(1),
    )
    .map_err(|refused| *refused)
}

/// Charges `cost` points (one a row) to `caller`'s budget: 429 with `Retry-After` when the
/// bucket does not hold them yet, 400 when it never could. Nothing is charged with budgets off.
pub(super) fn charge(
    app: &AppState,
    caller: &str,
    cost: u64,
) -> Result<Option<CostReport>, Box<Response>> {
    let Some(budgets) = app.schema.budgets() else {
        return Ok(None);
    };
    let bucket = budgets.config().bucket;
    let refused = |status: StatusCode, message: String, report: CostReport| {
        let mut response = (status, message).into_response();
        super::graphql::insert_cost_headers(&mut response, &report);
        response
    };
    if cost > bucket {
        metrics::counter!(crate::telemetry::COST_REFUSALS, "reason" => "larger_than_bucket")
            .increment(1);
        return Err(Box::new(refused(
            StatusCode::BAD_REQUEST,
            format!(
                "the export holds {cost} rows, more than the whole budget of {bucket} points \
                 (ask for fewer days or tenants)"
            ),
            budgets.status(caller),
        )));
    }
    match budgets.charge(caller, cost) {
        Ok(report) => Ok(Some(report)),
        Err(report) => {
            metrics::counter!(crate::telemetry::COST_REFUSALS, "reason" => "throttled")
                .increment(1);
            let wait = report.seconds_until(cost as f64);
            let mut response = refused(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "throttled: the export costs {cost} points (one a row) and {:.0} are left; \
                     retry in {wait} s",
                    report.throttle_status.currently_available.floor()
                ),
                report,
            );
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Err(Box::new(response))
        }
    }
}

/// Authenticates, authorizes and parses the query string; refusals are short text bodies.
fn export_request(
    caller: Result<Caller, NoCaller>,
    query: Option<&str>,
) -> Result<ExportRequest, Refusal> {
    let refuse = |status: StatusCode, message: String| (status, message);
    let Caller { viewer, label, .. } = caller.map_err(unauthorized)?;
    viewer
        .require(Operation::ReadTenantData)
        .map_err(|err| refuse(StatusCode::FORBIDDEN, err.message().to_owned()))?;
    let (mut from, mut to, mut tenants) = (None, None, BTreeSet::new());
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "from" => from = Some(parse_date("from", &value)?),
            "to" => to = Some(parse_date("to", &value)?),
            "tenant" => {
                tenants.insert(value.into_owned());
            }
            other => {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    format!("unknown parameter `{other}`; use from, to and tenant"),
                ));
            }
        }
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "from and to (YYYY-MM-DD) are required".into(),
        ));
    };
    let range = DateRange::parse(from, to).map_err(|err| match err {
        ApiError::BadUserInput(message) => refuse(StatusCode::BAD_REQUEST, message),
        other => refuse(StatusCode::BAD_REQUEST, other.message().to_owned()),
    })?;
    // Tenants out of reach are simply absent, as if they did not exist.
    let visibility = Visibility::of(&viewer, Operation::ReadTenantData).narrowed(tenants);
    Ok(ExportRequest {
        range,
        visibility,
        caller: label,
    })
}

/// A request without a verified caller: 401 with the reason.
pub(super) fn unauthorized(NoCaller(err): NoCaller) -> Refusal {
    (StatusCode::UNAUTHORIZED, err.message().to_owned())
}

/// A `YYYY-MM-DD` parameter, or a 400 naming it.
pub(super) fn parse_date(name: &str, value: &str) -> Result<NaiveDate, Refusal> {
    value.parse().map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            format!("{name} must be a date like 2026-01-31"),
        )
    })
}

/// A streamed CSV download.
pub(super) fn csv_response(
    filename: &str,
    stream: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
) -> Response {
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// One kind of exported row: its header, how to read a batch after a position, how to write it.
trait RowKind: Send + Sync + 'static {
    /// A stored row.
    type Row: Send + Sync;
    /// The position to continue after.
    type Key: Clone + Send + Sync;
    /// The header record.
    fn header(&self) -> Vec<String>;
    /// Rows one stored tenant-day makes (what an export is charged per day row).
    fn rows_per_day(&self) -> u64;
    /// The next batch of rows of `tenants` (all when `None`) after `after`, in key order.
    fn batch(
        &self,
        db: &DatabaseConnection,
        range: DateRange,
        tenants: Option<&[String]>,
        after: Option<Self::Key>,
    ) -> impl std::future::Future<Output = Result<Vec<Self::Row>, DbErr>> + Send;
    /// A row's position.
    fn key(&self, row: &Self::Row) -> Self::Key;
    /// A row's tenant.
    fn tenant<'r>(&self, row: &'r Self::Row) -> &'r str;
    /// A row's record, after its tenant's id and name.
    fn record(&self, row: &Self::Row) -> Result<Vec<String>, String>;
}

/// Rows of `daily_scores`.
struct ScoreRows;

impl RowKind for ScoreRows {
    fn rows_per_day(&self) -> u64 {
        1
    }

    type Row = daily_score::Model;
    type Key = (String, NaiveDate);

    fn header(&self) -> Vec<String> {
        let mut header: Vec<String> = [
            "tenant",
            "tenantName",
            "date",
            "score",
            "maxScore",
            "percentage",
            "coverage",
            "noDataMaxScore",
            "final",
        ]
        .map(String::from)
        .to_vec();
        header.extend(ActionCategory::ALL.iter().map(|c| c.as_str().to_owned()));
        header
    }

    async fn batch(
        &self,
        db: &DatabaseConnection,
        range: DateRange,
        tenants: Option<&[String]>,
        after: Option<Self::Key>,
    ) -> Result<Vec<Self::Row>, DbErr> {
        export::score_rows_after(db, range, tenants, after).await
    }

    fn key(&self, row: &Self::Row) -> Self::Key {
        (row.tenant_id.clone(), row.date)
    }

    fn tenant<'r>(&self, row: &'r Self::Row) -> &'r str {
        &row.tenant_id
    }

    fn record(&self, row: &Self::Row) -> Result<Vec<String>, String> {
        let categories = row.categories.every();
        let mut record = vec![
            row.date.to_string(),
            row.score.to_string(),
            row.max_score.to_string(),
            row.percentage.to_string(),
            row.coverage.to_string(),
            row.no_data_max_score.to_string(),
            row.r#final.to_string(),
        ];
        record.extend(ActionCategory::ALL.iter().map(|category| {
            categories
                .iter()
                .find(|c| c.category == *category)
                .map_or_else(|| "0".to_owned(), |c| c.score.to_string())
        }));
        Ok(record)
    }
}

/// One row per action of each stored day.
struct ActionScoreRows;

impl RowKind for ActionScoreRows {
    fn rows_per_day(&self) -> u64 {
        crate::service::catalog::shipped_entries() as u64
    }

    type Row = export::ExportedActionScore;
    type Key = (String, NaiveDate, String);

    fn header(&self) -> Vec<String> {
        [
            "tenant",
            "tenantName",
            "date",
            "action",
            "status",
            "state",
            "score",
            "maxScore",
            "progressCurrent",
            "progressTotal",
        ]
        .map(String::from)
        .to_vec()
    }

    async fn batch(
        &self,
        db: &DatabaseConnection,
        range: DateRange,
        tenants: Option<&[String]>,
        after: Option<Self::Key>,
    ) -> Result<Vec<Self::Row>, DbErr> {
        export::action_score_rows_after(db, range, tenants, after).await
    }

    fn key(&self, row: &Self::Row) -> Self::Key {
        (
            row.tenant_id.clone(),
            row.date,
            row.result.action_id.clone(),
        )
    }

    fn tenant<'r>(&self, row: &'r Self::Row) -> &'r str {
        &row.tenant_id
    }

    fn record(&self, row: &Self::Row) -> Result<Vec<String>, String> {
        let number = |n: Option<f64>| n.map(|n| n.to_string()).unwrap_or_default();
        Ok(vec![
            row.date.to_string(),
            row.result.action_id.clone(),
            row.result.status.as_str().to_owned(),
            row.result.state.as_str().to_owned(),
            row.result.score.to_string(),
            row.result.max_score.to_string(),
            number(row.result.progress_current),
            number(row.result.progress_total),
        ])
    }
}

/// Where a stream stands: which group of tenants, and the last row written.
struct Cursor<K> {
    group: usize,
    after: Option<K>,
    header_sent: bool,
    done: bool,
}

/// The CSV, header first, then batch after batch until the rows run out.
fn rows_stream<R: RowKind>(
    db: DatabaseConnection,
    request: ExportRequest,
    kind: R,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let groups = export::tenant_groups(&request.visibility);
    let start = Cursor::<R::Key> {
        group: 0,
        after: None,
        header_sent: false,
        done: false,
    };
    // Fused: a body that is polled again after its end (tower-http's compression does, when
    // the encoder flushes) must keep answering "done", never panic.
    futures::stream::unfold(
        (start, db, groups, request.range, kind),
        |(mut cursor, db, groups, range, kind)| async move {
            if cursor.done {
                return None;
            }
            if !cursor.header_sent {
                cursor.header_sent = true;
                let chunk = encode(std::iter::once(kind.header()));
                return Some((chunk, (cursor, db, groups, range, kind)));
            }
            loop {
                let group = groups.get(cursor.group)?;
                let rows = match kind
                    .batch(&db, range, group.as_deref(), cursor.after.clone())
                    .await
                {
                    Ok(rows) => rows,
                    Err(err) => {
                        tracing::error!(error = %err, "CSV export stopped by a database error");
                        cursor.done = true;
                        let failure = Err(std::io::Error::other("export failed"));
                        return Some((failure, (cursor, db, groups, range, kind)));
                    }
                };
                let Some(last) = rows.last() else {
                    cursor.group += 1;
                    cursor.after = None;
                    continue;
                };
                cursor.after = Some(kind.key(last));
                let names = match export::tenant_names(&db, rows.iter().map(|row| kind.tenant(row)))
                    .await
                {
                    Ok(names) => names,
                    Err(err) => {
                        tracing::error!(error = %err, "CSV export stopped by a database error");
                        cursor.done = true;
                        let failure = Err(std::io::Error::other("export failed"));
                        return Some((failure, (cursor, db, groups, range, kind)));
                    }
                };
                let records: Result<Vec<Vec<String>>, String> = rows
                    .iter()
                    .map(|row| {
                        let tenant = kind.tenant(row);
                        let name = names.get(tenant).cloned().unwrap_or_default();
                        let mut record = vec![tenant.to_owned(), name];
                        record.extend(kind.record(row)?);
                        Ok(record)
                    })
                    .collect();
                let chunk = match records {
                    Ok(records) => encode(records),
                    Err(err) => {
                        tracing::error!(error = %err, "CSV export stopped by a corrupt row");
                        cursor.done = true;
                        Err(std::io::Error::other("export failed"))
                    }
                };
                return Some((chunk, (cursor, db, groups, range, kind)));
            }
        },
    )
    .fuse()
}

/// A cell a spreadsheet would run as a formula (its first character `=`, `+`, `-`, `@`, a tab
/// or a carriage return) with a `'` before it, as OWASP advises; numbers (a negative change)
/// stay numbers.
fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && cell.parse::<f64>().map_or(true, |n| !n.is_finite()) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// RFC 4180 records (quoted where needed, CRLF line ends), each cell made inert for
/// spreadsheets ([`neutralised`]).
pub(super) fn encode(
    records: impl IntoIterator<Item = Vec<String>>,
) -> Result<Bytes, std::io::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for record in records {
        for cell in &record {
            writer
                .write_field(neutralised(cell).as_bytes())
                .map_err(std::io::Error::other)?;
        }
        writer
            .write_record(None::<&[u8]>)
            .map_err(std::io::Error::other)?;
    }
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|e| std::io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        let encoded = encode([vec![
            "=HYPERLINK(\"http://x\",\"y\")".to_owned(),
            "+1+1".into(),
            "-2+3".into(),
            "@SUM(A1)".into(),
            "\tx".into(),
            "-3.5".into(),
            "Contoso".into(),
        ]])
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&encoded).unwrap(),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+1+1,'-2+3,'@SUM(A1),'\tx,-3.5,Contoso\r\n"
        );
    }
}
