//! A catalog entry's scoring rule becomes one JSON column (`{"kind": "RATIO", …}`), the
//! serialized form of the engine's rule enum, instead of six loosely related columns.

use sea_orm_migration::{prelude::*, schema::*};
use serde_json::{Map, Value, json};

use crate::m20261125_000001_create_catalog_and_tenants::ImprovementActions;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns the JSON replaces, in the order they are read.
const OLD_COLUMNS: [ImprovementActions; 6] = [
    ImprovementActions::RuleKind,
    ImprovementActions::RuleFact,
    ImprovementActions::RuleNumerator,
    ImprovementActions::RuleDenominator,
    ImprovementActions::RuleMin,
    ImprovementActions::RuleMax,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ImprovementActions::Table)
                    .add_column(json_null(Rule::Rule))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let rows = db
            .query_all(
                Query::select()
                    .column(ImprovementActions::Id)
                    .columns(OLD_COLUMNS)
                    .from(ImprovementActions::Table),
            )
            .await?;
        for row in rows {
            let id: String = row.try_get("", "id")?;
            let rule = rule_json(
                row.try_get("", "rule_kind")?,
                [
                    ("fact", row.try_get::<Option<String>>("", "rule_fact")?),
                    ("numerator", row.try_get("", "rule_numerator")?),
                    ("denominator", row.try_get("", "rule_denominator")?),
                ],
                [
                    ("min", row.try_get::<Option<f64>>("", "rule_min")?),
                    ("max", row.try_get("", "rule_max")?),
                ],
            );
            db.execute(
                Query::update()
                    .table(ImprovementActions::Table)
                    .value(Rule::Rule, rule)
                    .and_where(Expr::col(ImprovementActions::Id).eq(id)),
            )
            .await?;
        }
        for column in OLD_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(ImprovementActions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the rule columns cannot be restored from the JSON rule".into(),
        ))
    }
}

/// The stored JSON of one rule: its kind and the fields that are set.
fn rule_json<const P: usize, const N: usize>(
    kind: String,
    paths: [(&str, Option<String>); P],
    bounds: [(&str, Option<f64>); N],
) -> Value {
    let mut rule = Map::new();
    rule.insert("kind".into(), json!(kind));
    for (name, path) in paths {
        if let Some(path) = path {
            rule.insert(name.into(), json!(path));
        }
    }
    for (name, bound) in bounds {
        if let Some(bound) = bound {
            rule.insert(name.into(), json!(bound));
        }
    }
    Value::Object(rule)
}

/// The new column.
#[derive(DeriveIden)]
enum Rule {
    Rule,
}
