//! Identifier newtypes: content ids are blake3 digests, packs are numbered.

use std::fmt;

macro_rules! digest_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The id of these bytes.
            pub fn of(bytes: &[u8]) -> Self {
                Self(*blake3::hash(bytes).as_bytes())
            }

            /// Full lower-case hex.
            pub fn to_hex(&self) -> String {
                blake3::Hash::from_bytes(self.0).to_hex().to_string()
            }

            /// Parses full hex.
            pub fn from_hex(s: &str) -> Option<Self> {
                blake3::Hash::from_hex(s).ok().map(|h| Self(*h.as_bytes()))
            }
        }

        impl fmt::Display for $name {
            /// Short hex, enough to name it to a human.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let hex = self.to_hex();
                f.write_str(hex.get(..12).unwrap_or(&hex))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }
    };
}

digest_id!(
    /// blake3 of a chunk's plaintext.
    ChunkId
);
digest_id!(
    /// blake3 of a whole file: the same bytes from any source are the same blob.
    BlobId
);

/// A pack file's number; packs are numbered in creation order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct PackId(pub u64);

impl fmt::Display for PackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}
