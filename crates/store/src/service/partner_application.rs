//! The installation's partner application: one multi-tenant app registration, its credential
//! sealed like connections' credentials, that connections may sign in as.

use chrono::Utc;
use entity::partner_application;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};

use super::connections::seal_credential;
use crate::error::{ApiError, ApiResult};
use crate::msgraph::credential::Credential;
use crate::secrets::SecretsKey;

/// The id of the one row.
const ROW_ID: i32 = 1;
/// The associated data the partner application's sealed credential is bound to.
const CREDENTIAL_PURPOSE: &str = "partner-application-credential";

/// Sets (or rotates) the partner application: the credential is sealed under the secrets key
/// (without a key nothing is stored). Connections using it sign in with the new credential
/// from their next collection on.
pub async fn set_partner_application(
    db: &DatabaseConnection,
    key: &SecretsKey,
    client_id: String,
    credential: &Credential,
) -> ApiResult<partner_application::Model> {
    let sealed = seal_credential(key, CREDENTIAL_PURPOSE, credential)?;
    let now = Utc::now();
    use partner_application::Column;
    partner_application::Entity::insert(partner_application::ActiveModel {
        id: Set(ROW_ID),
        client_id: Set(client_id),
        credential_kind: Set(credential.kind()),
        credential: Set(sealed),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(Column::Id)
            .update_columns([
                Column::ClientId,
                Column::CredentialKind,
                Column::Credential,
                Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    find_partner_application(db)
        .await?
        .ok_or_else(|| ApiError::Internal("the stored partner application vanished".into()))
}

/// The partner application, if one is set.
pub async fn find_partner_application(
    db: &impl ConnectionTrait,
) -> Result<Option<partner_application::Model>, DbErr> {
    partner_application::Entity::find_by_id(ROW_ID)
        .one(db)
        .await
}

/// The partner application; BAD_USER_INPUT when none is set.
pub async fn require_partner_application(
    db: &impl ConnectionTrait,
) -> ApiResult<partner_application::Model> {
    find_partner_application(db).await?.ok_or_else(|| {
        ApiError::BadUserInput(
            "no partner application is set: a PlatformAdmin sets one with setPartnerApplication"
                .into(),
        )
    })
}

/// The partner application's credential, opened.
pub fn open_credential(
    key: &SecretsKey,
    application: &partner_application::Model,
) -> Result<Credential, String> {
    key.open(CREDENTIAL_PURPOSE, &application.credential)
        .map_err(|e| e.to_string())
        .and_then(|json| Credential::from_stored(&json))
}
