//! A remote in memory, for tests and for the compatibility fixture.

use std::collections::BTreeMap;
use std::sync::Mutex;

use bytes::Bytes;

use super::{Error, ErrorKind, Kind, Listed, Remote, Result};

/// Objects in a map; shares nothing between instances.
#[derive(Default)]
pub struct Memory {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl Memory {
    /// An empty remote.
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.objects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every object path and its bytes (tests damage them with [`Memory::set_raw`]).
    pub fn dump(&self) -> Vec<(String, Vec<u8>)> {
        self.map()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Replaces (or with `None` removes) an object by path, bypassing everything.
    pub fn set_raw(&self, path: &str, bytes: Option<Vec<u8>>) {
        match bytes {
            Some(b) => {
                self.map().insert(path.to_string(), b);
            }
            None => {
                self.map().remove(path);
            }
        }
    }
}

fn missing(what: &'static str, path: &str) -> Error {
    Error::new(ErrorKind::NotFound, what, path, "no such object")
}

impl Remote for Memory {
    fn list(&self, kind: Kind) -> Result<Vec<Listed>> {
        let prefix = format!("{}/", kind.folder());
        Ok(self
            .map()
            .iter()
            .filter_map(|(k, v)| match kind {
                Kind::Config => (k == "config").then(|| Listed {
                    name: String::new(),
                    size: v.len() as u64,
                }),
                _ => k.strip_prefix(&prefix).map(|name| Listed {
                    name: name.to_string(),
                    size: v.len() as u64,
                }),
            })
            .collect())
    }

    fn get(&self, kind: Kind, name: &str) -> Result<Vec<u8>> {
        let path = kind.path(name);
        self.map()
            .get(&path)
            .cloned()
            .ok_or_else(|| missing("get", &path))
    }

    fn get_range(&self, kind: Kind, name: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        let path = kind.path(name);
        let map = self.map();
        let bytes = map.get(&path).ok_or_else(|| missing("get", &path))?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = usize::try_from(offset.saturating_add(len))
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        Ok(bytes.get(start..end).unwrap_or_default().to_vec())
    }

    fn size(&self, kind: Kind, name: &str) -> Result<u64> {
        let path = kind.path(name);
        self.map()
            .get(&path)
            .map(|b| b.len() as u64)
            .ok_or_else(|| missing("stat", &path))
    }

    fn put(&self, kind: Kind, name: &str, bytes: Bytes) -> Result<()> {
        self.map().insert(kind.path(name), bytes.to_vec());
        Ok(())
    }

    fn delete(&self, kind: Kind, name: &str) -> Result<()> {
        self.map().remove(&kind.path(name));
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_remote_passes_conformance() {
        super::super::conformance(&Memory::new()).unwrap();
    }
}
