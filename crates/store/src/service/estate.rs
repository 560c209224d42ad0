//! A partner's estate: tenants sorted and filtered by their latest percentage and its change,
//! in the database, with keyset cursors that stay correct under every order.

use chrono::NaiveDate;
use entity::{daily_score, latest_action_score, tenant};
use sea_orm::sea_query::{
    Alias, Asterisk, Cond, Expr, ExprTrait, JoinType, Order, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult};
use serde::{Deserialize, Serialize};

use super::pagination::{Page, decode_cursor, encode_cursor, page_size};
use super::tenants::Visibility;
use crate::domain::ActionStatus;
use crate::error::{ApiError, ApiResult};
use crate::scoring::comparison::seat_bucket_bounds;

/// What the estate can be ordered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EstateOrderField {
    /// Tenant id.
    Id,
    /// Tenant name, ties by id.
    Name,
    /// Latest percentage; tenants without a score last.
    Percentage,
    /// Latest percentage minus the one `change_days` before; tenants without one last.
    PercentageChange,
}

/// An order and its direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateOrder {
    /// The field.
    pub field: EstateOrderField,
    /// True for descending.
    pub descending: bool,
}

/// Which tenants to list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EstateFilter {
    /// Exact industry.
    pub industry: Option<String>,
    /// A seat-size group label such as `101-1000`.
    pub seat_size_group: Option<String>,
    /// Latest percentage at least this.
    pub percentage_at_least: Option<f64>,
    /// Latest percentage below this.
    pub percentage_below: Option<f64>,
    /// The latest day has this action in one of these statuses.
    pub action: Option<ActionStatusCondition>,
}

/// A tenant's latest day has `action_id` in one of `statuses`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionStatusCondition {
    /// The catalog action.
    pub action_id: String,
    /// The statuses that match (at least one).
    pub statuses: Vec<ActionStatus>,
}

/// One tenant of the estate with the figures it was sorted by.
#[derive(Clone, Debug, PartialEq)]
pub struct EstateRow {
    /// The tenant.
    pub tenant: tenant::Model,
    /// Its latest percentage.
    pub percentage: Option<f64>,
    /// Its latest percentage minus the one `change_days` before it.
    pub percentage_change: Option<f64>,
}

/// A position in a non-default order: the order it was taken under, the sort value, the id.
#[derive(Debug, Serialize, Deserialize)]
struct OrderedCursor {
    order: EstateOrder,
    change_days: i32,
    value: Option<SortValue>,
    id: String,
}

/// A sort value. A number travels as its exact bits: a decimal text of it may not parse back
/// to the same `f64` (serde_json parses floats fast, not always exactly), and a cursor whose
/// value compares unequal on the way back repeats or skips a row.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum SortValue {
    Number(#[serde(with = "exact_bits")] f64),
    Text(String),
}

/// An `f64` as the integer of its bits.
mod exact_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(value.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        u64::deserialize(deserializer).map(f64::from_bits)
    }
}

/// `changeDays` when omitted.
pub const DEFAULT_CHANGE_DAYS: i32 = 7;
/// Longest `changeDays`.
pub const MAX_CHANGE_DAYS: i32 = 366;

/// One page of the estate. The default order (id ascending) keeps plain id cursors; every
/// other order's cursor names its order and is refused under another.
pub async fn estate_page(
    db: &DatabaseConnection,
    visibility: &Visibility,
    order: EstateOrder,
    filter: &EstateFilter,
    change_days: i32,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<Page<EstateRow>> {
    let size = page_size(first)?;
    if !(1..=MAX_CHANGE_DAYS).contains(&change_days) {
        return Err(ApiError::BadUserInput(format!(
            "changeDays must be from 1 to {MAX_CHANGE_DAYS}"
        )));
    }
    let default_order = order.field == EstateOrderField::Id && !order.descending;
    let estate = Alias::new("estate");
    let mut outer = Query::select()
        .column((estate.clone(), Asterisk))
        .from_subquery(
            estate_rows(db.get_database_backend(), visibility, filter, change_days)?,
            estate.clone(),
        )
        .to_owned();
    let col = |name: &str| Expr::col((estate.clone(), Alias::new(name)));
    restrict_percentage(&mut outer, &estate, filter);
    let (sort, nullable) = match order.field {
        EstateOrderField::Id => (col("id"), false),
        EstateOrderField::Name => (col("name"), false),
        EstateOrderField::Percentage => (col("pct"), true),
        EstateOrderField::PercentageChange => (col("pct_change"), true),
    };
    if let Some(cursor) = after {
        let condition = if default_order {
            let id: String = decode_cursor(cursor)?;
            Cond::all().add(col("id").gt(id))
        } else {
            let position: OrderedCursor = decode_cursor(cursor).map_err(|_| wrong_cursor())?;
            if position.order != order || position.change_days != change_days {
                return Err(wrong_cursor());
            }
            after_position(
                sort.clone(),
                col("id"),
                nullable,
                order.descending,
                position,
            )?
        };
        outer.cond_where(condition);
    }
    if nullable {
        // Tenants without the figure come last in both directions.
        outer.order_by_expr(sort.clone().is_null(), Order::Asc);
    }
    let direction = if order.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    outer
        .order_by_expr(sort, direction)
        .order_by_expr(col("id"), Order::Asc)
        .limit(size + 1);
    let rows = db.query_all(&outer).await?;
    let rows = rows
        .iter()
        .map(|row| {
            Ok(EstateRow {
                tenant: tenant::Model::from_query_result(row, "")?,
                percentage: row.try_get("", "pct")?,
                percentage_change: row.try_get("", "pct_change")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    Ok(Page::from_rows(rows, size, after.is_some(), |row| {
        if default_order {
            encode_cursor(&row.tenant.id)
        } else {
            let value = match order.field {
                EstateOrderField::Id => Some(SortValue::Text(row.tenant.id.clone())),
                EstateOrderField::Name => Some(SortValue::Text(row.tenant.name.clone())),
                EstateOrderField::Percentage => row.percentage.map(SortValue::Number),
                EstateOrderField::PercentageChange => row.percentage_change.map(SortValue::Number),
            };
            encode_cursor(&OrderedCursor {
                order,
                change_days,
                value,
                id: row.tenant.id.clone(),
            })
        }
    }))
}

/// The ids of the tenants of `visibility` that pass `filter`, in id order.
pub async fn filtered_ids(
    db: &DatabaseConnection,
    visibility: &Visibility,
    filter: &EstateFilter,
) -> ApiResult<Vec<String>> {
    let estate = Alias::new("estate");
    let mut query = Query::select()
        .column((estate.clone(), tenant::Column::Id))
        .from_subquery(
            estate_rows(db.get_database_backend(), visibility, filter, 1)?,
            estate.clone(),
        )
        .order_by((estate.clone(), tenant::Column::Id), Order::Asc)
        .to_owned();
    restrict_percentage(&mut query, &estate, filter);
    let rows = db.query_all(&query).await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get::<String>("", "id"))
        .collect::<Result<_, _>>()?)
}

/// Keeps the rows of the `estate` subquery whose latest percentage the filter allows.
fn restrict_percentage(query: &mut SelectStatement, estate: &Alias, filter: &EstateFilter) {
    let pct = || Expr::col((estate.clone(), Alias::new("pct")));
    if let Some(at_least) = filter.percentage_at_least {
        query.and_where(pct().gte(at_least));
    }
    if let Some(below) = filter.percentage_below {
        query.and_where(pct().lt(below));
    }
}

fn wrong_cursor() -> ApiError {
    ApiError::BadUserInput(
        "after is not a cursor of this order (orderBy and changeDays must stay the same)".into(),
    )
}

/// Rows after `position` in (sort, id) order, the sort's nulls last.
fn after_position(
    sort: Expr,
    id: Expr,
    nullable: bool,
    descending: bool,
    position: OrderedCursor,
) -> ApiResult<Cond> {
    let beyond = |value: SimpleExpr| {
        if descending {
            sort.clone().lt(value)
        } else {
            sort.clone().gt(value)
        }
    };
    let value: SimpleExpr = match position.value {
        Some(SortValue::Number(n)) => n.into(),
        Some(SortValue::Text(t)) => t.into(),
        None if nullable => {
            return Ok(Cond::all().add(sort.is_null()).add(id.gt(position.id)));
        }
        None => return Err(wrong_cursor()),
    };
    let mut condition = Cond::any().add(beyond(value.clone())).add(
        Cond::all()
            .add(sort.clone().eq(value))
            .add(id.gt(position.id)),
    );
    if nullable {
        condition = condition.add(sort.is_null());
    }
    Ok(condition)
}

/// `SELECT tenants.*, latest percentage AS pct, its change AS pct_change FROM tenants …` for
/// the visible tenants that pass the tenant filters.
fn estate_rows(
    backend: DbBackend,
    visibility: &Visibility,
    filter: &EstateFilter,
    change_days: i32,
) -> ApiResult<SelectStatement> {
    let (latest, earlier) = (Alias::new("latest"), Alias::new("earlier"));
    let days_before_latest = match backend {
        DbBackend::Postgres => Expr::cust_with_values(r#""latest"."date" - $1"#, [change_days]),
        _ => Expr::cust_with_values(
            r#"date("latest"."date", ?)"#,
            [format!("-{change_days} days")],
        ),
    };
    let mut query = Query::select()
        .column((tenant::Entity, Asterisk))
        .expr_as(
            Expr::col((latest.clone(), daily_score::Column::Percentage)),
            Alias::new("pct"),
        )
        .expr_as(
            Expr::col((latest.clone(), daily_score::Column::Percentage)).sub(Expr::col((
                earlier.clone(),
                daily_score::Column::Percentage,
            ))),
            Alias::new("pct_change"),
        )
        .from(tenant::Entity)
        .join_as(
            JoinType::LeftJoin,
            daily_score::Entity,
            latest.clone(),
            Cond::all()
                .add(
                    Expr::col((latest.clone(), daily_score::Column::TenantId))
                        .equals((tenant::Entity, tenant::Column::Id)),
                )
                // The tenant's pointer to its newest day: an index lookup per tenant.
                .add(
                    Expr::col((latest.clone(), daily_score::Column::Date))
                        .equals((tenant::Entity, tenant::Column::LatestScoreDate)),
                ),
        )
        .join_as(
            JoinType::LeftJoin,
            daily_score::Entity,
            earlier.clone(),
            Cond::all()
                .add(
                    Expr::col((earlier.clone(), daily_score::Column::TenantId))
                        .equals((tenant::Entity, tenant::Column::Id)),
                )
                .add(Expr::col((earlier, daily_score::Column::Date)).eq(days_before_latest)),
        )
        .to_owned();
    if let Visibility::Only(ids) = visibility {
        query.and_where(Expr::col((tenant::Entity, tenant::Column::Id)).is_in(ids.clone()));
    }
    if let Some(industry) = &filter.industry {
        query.and_where(Expr::col((tenant::Entity, tenant::Column::Industry)).eq(industry.clone()));
    }
    if let Some(condition) = &filter.action {
        query.and_where(action_status_matches(condition));
    }
    if let Some(group) = &filter.seat_size_group {
        let (min, max) = seat_bucket_bounds(group).ok_or_else(|| {
            ApiError::BadUserInput(format!(
                "seatSizeGroup `{group}` is not one of 1-10, 11-100, 101-1000, 1001-10000, 10001+"
            ))
        })?;
        let seats = || Expr::col((tenant::Entity, tenant::Column::SeatCount));
        query.and_where(seats().gte(min));
        if let Some(max) = max {
            query.and_where(seats().lte(max));
        }
    }
    Ok(query)
}

/// `EXISTS` a row of the tenant's newest day (`latest_action_scores`) with the action in one
/// of the statuses: a primary-key lookup per tenant.
fn action_status_matches(condition: &ActionStatusCondition) -> SimpleExpr {
    use latest_action_score::Column as C;
    let rows = latest_action_score::Entity;
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(rows)
            .and_where(Expr::col((rows, C::TenantId)).equals((tenant::Entity, tenant::Column::Id)))
            .and_where(Expr::col((rows, C::ActionId)).eq(condition.action_id.clone()))
            .and_where(
                Expr::col((rows, C::Status)).is_in(condition.statuses.iter().map(|s| s.as_str())),
            )
            .to_owned(),
    )
}

/// The date `days` before `date`.
pub fn days_before(date: NaiveDate, days: i32) -> NaiveDate {
    date - chrono::Duration::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percentage_in_a_cursor_comes_back_exactly() {
        for value in [
            28.026315789473678_f64,
            0.1 + 0.2,
            100.0 / 3.0,
            -7.5e-300,
            0.0,
        ] {
            let cursor = encode_cursor(&OrderedCursor {
                order: EstateOrder {
                    field: EstateOrderField::Percentage,
                    descending: true,
                },
                change_days: 7,
                value: Some(SortValue::Number(value)),
                id: "t".into(),
            });
            let back: OrderedCursor = decode_cursor(&cursor).unwrap();
            match back.value {
                Some(SortValue::Number(n)) => assert_eq!(n.to_bits(), value.to_bits()),
                other => panic!("{other:?}"),
            }
        }
    }
}
