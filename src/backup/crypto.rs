//! Keys and sealing: argon2id to turn a passphrase into a wrapping key, XChaCha20-Poly1305
//! with random 24-byte nonces to seal, keyed blake3 to name objects. Pure functions.
//!
//! A random 24-byte nonce never repeats in practice (2⁹⁶ space), so no nonce counter has to
//! survive crashes, restores or a second box writing the same repository.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes a sealed box adds: nonce (24) + tag (16).
pub const SEAL_OVERHEAD: usize = 24 + 16;
/// Nonce length.
pub const NONCE_LEN: usize = 24;

/// The three secrets of a repository, random at `init`, never stored unwrapped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKeys {
    /// Seals every object.
    pub encrypt: [u8; 32],
    /// Keys the blake3 that names chunks on the remote.
    pub id_mac: [u8; 32],
    /// Seeds the chunker of snapshot streams.
    pub chunker: [u8; 32],
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKeys(..)")
    }
}

/// Sealing or opening failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The bytes were changed, belong elsewhere, or the key is wrong.
    #[error("authentication failed")]
    Forged,
    /// Too short to be a sealed box.
    #[error("too short to be sealed")]
    Short,
    /// The system's random source failed.
    #[error("no randomness")]
    Random,
    /// argon2 refused its parameters.
    #[error("bad key-derivation parameters")]
    KdfParams,
}

/// Fills `N` bytes from the system's random source.
pub fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

impl MasterKeys {
    /// Fresh random keys.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self {
            encrypt: random()?,
            id_mac: random()?,
            chunker: random()?,
        })
    }

    /// The 96 bytes a key object wraps.
    pub fn to_bytes(&self) -> [u8; 96] {
        let mut out = [0u8; 96];
        for (dst, src) in out
            .chunks_mut(32)
            .zip([&self.encrypt, &self.id_mac, &self.chunker])
        {
            dst.copy_from_slice(src);
        }
        out
    }

    /// Inverse of [`MasterKeys::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let part =
            |i: usize| -> Option<[u8; 32]> { bytes.get(i * 32..i * 32 + 32)?.try_into().ok() };
        (bytes.len() == 96).then_some(())?;
        Some(Self {
            encrypt: part(0)?,
            id_mac: part(1)?,
            chunker: part(2)?,
        })
    }

    /// The remote name of a chunk whose plaintext blake3 is `plain_id`: a keyed hash, so the
    /// provider cannot test whether a known file is stored.
    pub fn remote_id(&self, plain_id: &[u8; 32]) -> [u8; 32] {
        *blake3::keyed_hash(&self.id_mac, plain_id).as_bytes()
    }

    /// Seals with the repository's encryption key.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal(&self.encrypt, aad, plain)
    }

    /// Opens what [`MasterKeys::seal`] made.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        open(&self.encrypt, aad, sealed)
    }
}

/// `nonce ‖ ciphertext ‖ tag` of `plain`, bound to `aad`.
pub fn seal(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce_bytes: [u8; NONCE_LEN] = random()?;
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = XNonce::from(nonce_bytes);
    let mut out = Vec::with_capacity(plain.len() + SEAL_OVERHEAD);
    out.extend_from_slice(&nonce_bytes);
    let mut body = plain.to_vec();
    cipher
        .encrypt_in_place(&nonce, aad, &mut body)
        .map_err(|_| CryptoError::Forged)?;
    out.append(&mut body);
    Ok(out)
}

/// Opens a sealed box; any change to it or to `aad` is refused.
pub fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(CryptoError::Short);
    }
    let (nonce_bytes, body) = sealed.split_at(NONCE_LEN);
    let nonce = XNonce::try_from(nonce_bytes).map_err(|_| CryptoError::Short)?;
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut buf = body.to_vec();
    cipher
        .decrypt_in_place(&nonce, aad, &mut buf)
        .map_err(|_| CryptoError::Forged)?;
    Ok(buf)
}

/// argon2id cost, stored in every key object so old keys open after defaults change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: about a second on a Raspberry Pi 4 and well inside the
    /// memory of a 1 GiB board that also runs the web app.
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

/// The 32-byte wrapping key of `secret` (a passphrase or a recovery key).
pub fn derive(secret: &[u8], salt: &[u8; 32], p: KdfParams) -> Result<[u8; 32], CryptoError> {
    let params = argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32))
        .map_err(|_| CryptoError::KdfParams)?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(secret, salt, &mut out)
        .map_err(|_| CryptoError::KdfParams)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_boxes_open_only_with_the_same_key_and_aad() {
        let k = MasterKeys::generate().unwrap();
        let sealed = k.seal(b"aad", b"hello").unwrap();
        assert_eq!(sealed.len(), 5 + SEAL_OVERHEAD);
        assert_eq!(k.open(b"aad", &sealed).unwrap(), b"hello");
        assert_eq!(k.open(b"other", &sealed), Err(CryptoError::Forged));
        let other = MasterKeys::generate().unwrap();
        assert_eq!(other.open(b"aad", &sealed), Err(CryptoError::Forged));
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                k.open(b"aad", &bad),
                Err(CryptoError::Forged),
                "bit flip at {i}"
            );
        }
        assert_eq!(k.open(b"aad", &sealed[..20]), Err(CryptoError::Short));
    }

    #[test]
    fn two_seals_of_the_same_bytes_differ() {
        let k = MasterKeys::generate().unwrap();
        assert_ne!(k.seal(b"", b"same").unwrap(), k.seal(b"", b"same").unwrap());
    }

    #[test]
    fn master_keys_round_trip_and_remote_ids_depend_on_the_key() {
        let k = MasterKeys::generate().unwrap();
        let back = MasterKeys::from_bytes(&k.to_bytes()).unwrap();
        assert_eq!(back.encrypt, k.encrypt);
        assert_eq!(back.chunker, k.chunker);
        let id = [7u8; 32];
        assert_eq!(back.remote_id(&id), k.remote_id(&id));
        assert_ne!(
            MasterKeys::generate().unwrap().remote_id(&id),
            k.remote_id(&id)
        );
        assert!(MasterKeys::from_bytes(&[0u8; 95]).is_none());
    }

    #[test]
    fn derivation_depends_on_secret_and_salt() {
        let p = KdfParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let a = derive(b"pass", &[1; 32], p).unwrap();
        assert_eq!(a, derive(b"pass", &[1; 32], p).unwrap());
        assert_ne!(a, derive(b"pasS", &[1; 32], p).unwrap());
        assert_ne!(a, derive(b"pass", &[2; 32], p).unwrap());
    }
}
