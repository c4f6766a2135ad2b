//! The box key: one random 32-byte key in the data directory that seals secrets kept in the
//! catalog (iCloud sessions, the backup target's credentials and passphrase), so a copied
//! `catalog.redb` alone gives nothing away.
//!
//! A leaf: imports nothing from the crate. Sealed bytes are a 24-byte random nonce followed by
//! XChaCha20-Poly1305 ciphertext; the caller's `aad` (a table key) binds a sealed value to
//! where it is stored, so values cannot be swapped between rows.

use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// Name of the key file in the data directory. It was first made for iCloud sessions, and
/// boxes in use already have it under this name.
pub const KEY_FILE: &str = "icloud.key";

const NONCE_LEN: usize = 24;

/// What can go wrong with the box key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The key file is not 32 bytes.
    #[error("{0} is not a 32-byte key")]
    BadKey(PathBuf),
    /// A sealed value does not open: another box's key, or damaged bytes.
    #[error("a sealed value does not open with this box's {KEY_FILE}")]
    Forged,
    /// The system's random source failed.
    #[error("random source: {0}")]
    Random(String),
}

/// The box key, ready to seal and open.
pub struct BoxKey {
    cipher: XChaCha20Poly1305,
}

impl BoxKey {
    /// Reads the key in `data_dir`, creating it (0600, fsynced, renamed into place) on first use.
    pub fn open(data_dir: &Path) -> Result<Self, Error> {
        let key = load_or_create(data_dir)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&key)
            .map_err(|_| Error::BadKey(data_dir.join(KEY_FILE)))?;
        Ok(Self { cipher })
    }

    /// Seals `clear`, bound to `aad`.
    pub fn seal(&self, aad: &[u8], clear: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| Error::Random(e.to_string()))?;
        let body = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: clear, aad })
            .map_err(|_| Error::Forged)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    /// Opens what [`BoxKey::seal`] made with the same `aad`.
    pub fn open_sealed(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Error> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN).ok_or(Error::Forged)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::Forged)?;
        self.cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: body, aad })
            .map_err(|_| Error::Forged)
    }
}

fn load_or_create(data_dir: &Path) -> Result<[u8; 32], Error> {
    let path = data_dir.join(KEY_FILE);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    match std::fs::read(&path) {
        Ok(bytes) => bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::BadKey(path.clone())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| Error::Random(e.to_string()))?;
            let tmp = data_dir.join(format!("{KEY_FILE}.tmp"));
            write_private(&tmp, &key).map_err(io(&tmp))?;
            std::fs::rename(&tmp, &path).map_err(io(&path))?;
            if let Ok(dir) = std::fs::File::open(data_dir) {
                let _ = dir.sync_all();
            }
            Ok(key)
        }
        Err(e) => Err(io(&path)(e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_place() {
        let dir = tempfile::tempdir().unwrap();
        let key = BoxKey::open(dir.path()).unwrap();
        let sealed = key.seal(b"row-a", b"hunter2").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(key.open_sealed(b"row-a", &sealed).unwrap(), b"hunter2");
        assert!(matches!(
            key.open_sealed(b"row-b", &sealed),
            Err(Error::Forged)
        ));
        assert!(matches!(
            key.open_sealed(b"row-a", &[1, 2]),
            Err(Error::Forged)
        ));
        // The same file opens again; another key does not.
        let again = BoxKey::open(dir.path()).unwrap();
        assert_eq!(again.open_sealed(b"row-a", &sealed).unwrap(), b"hunter2");
        std::fs::write(dir.path().join(KEY_FILE), [7u8; 32]).unwrap();
        let other = BoxKey::open(dir.path()).unwrap();
        assert!(other.open_sealed(b"row-a", &sealed).is_err());
        std::fs::write(dir.path().join(KEY_FILE), [7u8; 5]).unwrap();
        assert!(matches!(BoxKey::open(dir.path()), Err(Error::BadKey(_))));
    }
}
