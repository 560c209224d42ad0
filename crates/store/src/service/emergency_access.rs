//! A tenant's emergency access ("break glass") accounts: named by their Entra user object
//! ids, at most four, left out of the connector's coverage facts and scored on their own.

use chrono::Utc;
use entity::tenant;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, DatabaseConnection};

use super::connections::parse_guid;
use super::tenants::find_tenant;
use crate::error::{ApiError, ApiResult};

/// Most emergency access accounts a tenant may name.
pub const MAX_EMERGENCY_ACCOUNTS: usize = 4;

/// The ids checked: GUIDs (lower-cased), at most [`MAX_EMERGENCY_ACCOUNTS`], none twice.
pub fn parse_account_ids(raw: &[String]) -> ApiResult<Vec<String>> {
    if raw.len() > MAX_EMERGENCY_ACCOUNTS {
        return Err(ApiError::BadUserInput(format!(
            "userIds: at most {MAX_EMERGENCY_ACCOUNTS} emergency access accounts"
        )));
    }
    let mut ids = Vec::with_capacity(raw.len());
    for id in raw {
        let id = parse_guid("userIds", id)?;
        if ids.contains(&id) {
            return Err(ApiError::BadUserInput(format!(
                "userIds: {id} is listed twice"
            )));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Names the tenant's emergency access accounts (an empty list clears them); a missing tenant
/// is NOT_FOUND. Whether they exist in the directory is for the next collection to say.
pub async fn set_emergency_accounts(
    db: &DatabaseConnection,
    tenant_id: &str,
    raw_ids: &[String],
) -> ApiResult<tenant::Model> {
    let ids = parse_account_ids(raw_ids)?;
    let existing = find_tenant(db, tenant_id)
        .await?
        .ok_or_else(|| ApiError::tenant_not_found(tenant_id))?;
    let mut row: tenant::ActiveModel = existing.into();
    row.emergency_access_accounts = Set((!ids.is_empty()).then(|| serde_json::json!(ids)));
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}

/// The tenant's emergency access accounts, as stored.
pub fn emergency_accounts_of(tenant: &tenant::Model) -> ApiResult<Vec<String>> {
    match &tenant.emergency_access_accounts {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(stored) => serde_json::from_value(stored.clone()).map_err(|e| {
            ApiError::Internal(format!(
                "tenant {} has corrupt emergency access accounts: {e}",
                tenant.id
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_guids_at_most_four_and_never_twice() {
        let a = "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0".to_owned();
        assert_eq!(
            parse_account_ids(std::slice::from_ref(&a)).unwrap(),
            vec![a.to_lowercase()]
        );
        let code = |r: ApiResult<Vec<String>>| r.unwrap_err().code();
        assert_eq!(code(parse_account_ids(&["alice".into()])), "BAD_USER_INPUT");
        assert_eq!(
            code(parse_account_ids(&[a.clone(), a.to_lowercase()])),
            "BAD_USER_INPUT"
        );
        let five: Vec<String> = (0..5)
            .map(|i| format!("00000000-0000-0000-0000-00000000000{i}"))
            .collect();
        assert_eq!(code(parse_account_ids(&five)), "BAD_USER_INPUT");
        assert!(parse_account_ids(&five[..4]).is_ok());
        assert!(parse_account_ids(&[]).unwrap().is_empty());
    }
}
