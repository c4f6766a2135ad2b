//! An opened repository: the remote plus the master keys, and the one place objects are
//! sealed on the way out and verified and opened on the way in.

use std::sync::Arc;

use super::crypto::{self, CryptoError, KdfParams, MasterKeys};
use super::error::{Error, Result};
use super::format::{self, KeyObject};
use super::remote::{ErrorKind, Kind, Remote};

/// A repository opened with one of its keys. Cloning shares the remote.
#[derive(Clone)]
pub struct Repo {
    remote: Arc<dyn Remote>,
    keys: MasterKeys,
    /// Name of the key object that opened it.
    key_in_use: String,
}

/// A key object as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Object name (hex).
    pub name: String,
    /// Recovery key rather than passphrase.
    pub recovery: bool,
    /// Label given when it was added.
    pub label: String,
    /// Unix seconds.
    pub created: i64,
    /// The key this session opened the repository with.
    pub in_use: bool,
}

/// A printable recovery key: 32 random bytes as 8 groups of 8 hex digits.
pub fn new_recovery_key() -> Result<String> {
    let bytes: [u8; 32] = crypto::random().map_err(Error::Crypto)?;
    let hex = blake3::Hash::from_bytes(bytes).to_hex().to_string();
    let groups: Vec<&str> = (0..8).filter_map(|i| hex.get(i * 8..i * 8 + 8)).collect();
    Ok(groups.join("-"))
}

/// The secret a recovery key stands for, whatever spacing or case it was typed with.
fn normalize_recovery(s: &str) -> Option<String> {
    let hex: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn wrap(
    keys: &MasterKeys,
    secret: &str,
    recovery: bool,
    label: &str,
    kdf: KdfParams,
) -> Result<Vec<u8>> {
    let secret = if recovery {
        normalize_recovery(secret).unwrap_or_else(|| secret.to_string())
    } else {
        secret.to_string()
    };
    let salt: [u8; 32] = crypto::random().map_err(Error::Crypto)?;
    let mut object = KeyObject {
        recovery,
        kdf,
        salt,
        created: unix_now(),
        label: label.to_string(),
        wrapped: Vec::new(),
    };
    let wrapping = crypto::derive(secret.as_bytes(), &salt, kdf).map_err(Error::Crypto)?;
    let aad = format::key_prefix(&object);
    object.wrapped = crypto::seal(&wrapping, &aad, &keys.to_bytes()).map_err(Error::Crypto)?;
    Ok(format::encode_key(&object))
}

impl Repo {
    /// Creates a repository on an empty remote: config, a passphrase key and a recovery
    /// key. Returns it opened, and the recovery key to show the user once.
    pub fn init(
        remote: Arc<dyn Remote>,
        passphrase: &str,
        kdf: KdfParams,
    ) -> Result<(Self, String)> {
        match remote.get(Kind::Config, "") {
            Ok(_) => return Err(Error::AlreadyARepository(remote.describe())),
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        let keys = MasterKeys::generate().map_err(Error::Crypto)?;
        let recovery = new_recovery_key()?;
        let pass_key = wrap(&keys, passphrase, false, "passphrase", kdf)?;
        let rec_key = wrap(&keys, &recovery, true, "recovery key", kdf)?;
        let pass_name = format::content_name(&pass_key);
        remote.put(Kind::Key, &pass_name, pass_key.into())?;
        remote.put(Kind::Key, &format::content_name(&rec_key), rec_key.into())?;
        // The config goes last: a remote with a config is a complete repository.
        let mut config = format::header(Kind::Config).to_vec();
        config.extend_from_slice(&crypto::random::<32>().map_err(Error::Crypto)?);
        remote.put(Kind::Config, "", config.into())?;
        Ok((
            Self {
                remote,
                keys,
                key_in_use: pass_name,
            },
            recovery,
        ))
    }

    /// Opens a repository with a passphrase or a recovery key.
    pub fn open(remote: Arc<dyn Remote>, secret: &str) -> Result<Self> {
        let config = match remote.get(Kind::Config, "") {
            Ok(c) => c,
            Err(e) if e.kind == ErrorKind::NotFound => {
                return Err(Error::NotARepository(remote.describe()));
            }
            Err(e) => return Err(e.into()),
        };
        format::check_header(Kind::Config, &config).map_err(|e| Error::corrupt("config", e))?;
        let listed = remote.list(Kind::Key)?;
        let recovery_secret = normalize_recovery(secret);
        // Recovery keys first when the secret looks like one: each try costs an argon2 run.
        let mut candidates = Vec::new();
        for l in &listed {
            let bytes = remote.get(Kind::Key, &l.name)?;
            if format::content_name(&bytes) != l.name {
                tracing::warn!(
                    "key object keys/{} does not match its name; skipped",
                    l.name
                );
                continue;
            }
            match format::decode_key(&bytes) {
                Ok((k, prefix)) => candidates.push((l.name.clone(), k, bytes, prefix)),
                Err(e) => tracing::warn!("key object keys/{} is unreadable: {e}", l.name),
            }
        }
        candidates.sort_by_key(|(_, k, _, _)| k.recovery != recovery_secret.is_some());
        for (name, key, bytes, prefix) in &candidates {
            let secret = match (&recovery_secret, key.recovery) {
                (Some(r), true) => r.as_str(),
                (None, true) => continue,
                _ => secret,
            };
            let wrapping =
                crypto::derive(secret.as_bytes(), &key.salt, key.kdf).map_err(Error::Crypto)?;
            let aad = bytes.get(..*prefix).unwrap_or_default();
            match crypto::open(&wrapping, aad, &key.wrapped) {
                Ok(plain) => {
                    let keys = MasterKeys::from_bytes(&plain).ok_or_else(|| {
                        Error::corrupt(format!("keys/{name}"), "wrapped keys have the wrong length")
                    })?;
                    return Ok(Self {
                        remote,
                        keys,
                        key_in_use: name.clone(),
                    });
                }
                Err(CryptoError::Forged | CryptoError::Short) => {}
                Err(e) => return Err(Error::Crypto(e)),
            }
        }
        Err(Error::WrongPassphrase {
            keys: candidates.len(),
        })
    }

    /// The remote.
    pub fn remote(&self) -> &Arc<dyn Remote> {
        &self.remote
    }

    /// The master keys.
    pub fn keys(&self) -> &MasterKeys {
        &self.keys
    }

    /// Adds a key; returns its name.
    pub fn add_key(
        &self,
        secret: &str,
        recovery: bool,
        label: &str,
        kdf: KdfParams,
    ) -> Result<String> {
        let bytes = wrap(&self.keys, secret, recovery, label, kdf)?;
        let name = format::content_name(&bytes);
        self.remote.put(Kind::Key, &name, bytes.into())?;
        Ok(name)
    }

    /// Every key object.
    pub fn list_keys(&self) -> Result<Vec<KeyInfo>> {
        let mut out = Vec::new();
        for l in self.remote.list(Kind::Key)? {
            let bytes = self.remote.get(Kind::Key, &l.name)?;
            let (k, _) = format::decode_key(&bytes)
                .map_err(|e| Error::corrupt(format!("keys/{}", l.name), e))?;
            out.push(KeyInfo {
                in_use: l.name == self.key_in_use,
                name: l.name,
                recovery: k.recovery,
                label: k.label,
                created: k.created,
            });
        }
        out.sort_by_key(|k| k.created);
        Ok(out)
    }

    /// Removes a key by name prefix; never the one in use, never the last passphrase key.
    pub fn remove_key(&self, prefix: &str) -> Result<String> {
        let keys = self.list_keys()?;
        let matching: Vec<&KeyInfo> = keys.iter().filter(|k| k.name.starts_with(prefix)).collect();
        let [target] = matching.as_slice() else {
            return Err(Error::KeyNotFound(prefix.to_string()));
        };
        let passphrases = keys.iter().filter(|k| !k.recovery).count();
        if target.in_use || (!target.recovery && passphrases <= 1) {
            return Err(Error::KeyInUse(target.name.clone()));
        }
        self.remote.delete(Kind::Key, &target.name)?;
        Ok(target.name.clone())
    }

    /// Replaces the passphrase that opened this session with a new one.
    pub fn change_passphrase(&mut self, new: &str, kdf: KdfParams) -> Result<String> {
        let old = self.key_in_use.clone();
        let name = self.add_key(new, false, "passphrase", kdf)?;
        self.key_in_use.clone_from(&name);
        self.remote.delete(Kind::Key, &old)?;
        Ok(name)
    }

    /// Seals `plain` as an index or snapshot object, writes it, returns its name.
    pub fn put_sealed(&self, kind: Kind, plain: &[u8]) -> Result<String> {
        let header = format::header(kind);
        let mut bytes = header.to_vec();
        bytes.extend(self.keys.seal(&header, plain).map_err(Error::Crypto)?);
        let name = format::content_name(&bytes);
        self.remote.put(kind, &name, bytes.into())?;
        Ok(name)
    }

    /// Seals `plain` under a name of the caller's (a lease, replaced on renewal).
    pub fn put_sealed_as(&self, kind: Kind, name: &str, plain: &[u8]) -> Result<()> {
        let header = format::header(kind);
        let mut bytes = header.to_vec();
        bytes.extend(self.keys.seal(&header, plain).map_err(Error::Crypto)?);
        Ok(self.remote.put(kind, name, bytes.into())?)
    }

    /// Reads an object [`Self::put_sealed_as`] wrote: its seal is checked, its name cannot be.
    pub fn get_sealed_as(&self, kind: Kind, name: &str) -> Result<Vec<u8>> {
        let object = kind.path(name);
        let bytes = self.remote.get(kind, name)?;
        let rest = format::check_header(kind, &bytes).map_err(|e| Error::corrupt(&object, e))?;
        let header = bytes.get(..format::HEADER_LEN).unwrap_or_default();
        self.keys
            .open(header, rest)
            .map_err(|e| Error::corrupt(object, format!("seal does not open ({e})")))
    }

    /// Reads an index or snapshot object, checks its name and seal, returns the plaintext.
    pub fn get_sealed(&self, kind: Kind, name: &str) -> Result<Vec<u8>> {
        let object = kind.path(name);
        let bytes = match self.remote.get(kind, name) {
            Ok(b) => b,
            Err(e) if e.kind == ErrorKind::NotFound => {
                return Err(Error::corrupt(object, "missing"));
            }
            Err(e) => return Err(e.into()),
        };
        if format::content_name(&bytes) != name {
            return Err(Error::corrupt(
                object,
                "bytes do not match the name (changed or truncated)",
            ));
        }
        let rest = format::check_header(kind, &bytes).map_err(|e| Error::corrupt(&object, e))?;
        let header = bytes.get(..format::HEADER_LEN).unwrap_or_default();
        self.keys
            .open(header, rest)
            .map_err(|e| Error::corrupt(object, format!("seal does not open ({e})")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::remote::Memory;
    use super::*;

    pub(crate) fn cheap() -> KdfParams {
        KdfParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[test]
    fn passphrase_and_recovery_key_both_open_and_wrong_ones_do_not() {
        let remote: Arc<dyn Remote> = Arc::new(Memory::new());
        let (repo, recovery) = Repo::init(Arc::clone(&remote), "correct horse", cheap()).unwrap();
        let a = Repo::open(Arc::clone(&remote), "correct horse").unwrap();
        assert_eq!(a.keys().encrypt, repo.keys().encrypt);
        let spaced = recovery.to_uppercase().replace('-', " ");
        let b = Repo::open(Arc::clone(&remote), &spaced).unwrap();
        assert_eq!(b.keys().id_mac, repo.keys().id_mac);
        assert!(matches!(
            Repo::open(Arc::clone(&remote), "wrong horse"),
            Err(Error::WrongPassphrase { keys: 2 })
        ));
        assert!(matches!(
            Repo::init(Arc::clone(&remote), "x", cheap()),
            Err(Error::AlreadyARepository(_))
        ));
        assert!(matches!(
            Repo::open(Arc::new(Memory::new()), "x"),
            Err(Error::NotARepository(_))
        ));
    }

    #[test]
    fn keys_can_be_added_listed_removed_and_changed() {
        let remote: Arc<dyn Remote> = Arc::new(Memory::new());
        let (mut repo, _) = Repo::init(Arc::clone(&remote), "one", cheap()).unwrap();
        let laptop = repo.add_key("two", false, "laptop", cheap()).unwrap();
        assert_eq!(repo.list_keys().unwrap().len(), 3);
        assert!(Repo::open(Arc::clone(&remote), "two").is_ok());
        let in_use = repo
            .list_keys()
            .unwrap()
            .into_iter()
            .find(|k| k.in_use)
            .unwrap();
        assert!(matches!(
            repo.remove_key(&in_use.name),
            Err(Error::KeyInUse(_))
        ));
        assert_eq!(repo.remove_key(&laptop[..8]).unwrap(), laptop);
        assert!(Repo::open(Arc::clone(&remote), "two").is_err());
        repo.change_passphrase("three", cheap()).unwrap();
        assert!(Repo::open(Arc::clone(&remote), "one").is_err());
        assert!(Repo::open(Arc::clone(&remote), "three").is_ok());
    }

    #[test]
    fn sealed_objects_detect_any_change() {
        let remote = Arc::new(Memory::new());
        let (repo, _) = Repo::init(remote.clone(), "p", cheap()).unwrap();
        let name = repo.put_sealed(Kind::Index, b"hello").unwrap();
        assert_eq!(repo.get_sealed(Kind::Index, &name).unwrap(), b"hello");
        let path = Kind::Index.path(&name);
        let mut bytes = remote.get(Kind::Index, &name).unwrap();
        bytes[20] ^= 4;
        remote.set_raw(&path, Some(bytes));
        let err = repo.get_sealed(Kind::Index, &name).unwrap_err().to_string();
        assert!(err.contains(&path), "{err}");
        remote.set_raw(&path, None);
        assert!(
            repo.get_sealed(Kind::Index, &name)
                .unwrap_err()
                .to_string()
                .contains("missing")
        );
    }
}
