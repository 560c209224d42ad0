//! Secrets at rest: Graph credentials and webhook signing keys are sealed with AES-256-GCM
//! under the key in `--secrets-key-file`. A sealed value is `v1:` + base64 of a random 96-bit
//! nonce and the ciphertext; its purpose (which row and column it belongs to) is bound in as
//! associated data, so a value copied to another row does not open.

use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Prefix of a sealed value.
const SEALED_PREFIX: &str = "v1:";
/// Bytes of an AES-GCM nonce.
const NONCE_BYTES: usize = 12;
/// What the signing key is derived with from the file's key.
const SIGNING_KEY_LABEL: &str = "securescore signing key v1";

/// The key secrets are sealed under; none when `--secrets-key-file` is not set.
#[derive(Clone, Default)]
pub struct SecretsKey {
    cipher: Option<Arc<Aes256Gcm>>,
    /// A second key derived from the same file, for signatures (never used to seal).
    signing: Option<Arc<[u8; 32]>>,
}

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.cipher.is_some() {
            "SecretsKey(configured)"
        } else {
            "SecretsKey(none)"
        })
    }
}

/// Why a secret could not be sealed or opened; never quotes the secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    /// No key is configured.
    #[error("no secrets key is configured: set --secrets-key-file (SECURESCORE_SECRETS_KEY_FILE)")]
    NoKey,
    /// The stored value is not sealed with this key (or was changed).
    #[error("a stored secret does not open with the configured secrets key")]
    WrongKey,
}

impl SecretsKey {
    /// Reads a key file: base64 of exactly 32 bytes (surrounding whitespace ignored).
    pub fn from_file(path: &Path) -> Result<SecretsKey, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--secrets-key-file {}: {e}", path.display()))?;
        let bytes = STANDARD.decode(text.trim()).map_err(|_| {
            format!(
                "--secrets-key-file {}: not base64 (make one with `openssl rand -base64 32`)",
                path.display()
            )
        })?;
        SecretsKey::from_bytes(&bytes).ok_or_else(|| {
            format!(
                "--secrets-key-file {}: the key must be 32 bytes",
                path.display()
            )
        })
    }

    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<SecretsKey> {
        let cipher = Aes256Gcm::new_from_slice(bytes).ok()?;
        let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(bytes).ok()?;
        derive.update(SIGNING_KEY_LABEL.as_bytes());
        let signing: [u8; 32] = derive.finalize().into_bytes().into();
        Some(SecretsKey {
            cipher: Some(Arc::new(cipher)),
            signing: Some(Arc::new(signing)),
        })
    }

    /// A fresh random key (demo mode without a key file).
    pub fn random() -> SecretsKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        SecretsKey::from_bytes(&bytes).unwrap_or_default()
    }

    /// Whether a key is configured.
    pub fn is_configured(&self) -> bool {
        self.cipher.is_some()
    }

    /// Seals `plaintext` for `purpose`.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<String, SecretsError> {
        let cipher = self.cipher.as_ref().ok_or(SecretsError::NoKey)?;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| SecretsError::WrongKey)?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Opens a value sealed for `purpose`.
    pub fn open(&self, purpose: &str, stored: &str) -> Result<Vec<u8>, SecretsError> {
        let cipher = self.cipher.as_ref().ok_or(SecretsError::NoKey)?;
        let bytes = stored
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() > NONCE_BYTES)
            .ok_or(SecretsError::WrongKey)?;
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SecretsError::WrongKey)?;
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| SecretsError::WrongKey)
    }

    /// An HMAC-SHA256 of `message` for `purpose` under the derived signing key.
    pub fn sign(&self, purpose: &str, message: &[u8]) -> Result<Vec<u8>, SecretsError> {
        Ok(self
            .signer(purpose, message)?
            .finalize()
            .into_bytes()
            .to_vec())
    }

    /// Whether `tag` is [`SecretsKey::sign`]'s of `message` for `purpose` (compared in
    /// constant time).
    pub fn verify(&self, purpose: &str, message: &[u8], tag: &[u8]) -> bool {
        self.signer(purpose, message)
            .is_ok_and(|mac| mac.verify_slice(tag).is_ok())
    }

    /// The MAC of `purpose`, a zero byte and `message`, not yet finalized.
    fn signer(&self, purpose: &str, message: &[u8]) -> Result<Hmac<Sha256>, SecretsError> {
        let key = self.signing.as_ref().ok_or(SecretsError::NoKey)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_slice())
            .map_err(|_| SecretsError::WrongKey)?;
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(message);
        Ok(mac)
    }

    /// Whether a stored value is sealed (rather than a plaintext kept from before a key was
    /// configured).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_purpose() {
        let key = SecretsKey::random();
        let sealed = key.seal("webhook:1", b"whsec").unwrap();
        assert!(SecretsKey::is_sealed(&sealed));
        assert!(!sealed.contains("whsec"));
        assert_eq!(key.open("webhook:1", &sealed).unwrap(), b"whsec");
        assert_eq!(key.open("webhook:2", &sealed), Err(SecretsError::WrongKey));
        assert_eq!(
            SecretsKey::random().open("webhook:1", &sealed),
            Err(SecretsError::WrongKey)
        );
        assert_eq!(
            SecretsKey::default().seal("webhook:1", b"x"),
            Err(SecretsError::NoKey)
        );
        assert_ne!(
            key.seal("webhook:1", b"whsec").unwrap(),
            sealed,
            "nonces differ"
        );
    }

    #[test]
    fn a_signature_verifies_only_for_its_key_purpose_and_message() {
        let key = SecretsKey::from_bytes(&[3u8; 32]).unwrap();
        let tag = key.sign("consent", b"contoso").unwrap();
        assert_eq!(
            tag,
            SecretsKey::from_bytes(&[3u8; 32])
                .unwrap()
                .sign("consent", b"contoso")
                .unwrap()
        );
        assert!(key.verify("consent", b"contoso", &tag));
        assert!(!key.verify("consent", b"contoso2", &tag));
        assert!(!key.verify("consent2", b"contoso", &tag));
        assert!(!SecretsKey::random().verify("consent", b"contoso", &tag));
        assert!(!SecretsKey::default().verify("consent", b"contoso", &tag));
        assert!(!key.verify("consent", b"contoso", &tag[..31]));
    }

    #[test]
    fn key_files_hold_base64_of_32_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, format!("{}\n", STANDARD.encode([7u8; 32]))).unwrap();
        assert!(SecretsKey::from_file(&path).unwrap().is_configured());
        std::fs::write(&path, STANDARD.encode([7u8; 16])).unwrap();
        assert!(
            SecretsKey::from_file(&path)
                .unwrap_err()
                .contains("32 bytes")
        );
        assert!(format!("{:?}", SecretsKey::random()).contains("configured"));
    }
}
