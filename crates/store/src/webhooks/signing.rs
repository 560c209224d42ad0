//! Standard Webhooks secrets and signatures: `whsec_` + base64 of random bytes, and
//! `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the decoded bytes as key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::secrets::SecretsKey;

/// Bytes of a new signing key (Standard Webhooks allows 24 to 64).
const KEY_BYTES: usize = 32;

/// A new signing key: the secret shown once, and the key the server keeps to sign.
pub struct NewSecret {
    /// `whsec_` + base64 of the key, shown to the endpoint's creator once.
    pub secret: String,
    /// The key, base64, as stored.
    pub stored_key: String,
}

/// Makes a new random signing key.
pub fn new_secret() -> NewSecret {
    let mut key = [0u8; KEY_BYTES];
    rand::rng().fill_bytes(&mut key);
    let encoded = STANDARD.encode(key);
    NewSecret {
        secret: format!("whsec_{encoded}"),
        stored_key: encoded,
    }
}

/// The associated data a tenant's sealed signing keys are bound to.
fn purpose(tenant_id: &str) -> String {
    format!("webhook-signing-key:{tenant_id}")
}

/// A signing key as stored: sealed under the secrets key when one is configured, as is
/// otherwise.
pub fn stored_form(secrets: &SecretsKey, tenant_id: &str, key: &str) -> Result<String, String> {
    if !secrets.is_configured() {
        return Ok(key.to_owned());
    }
    secrets
        .seal(&purpose(tenant_id), key.as_bytes())
        .map_err(|e| e.to_string())
}

/// The signing key of a stored value: opened when sealed, as is when kept from before a key
/// was configured.
pub fn signing_key(secrets: &SecretsKey, tenant_id: &str, stored: &str) -> Result<String, String> {
    if !SecretsKey::is_sealed(stored) {
        return Ok(stored.to_owned());
    }
    let bytes = secrets
        .open(&purpose(tenant_id), stored)
        .map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "the stored signing key is not text".to_owned())
}

/// The `webhook-signature` header value for a message signed with the stored key.
pub fn signature(
    stored_key: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, String> {
    let key = STANDARD
        .decode(stored_key)
        .map_err(|_| "the stored signing key is not base64".to_owned())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_example_signs_as_published() {
        // The example of the Standard Webhooks specification.
        let key = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signed = signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn keys_are_sealed_only_under_a_configured_key_and_open_back() {
        let plain = SecretsKey::default();
        assert_eq!(stored_form(&plain, "t", "abc").unwrap(), "abc");
        assert_eq!(signing_key(&plain, "t", "abc").unwrap(), "abc");
        let key = SecretsKey::random();
        let sealed = stored_form(&key, "t", "abc").unwrap();
        assert!(SecretsKey::is_sealed(&sealed));
        assert_eq!(signing_key(&key, "t", &sealed).unwrap(), "abc");
        assert!(signing_key(&key, "other", &sealed).is_err());
        assert!(
            signing_key(&plain, "t", &sealed)
                .unwrap_err()
                .contains("--secrets-key-file")
        );
    }

    #[test]
    fn secrets_are_new_each_time_and_carry_their_key() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret, format!("whsec_{}", a.stored_key));
        assert_eq!(STANDARD.decode(&a.stored_key).unwrap().len(), KEY_BYTES);
    }
}
