//! Key material: the server's RS256 signing key (id_tokens, JWKS) and the
//! generated key of the `demo-backend` client.

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;

/// The server's signing key.
pub struct ServerKey {
    /// `kid` in the JWKS and id_token headers.
    pub kid: String,
    encoding: EncodingKey,
    /// The public JWK as JSON text.
    pub public_jwk: String,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey").field("kid", &self.kid).finish()
    }
}

impl ServerKey {
    /// The process-wide server key, generated on first use (RSA 2048 key
    /// generation takes a noticeable fraction of a second, so every simulator
    /// in a process shares one key; each still publishes it in its own JWKS).
    pub fn shared() -> Arc<ServerKey> {
        static KEY: OnceLock<Arc<ServerKey>> = OnceLock::new();
        KEY.get_or_init(|| Arc::new(ServerKey::generate())).clone()
    }

    fn generate() -> ServerKey {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .expect("RSA key generation cannot fail for 2048 bits");
        let pem = key
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .expect("a fresh RSA key encodes as PKCS#1");
        let encoding =
            EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PKCS#1 PEM from rsa is valid");
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let kid = format!("ngsim-{}", &n[..12]);
        let public_jwk = serde_json::json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": e,
        })
        .to_string();
        ServerKey {
            kid,
            encoding,
            public_jwk,
        }
    }

    /// Sign claims as an RS256 JWT.
    pub fn sign(&self, claims: &impl serde::Serialize) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(self.kid.clone());
        h.typ = Some("JWT".into());
        jsonwebtoken::encode(&h, claims, &self.encoding).expect("RS256 signing with a valid key")
    }

    /// `{"keys":[…]}`.
    pub fn jwks(&self) -> String {
        format!("{{\"keys\":[{}]}}", self.public_jwk)
    }
}

/// A generated ES384 client key (the `demo-backend` client's).
#[derive(Clone)]
pub struct ClientKey {
    /// `kid` registered in the client's JWKS.
    pub kid: String,
    /// PKCS#8 private key, PEM.
    pub private_pem: String,
    /// `{"keys":[…]}` with the public half.
    pub jwks: String,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey").field("kid", &self.kid).finish()
    }
}

impl ClientKey {
    /// A fresh P-384 key.
    pub fn generate_es384(kid: &str) -> ClientKey {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
            .expect("P-384 key generation");
        let raw = kp.public_key_raw();
        // Uncompressed point: 0x04 || X (48 bytes) || Y (48 bytes).
        let (x, y) = raw[1..].split_at(48);
        let jwks = serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-384", "kid": kid, "use": "sig", "alg": "ES384",
            "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
        }]})
        .to_string();
        ClientKey {
            kid: kid.to_owned(),
            private_pem: kp.serialize_pem(),
            jwks,
        }
    }

    /// Sign a client assertion with this key (ES384, `typ: JWT`, this `kid`).
    pub fn sign_assertion(&self, claims: &impl serde::Serialize) -> String {
        let mut h = Header::new(Algorithm::ES384);
        h.kid = Some(self.kid.clone());
        h.typ = Some("JWT".into());
        let key =
            EncodingKey::from_ec_pem(self.private_pem.as_bytes()).expect("generated PKCS#8 EC key");
        jsonwebtoken::encode(&h, claims, &key).expect("ES384 signing with a valid key")
    }
}
