//! [`SealedStore`]: wraps any [`TokenStore`] and encrypts the token fields before they reach it,
//! so a host database never holds plaintext tokens (seed defect D17).
//!
//! `token.access_token` and `token.refresh_token` are stored as
//! `sfcrm-sealed:v1:<kid>:<base64url(nonce || ciphertext)>`, sealed with XChaCha20-Poly1305
//! (24-byte random nonce, 16-byte tag) under the keyring's primary key. The associated data binds
//! the ciphertext to the document's `account_id`, `owner` and the field name, so a sealed value
//! copied into another connection or another field does not open.
//!
//! Key rotation: a [`SealingKeyring`] has one primary key (used to seal) and any number of older
//! keys (used only to open). Documents sealed under an older key stay readable and are resealed
//! under the primary on their next save (every refresh saves). An unknown key id or a tampered
//! value is a `Store` error. A plaintext token (a document written before sealing was turned on)
//! is read as-is and sealed on its next save.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use futures_util::future::BoxFuture;
use rand::RngCore;
use zeroize::Zeroizing;

use super::{ConnectionDocument, ConnectionKey, SaveOutcome, TokenStore};
use crate::error::Error;
use crate::secret::Secret;

/// Prefix of a sealed value.
pub const SEALED_PREFIX: &str = "sfcrm-sealed:v1:";
const NONCE_LEN: usize = 24;

/// One 32-byte key with its id. Key material is zeroized on drop and never printed.
#[derive(Clone)]
pub struct SealingKey {
    kid: String,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKey")
            .field("kid", &self.kid)
            .field("key", &"***")
            .finish()
    }
}

impl SealingKey {
    /// A key: `kid` is 1–64 chars of `[A-Za-z0-9_.-]`; `key` exactly 32 bytes. Errors: `Config`.
    pub fn new(kid: impl Into<String>, key: &[u8]) -> Result<SealingKey, Error> {
        let kid = kid.into();
        if kid.is_empty()
            || kid.len() > 64
            || !kid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        {
            return Err(Error::config(
                "sealing key id must be 1-64 characters of A-Z a-z 0-9 _ - .",
            ));
        }
        let bytes: [u8; 32] = key.try_into().map_err(|_| {
            Error::config(format!(
                "sealing key `{kid}` must be exactly 32 bytes, got {}",
                key.len()
            ))
        })?;
        Ok(SealingKey {
            kid,
            key: Zeroizing::new(bytes),
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.key.as_ref().into())
    }
}

/// The primary key (seals) plus older keys (open only). See the module docs.
#[derive(Clone, Debug)]
pub struct SealingKeyring {
    primary: SealingKey,
    older: Vec<SealingKey>,
}

impl SealingKeyring {
    /// A keyring; key ids must be distinct. Errors: `Config`.
    pub fn new(primary: SealingKey, older: Vec<SealingKey>) -> Result<SealingKeyring, Error> {
        let mut ids: Vec<&str> = std::iter::once(primary.kid())
            .chain(older.iter().map(|k| k.kid()))
            .collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::config("sealing key ids must be distinct"));
        }
        Ok(SealingKeyring { primary, older })
    }

    /// Parses `kid1:base64key,kid0:base64key` (first = primary; base64 standard or URL-safe,
    /// padded or not, each decoding to 32 bytes), e.g. from `SFCRM_SEALING_KEYS`. Errors: `Config`
    /// (the message never contains key material).
    pub fn from_env_value(value: &str) -> Result<SealingKeyring, Error> {
        let mut keys = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (kid, b64) = item.split_once(':').ok_or_else(|| {
                Error::config("sealing keys must look like kid:base64key[,kid:base64key…]")
            })?;
            let b64 = b64.trim();
            let raw = Zeroizing::new(
                STANDARD
                    .decode(b64)
                    .or_else(|_| URL_SAFE.decode(b64))
                    .or_else(|_| URL_SAFE_NO_PAD.decode(b64))
                    .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64))
                    .map_err(|_| {
                        Error::config(format!("sealing key `{}` is not valid base64", kid.trim()))
                    })?,
            );
            keys.push(SealingKey::new(kid.trim(), &raw)?);
        }
        if keys.is_empty() {
            return Err(Error::config("no sealing key given"));
        }
        let primary = keys.remove(0);
        SealingKeyring::new(primary, keys)
    }

    /// Reads `SFCRM_SEALING_KEYS` (same format as [`SealingKeyring::from_env_value`]): `Ok(None)`
    /// when unset or empty; a malformed value is a `Config` error naming the variable.
    pub fn from_env() -> Result<Option<SealingKeyring>, Error> {
        match std::env::var("SFCRM_SEALING_KEYS") {
            Ok(v) if !v.trim().is_empty() => SealingKeyring::from_env_value(&v)
                .map(Some)
                .map_err(|e| Error::config(format!("SFCRM_SEALING_KEYS: {}", e.message()))),
            _ => Ok(None),
        }
    }

    /// The id of the key that seals.
    pub fn primary_kid(&self) -> &str {
        self.primary.kid()
    }

    fn find(&self, kid: &str) -> Option<&SealingKey> {
        std::iter::once(&self.primary)
            .chain(self.older.iter())
            .find(|k| k.kid == kid)
    }

    fn aad(key: &ConnectionKey, field: &str) -> Vec<u8> {
        serde_json::to_vec(&[
            "sfcrm-sealed:v1",
            key.account_id.as_str(),
            key.owner.as_str(),
            field,
        ])
        .expect("strings serialize")
    }

    /// Seals one value under the primary key.
    pub fn seal(&self, key: &ConnectionKey, field: &str, value: &Secret) -> Result<Secret, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = Self::aad(key, field);
        let ct = self
            .primary
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: value.expose().as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| Error::store("sealing a token failed"))?;
        let mut blob = Vec::with_capacity(NONCE_LEN + ct.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ct);
        Ok(Secret::new(format!(
            "{SEALED_PREFIX}{}:{}",
            self.primary.kid,
            URL_SAFE_NO_PAD.encode(blob)
        )))
    }

    /// Opens one value (plaintext values pass through). Errors: `Store` for an unknown key id, a
    /// malformed value, or a value that fails authentication (tampered, other connection/field).
    pub fn open(&self, key: &ConnectionKey, field: &str, value: &Secret) -> Result<Secret, Error> {
        let Some(rest) = value.expose().strip_prefix(SEALED_PREFIX) else {
            return Ok(value.clone());
        };
        let (kid, b64) = rest
            .split_once(':')
            .ok_or_else(|| Error::store(format!("the sealed {field} is malformed")))?;
        let k = self.find(kid).ok_or_else(|| {
            Error::store(format!(
                "the sealed {field} uses key id `{kid}`, which is not in the keyring"
            ))
        })?;
        let blob = URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| Error::store(format!("the sealed {field} is malformed")))?;
        if blob.len() < NONCE_LEN + 16 {
            return Err(Error::store(format!("the sealed {field} is too short")));
        }
        let aad = Self::aad(key, field);
        let plain = Zeroizing::new(
            k.cipher()
                .decrypt(XNonce::from_slice(&blob[..NONCE_LEN]), Payload { msg: &blob[NONCE_LEN..], aad: &aad })
                .map_err(|_| {
                    Error::store(format!(
                        "the sealed {field} does not open (tampered with, or sealed for another connection)"
                    ))
                })?,
        );
        let s = std::str::from_utf8(&plain)
            .map_err(|_| Error::store(format!("the sealed {field} is not UTF-8")))?;
        Ok(Secret::new(s))
    }

    /// A copy of `doc` with its token fields sealed under the primary key.
    pub fn seal_document(&self, doc: &ConnectionDocument) -> Result<ConnectionDocument, Error> {
        let key = doc.key();
        let mut out = doc.clone();
        // A value that is already sealed (should not happen) is opened first so it is resealed
        // under the primary key rather than double-sealed.
        let at = self.open(&key, "access_token", &doc.token.access_token)?;
        out.token.access_token = self.seal(&key, "access_token", &at)?;
        if let Some(rt) = &doc.token.refresh_token {
            let rt = self.open(&key, "refresh_token", rt)?;
            out.token.refresh_token = Some(self.seal(&key, "refresh_token", &rt)?);
        }
        Ok(out)
    }

    /// A copy of `doc` with its token fields opened.
    pub fn open_document(&self, doc: &ConnectionDocument) -> Result<ConnectionDocument, Error> {
        let key = doc.key();
        let mut out = doc.clone();
        out.token.access_token = self.open(&key, "access_token", &doc.token.access_token)?;
        if let Some(rt) = &doc.token.refresh_token {
            out.token.refresh_token = Some(self.open(&key, "refresh_token", rt)?);
        }
        Ok(out)
    }
}

/// A [`TokenStore`] that seals token fields before they reach `inner`. See the module docs.
#[derive(Clone)]
pub struct SealedStore {
    inner: Arc<dyn TokenStore>,
    keyring: SealingKeyring,
}

impl std::fmt::Debug for SealedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedStore")
            .field("primary_kid", &self.keyring.primary_kid())
            .finish_non_exhaustive()
    }
}

impl SealedStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn TokenStore>, keyring: SealingKeyring) -> SealedStore {
        SealedStore { inner, keyring }
    }

    /// The keyring.
    pub fn keyring(&self) -> &SealingKeyring {
        &self.keyring
    }
}

impl TokenStore for SealedStore {
    fn load<'a>(
        &'a self,
        key: &'a ConnectionKey,
    ) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        Box::pin(async move {
            match self.inner.load(key).await? {
                None => Ok(None),
                Some(doc) => self.keyring.open_document(&doc).map(Some),
            }
        })
    }

    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>> {
        Box::pin(async move {
            let sealed = self.keyring.seal_document(doc)?;
            self.inner.save(&sealed, expected_version).await
        })
    }

    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>> {
        self.inner.delete(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::store::{MemoryStore, test_doc};

    fn key32(b: u8) -> String {
        STANDARD.encode([b; 32])
    }

    #[tokio::test]
    async fn seals_round_trips_and_hides_plaintext() {
        let inner = Arc::new(MemoryStore::new());
        let ring = SealingKeyring::from_env_value(&format!("k1:{}", key32(1))).unwrap();
        let s = SealedStore::new(inner.clone(), ring);
        let d = test_doc("a", "u", 1);
        assert_eq!(s.save(&d, None).await.unwrap(), SaveOutcome::Saved);
        let raw = inner.load(&d.key()).await.unwrap().unwrap();
        let raw_json = raw.to_json();
        assert!(!raw_json.contains("00DFAKE!TOKEN1") && !raw_json.contains("5AepFAKEREFRESH1"));
        assert!(
            raw.token
                .access_token
                .expose()
                .starts_with("sfcrm-sealed:v1:k1:")
        );
        assert_eq!(s.load(&d.key()).await.unwrap().unwrap(), d);
    }

    #[tokio::test]
    async fn rotation_keeps_old_documents_readable_and_reseals() {
        let inner = Arc::new(MemoryStore::new());
        let old = SealedStore::new(
            inner.clone(),
            SealingKeyring::from_env_value(&format!("k0:{}", key32(0))).unwrap(),
        );
        let mut d = test_doc("a", "u", 1);
        old.save(&d, None).await.unwrap();
        let rotated = SealedStore::new(
            inner.clone(),
            SealingKeyring::from_env_value(&format!("k1:{}, k0:{}", key32(1), key32(0))).unwrap(),
        );
        assert_eq!(rotated.load(&d.key()).await.unwrap().unwrap(), d);
        d.version = 2;
        rotated.save(&d, Some(1)).await.unwrap();
        let raw = inner.load(&d.key()).await.unwrap().unwrap();
        assert!(
            raw.token
                .access_token
                .expose()
                .starts_with("sfcrm-sealed:v1:k1:")
        );
        assert!(
            raw.token
                .refresh_token
                .unwrap()
                .expose()
                .starts_with("sfcrm-sealed:v1:k1:")
        );
        // The old keyring no longer knows the primary: unknown kid → Store error.
        let e = old.load(&d.key()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Store);
        assert!(e.message().contains("k1"));
    }

    #[tokio::test]
    async fn tamper_and_transplant_are_store_errors() {
        let inner = Arc::new(MemoryStore::new());
        let ring = SealingKeyring::from_env_value(&format!("k1:{}", key32(1))).unwrap();
        let s = SealedStore::new(inner.clone(), ring.clone());
        let d = test_doc("a", "u", 1);
        s.save(&d, None).await.unwrap();
        let raw = inner.load(&d.key()).await.unwrap().unwrap();
        // Flip one ciphertext character.
        let mut tampered = raw.clone();
        let v = tampered.token.access_token.expose().to_owned();
        let last = v.chars().last().unwrap();
        let flipped = format!(
            "{}{}",
            &v[..v.len() - 1],
            if last == 'A' { 'B' } else { 'A' }
        );
        tampered.token.access_token = Secret::new(flipped);
        tampered.version = 2;
        inner.save(&tampered, Some(1)).await.unwrap();
        assert_eq!(s.load(&d.key()).await.unwrap_err().kind(), ErrorKind::Store);
        // Swap fields: the refresh token's ciphertext in the access token field.
        let mut swapped = raw.clone();
        swapped.token.access_token = raw.token.refresh_token.clone().unwrap();
        swapped.version = 3;
        inner.save(&swapped, Some(2)).await.unwrap();
        assert_eq!(s.load(&d.key()).await.unwrap_err().kind(), ErrorKind::Store);
        // Transplant into another connection.
        let mut other = raw.clone();
        other.account_id = "b".into();
        inner.save(&other, None).await.unwrap();
        assert_eq!(
            s.load(&other.key()).await.unwrap_err().kind(),
            ErrorKind::Store
        );
        assert_eq!(
            ring.open(
                &d.key(),
                "access_token",
                &Secret::new("sfcrm-sealed:v1:k1:!!")
            )
            .unwrap_err()
            .kind(),
            ErrorKind::Store
        );
    }

    #[test]
    fn keyring_parsing_and_no_key_in_debug() {
        let v = format!(
            "primary:{},old:{}",
            URL_SAFE_NO_PAD.encode([7u8; 32]),
            key32(8)
        );
        let r = SealingKeyring::from_env_value(&v).unwrap();
        assert_eq!(r.primary_kid(), "primary");
        let dbg = format!("{r:?}");
        assert!(!dbg.contains(&key32(8)) && !dbg.contains("7, 7"));
        for bad in [
            "",
            "nokey",
            "k:notbase64!!",
            &format!("k:{}", STANDARD.encode([1u8; 16])),
            &format!("a:{0},a:{0}", key32(1)),
            &format!("bad kid:{}", key32(1)),
        ] {
            let e = SealingKeyring::from_env_value(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
            assert!(!e.message().contains(&key32(1)));
        }
    }
}
