//! Standard Webhooks secrets and signatures: `whsec_` + base64 of random bytes, and
//! `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the decoded bytes as key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

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
    fn secrets_are_new_each_time_and_carry_their_key() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret, format!("whsec_{}", a.stored_key));
        assert_eq!(STANDARD.decode(&a.stored_key).unwrap().len(), KEY_BYTES);
    }
}
