//! An app registration's credential: a client secret, or a certificate and its private key
//! from which a client assertion is signed as Microsoft documents (PS256, `x5t#S256` = the
//! base64url SHA-256 thumbprint of the certificate's DER). Write-only: `Debug` shows the kind
//! and the certificate's thumbprint, never the secret or the key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use securescore_core::domain::CredentialKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::{DecodePem, Encode};

/// How long a client assertion is valid.
const ASSERTION_LIFETIME_SECONDS: i64 = 600;

/// A credential of an app registration.
pub enum Credential {
    /// A client secret.
    Secret(SecretString),
    /// A certificate and its RSA private key.
    Certificate(CertificateCredential),
}

/// A certificate credential, checked: the key matches the certificate.
pub struct CertificateCredential {
    certificate_pem: String,
    certificate_der: Vec<u8>,
    /// The private key, PKCS#1 DER.
    key_der: SecretBox<Vec<u8>>,
    /// The key as given (PEM), kept to store it again.
    key_pem: SecretString,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Secret(_) => f.write_str("Credential::Secret([redacted])"),
            Credential::Certificate(c) => write!(
                f,
                "Credential::Certificate(x5t#S256={}, key=[redacted])",
                c.thumbprint()
            ),
        }
    }
}

/// The stored form, sealed as a whole.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Stored {
    #[serde(rename = "SECRET")]
    Secret { secret: String },
    #[serde(rename = "CERTIFICATE")]
    Certificate {
        certificate_pem: String,
        private_key_pem: String,
    },
}

impl Credential {
    /// A credential from what `setGraphConnection` was given: exactly one of a secret or a
    /// certificate with its key. The error says what is wrong without quoting anything.
    pub fn from_input(
        secret: Option<String>,
        certificate_pem: Option<String>,
        private_key_pem: Option<String>,
    ) -> Result<Credential, String> {
        match (secret, certificate_pem, private_key_pem) {
            (Some(secret), None, None) => {
                if secret.trim().is_empty() {
                    return Err("clientSecret must not be empty".into());
                }
                Ok(Credential::Secret(SecretString::from(secret)))
            }
            (None, Some(certificate), Some(key)) => {
                CertificateCredential::new(certificate, key).map(Credential::Certificate)
            }
            (None, Some(_), None) | (None, None, Some(_)) => {
                Err("a certificate credential needs both certificatePem and privateKeyPem".into())
            }
            (None, None, None) => {
                Err("give a credential: clientSecret, or certificatePem with privateKeyPem".into())
            }
            (Some(_), _, _) => Err(
                "give one credential: clientSecret, or certificatePem with privateKeyPem, not both"
                    .into(),
            ),
        }
    }

    /// SECRET or CERTIFICATE.
    pub fn kind(&self) -> CredentialKind {
        match self {
            Credential::Secret(_) => CredentialKind::Secret,
            Credential::Certificate(_) => CredentialKind::Certificate,
        }
    }

    /// The JSON that is sealed and stored.
    pub fn to_stored(&self) -> SecretString {
        let stored = match self {
            Credential::Secret(secret) => Stored::Secret {
                secret: secret.expose_secret().to_owned(),
            },
            Credential::Certificate(c) => Stored::Certificate {
                certificate_pem: c.certificate_pem.clone(),
                private_key_pem: c.key_pem.expose_secret().to_owned(),
            },
        };
        SecretString::from(serde_json::to_string(&stored).unwrap_or_default())
    }

    /// The credential from its stored JSON.
    pub fn from_stored(json: &[u8]) -> Result<Credential, String> {
        match serde_json::from_slice::<Stored>(json)
            .map_err(|_| "the stored credential is unreadable".to_owned())?
        {
            Stored::Secret { secret } => Ok(Credential::Secret(SecretString::from(secret))),
            Stored::Certificate {
                certificate_pem,
                private_key_pem,
            } => CertificateCredential::new(certificate_pem, private_key_pem)
                .map(Credential::Certificate),
        }
    }

    /// The form fields that authenticate the client at the token endpoint.
    pub fn token_form(
        &self,
        client_id: &str,
        token_url: &str,
    ) -> Result<Vec<(&'static str, SecretString)>, String> {
        Ok(match self {
            Credential::Secret(secret) => vec![("client_secret", secret.clone())],
            Credential::Certificate(c) => vec![
                (
                    "client_assertion_type",
                    SecretString::from("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ),
                ("client_assertion", c.assertion(client_id, token_url)?),
            ],
        })
    }

    /// Text that must never appear in an error stored or shown: the secret, in every form an
    /// echo may carry it (see [`redact`]).
    pub fn redact(&self, text: &str) -> String {
        match self {
            Credential::Secret(secret) => redact(text, secret.expose_secret()),
            Credential::Certificate(_) => text.to_owned(),
        }
    }
}

/// `text` with `secret` replaced by `[redacted]` wherever it stands raw, percent-encoded (as a
/// form body or a query carries it), or base64-encoded (standard or URL-safe, padded or not):
/// an endpoint that echoes what it was sent must not show it to a reader.
pub fn redact(text: &str, secret: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    if secret.is_empty() {
        return text.to_owned();
    }
    let percent: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let mut forms = vec![
        secret.to_owned(),
        percent.clone(),
        percent.replace('+', "%20"),
        percent.to_lowercase(),
    ];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        forms.push(engine.encode(secret));
    }
    // Longest first, so a form that contains another is replaced whole.
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    let mut redacted = text.to_owned();
    for form in forms.iter().filter(|f| f.len() >= 4) {
        redacted = redacted.replace(form.as_str(), "[redacted]");
    }
    redacted
}

/// The claims of a client assertion.
#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

impl CertificateCredential {
    /// Parses and checks a certificate and its RSA private key (PKCS#8 or PKCS#1 PEM).
    pub fn new(certificate_pem: String, key_pem: String) -> Result<Self, String> {
        let certificate = Certificate::from_pem(certificate_pem.as_bytes())
            .map_err(|_| "certificatePem is not a PEM X.509 certificate".to_owned())?;
        let certificate_der = certificate
            .to_der()
            .map_err(|_| "certificatePem could not be encoded".to_owned())?;
        let key = RsaPrivateKey::from_pkcs8_pem(&key_pem)
            .or_else(|_| rsa::pkcs1::DecodeRsaPrivateKey::from_pkcs1_pem(&key_pem))
            .map_err(|_| {
                "privateKeyPem is not a PEM RSA private key (PKCS#8 or PKCS#1)".to_owned()
            })?;
        let spki = certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|_| "certificatePem has an unreadable public key".to_owned())?;
        let certified = RsaPublicKey::from_public_key_der(&spki)
            .map_err(|_| "certificatePem does not hold an RSA public key".to_owned())?;
        if certified != key.to_public_key() {
            return Err("privateKeyPem does not match the certificate's public key".into());
        }
        let key_der = key
            .to_pkcs1_der()
            .map_err(|_| "privateKeyPem could not be encoded".to_owned())?
            .as_bytes()
            .to_vec();
        Ok(CertificateCredential {
            certificate_pem,
            certificate_der,
            key_der: SecretBox::new(Box::new(key_der)),
            key_pem: SecretString::from(key_pem),
        })
    }

    /// Base64url SHA-256 thumbprint of the certificate's DER (`x5t#S256`).
    pub fn thumbprint(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.certificate_der))
    }

    /// A signed client assertion for the token endpoint.
    fn assertion(&self, client_id: &str, token_url: &str) -> Result<SecretString, String> {
        let now = chrono::Utc::now().timestamp();
        let mut header = Header::new(Algorithm::PS256);
        header.typ = Some("JWT".into());
        header.x5t_s256 = Some(self.thumbprint());
        let claims = AssertionClaims {
            aud: token_url,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECONDS,
        };
        let key = EncodingKey::from_rsa_der(self.key_der.expose_secret());
        jsonwebtoken::encode(&header, &claims, &key)
            .map(SecretString::from)
            .map_err(|e| format!("signing the client assertion failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    #[test]
    fn a_secret_is_redacted_raw_percent_encoded_and_in_base64() {
        let secret = "Qx8~a/b+c=d e&f";
        let percent: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let echoed = format!(
            "AADSTS7000215: Invalid client secret. body: client_secret={percent}&x raw={secret} b64={b64} url={b64url}"
        );
        let redacted = redact(&echoed, secret);
        for form in [secret, percent.as_str(), b64.as_str(), b64url.as_str()] {
            assert!(!redacted.contains(form), "{form} in {redacted}");
        }
        assert!(redacted.starts_with("AADSTS7000215: Invalid client secret."));
        let credential = Credential::Secret(SecretString::from(secret));
        assert_eq!(credential.redact(&echoed), redacted);
    }
}
