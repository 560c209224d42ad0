//! Admin consent to the partner application: the link a customer's admin follows (its `state`
//! signed by the server, naming the tenant and directory, valid 30 days), and what the answer
//! Microsoft sends back to `/connect/consented` records on the connection.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::graph_connection;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use crate::config::GraphConfig;
use crate::error::ApiResult;
use crate::secrets::SecretsKey;

/// How long a consent link stays valid: long enough to be mailed to a customer and answered.
pub const CONSENT_LINK_DAYS: i64 = 30;
/// What consent states are signed for.
const STATE_PURPOSE: &str = "admin-consent-state";
/// Longest error text from Microsoft kept on a connection.
const MAX_CONSENT_ERROR_CHARS: usize = 500;

/// What a consent link's `state` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentState {
    /// The tenant whose connection the consent is for.
    #[serde(rename = "t")]
    pub tenant_id: String,
    /// The directory the admin is asked to consent in.
    #[serde(rename = "d")]
    pub directory_id: String,
    /// Seconds since the epoch after which the link is refused.
    #[serde(rename = "e")]
    pub expires: i64,
}

/// Why a `state` was refused; the page says it and nothing changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateRefused {
    /// No `state` was sent.
    #[error("the answer carries no state, so it cannot be matched to a connection")]
    Missing,
    /// The signature does not hold (forged, changed, or signed under another key).
    #[error("the state is not one this server signed")]
    Forged,
    /// The link is older than its validity.
    #[error("the consent link has expired: ask for a new one")]
    Expired,
}

/// A signed `state` for a tenant's connection to `directory_id`, valid until the end of the
/// UTC day [`CONSENT_LINK_DAYS`] after `now`; none without a secrets key.
pub fn sign_state(
    key: &SecretsKey,
    tenant_id: &str,
    directory_id: &str,
    now: DateTime<Utc>,
) -> Option<String> {
    // The end of the UTC day 30 days on: every read of a connection on one day gives the
    // same link.
    let expires = (now.date_naive() + chrono::Days::new(CONSENT_LINK_DAYS as u64 + 1))
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp();
    let claims = ConsentState {
        tenant_id: tenant_id.to_owned(),
        directory_id: directory_id.to_owned(),
        expires,
    };
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).ok()?);
    let tag = key.sign(STATE_PURPOSE, body.as_bytes()).ok()?;
    Some(format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag)))
}

/// The tenant and directory a `state` names, if the server signed it and it has not expired.
pub fn verify_state(
    key: &SecretsKey,
    state: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ConsentState, StateRefused> {
    let state = state
        .filter(|s| !s.is_empty())
        .ok_or(StateRefused::Missing)?;
    let (body, tag) = state.split_once('.').ok_or(StateRefused::Forged)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| StateRefused::Forged)?;
    if !key.verify(STATE_PURPOSE, body.as_bytes(), &tag) {
        return Err(StateRefused::Forged);
    }
    let claims: ConsentState = URL_SAFE_NO_PAD
        .decode(body)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(StateRefused::Forged)?;
    if claims.expires < now.timestamp() {
        return Err(StateRefused::Expired);
    }
    Ok(claims)
}

/// The admin consent URL for `directory_id` in Microsoft's documented shape; none without
/// `--public-url`.
pub fn consent_url(
    config: &GraphConfig,
    client_id: &str,
    directory_id: &str,
    state: &str,
) -> Option<String> {
    let public = config.public_url.as_deref()?;
    let mut url = reqwest::Url::parse(&format!(
        "{}/{directory_id}/v2.0/adminconsent",
        config.authority_url.trim_end_matches('/')
    ))
    .ok()?;
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair(
            "scope",
            &format!("{}/.default", config.graph_url.trim_end_matches('/')),
        )
        .append_pair(
            "redirect_uri",
            &format!("{}/connect/consented", public.trim_end_matches('/')),
        )
        .append_pair("state", state);
    Some(url.into())
}

/// What Microsoft's redirect said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentAnswer {
    /// `admin_consent=True`, in the directory `tenant` when Microsoft named one.
    Granted {
        /// The directory Microsoft says consented.
        directory_id: Option<String>,
    },
    /// `error` and `error_description`.
    Refused {
        /// Microsoft's error code (`access_denied`, `consent_required`, …).
        error: String,
        /// Its description.
        description: Option<String>,
    },
}

/// What recording an answer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentRecorded {
    /// Consent is recorded; the tenant's directory can be collected.
    Granted,
    /// Microsoft's refusal is recorded as `consentError`.
    Refused(String),
    /// The connection the link was for is gone, or points at another directory now.
    NoSuchConnection,
}

/// Records Microsoft's answer on the connection the state names, if it still signs in as the
/// partner application to that directory: consent as `consentedAt` (clearing an earlier
/// error), a refusal as `consentError`. A grant from another directory than the one asked is
/// recorded as a refusal.
pub async fn record_consent(
    db: &DatabaseConnection,
    state: &ConsentState,
    answer: ConsentAnswer,
    now: DateTime<Utc>,
) -> ApiResult<ConsentRecorded> {
    let answer = match answer {
        ConsentAnswer::Granted {
            directory_id: Some(other),
        } if !other.eq_ignore_ascii_case(&state.directory_id) => ConsentAnswer::Refused {
            error: "wrong_directory".into(),
            description: Some(format!(
                "consent was given in directory {other}, not in {}",
                state.directory_id
            )),
        },
        answer => answer,
    };
    let (consented_at, error, recorded) = match answer {
        ConsentAnswer::Granted { .. } => (Some(now), None, ConsentRecorded::Granted),
        ConsentAnswer::Refused { error, description } => {
            let text: String = match description {
                Some(description) => format!("{error}: {description}"),
                None => error,
            }
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_CONSENT_ERROR_CHARS)
            .collect();
            (None, Some(text.clone()), ConsentRecorded::Refused(text))
        }
    };
    let mut update = graph_connection::Entity::update_many()
        .col_expr(graph_connection::Column::ConsentError, Expr::value(error))
        .col_expr(graph_connection::Column::UpdatedAt, Expr::value(now));
    if consented_at.is_some() {
        update = update.col_expr(
            graph_connection::Column::ConsentedAt,
            Expr::value(consented_at),
        );
    }
    let changed = update
        .filter(graph_connection::Column::TenantId.eq(state.tenant_id.clone()))
        .filter(graph_connection::Column::DirectoryId.eq(state.directory_id.clone()))
        .filter(graph_connection::Column::UsesPartnerApplication.eq(true))
        .exec(db)
        .await?;
    Ok(if changed.rows_affected == 0 {
        ConsentRecorded::NoSuchConnection
    } else {
        recorded
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_holds_for_its_key_until_it_expires() {
        let key = SecretsKey::random();
        let now = Utc::now();
        let state =
            sign_state(&key, "contoso", "11111111-1111-1111-1111-111111111111", now).unwrap();
        let claims = verify_state(&key, Some(&state), now).unwrap();
        assert_eq!(claims.tenant_id, "contoso");
        let later = now + chrono::Duration::days(CONSENT_LINK_DAYS);
        assert!(verify_state(&key, Some(&state), later).is_ok());
        assert_eq!(
            sign_state(&key, "contoso", "11111111-1111-1111-1111-111111111111", now),
            Some(state.clone()),
            "the same link all day"
        );
        assert_eq!(
            verify_state(
                &key,
                Some(&state),
                now + chrono::Duration::days(CONSENT_LINK_DAYS + 1)
            ),
            Err(StateRefused::Expired)
        );
        assert_eq!(
            verify_state(&SecretsKey::random(), Some(&state), now),
            Err(StateRefused::Forged)
        );
        assert_eq!(verify_state(&key, None, now), Err(StateRefused::Missing));
        // Another tenant's name under the same signature.
        let (body, tag) = state.split_once('.').unwrap();
        let mut claims: ConsentState =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        claims.tenant_id = "fabrikam".into();
        let forged = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
        );
        assert_eq!(
            verify_state(&key, Some(&forged), now),
            Err(StateRefused::Forged)
        );
        assert_eq!(
            sign_state(&SecretsKey::default(), "contoso", "x", now),
            None
        );
    }
}
