//! Sidecars that came first. A phone app may send `IMG_1.xmp` before `IMG_1.JPG`; the library
//! cannot attach a sidecar to a photo it has not seen, so the sidecar is kept as a plain file.
//! When the photo arrives, the kept sidecar beside it is ingested again and joins it.

use redb::ReadableDatabase;

use super::tree::{self, Content, Entry, Kind};
use super::{Dav, Result};
use crate::library::{Incoming, Ingested, Origin};

/// The names a sidecar of `name` may have beside it: `IMG_1.xmp` and `IMG_1.JPG.xmp`.
fn sidecar_names(name: &str) -> Vec<String> {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let mut names = Vec::with_capacity(4);
    for base in [stem, name] {
        for ext in ["xmp", "XMP"] {
            let candidate = format!("{base}.{ext}");
            if candidate != name && !names.contains(&candidate) {
                names.push(candidate);
            }
        }
    }
    names
}

impl Dav {
    /// Attaches kept sidecars waiting beside the file just stored at `segs`. Returns how many
    /// joined. Point lookups only: a folder of 10 000 uploads costs the same as an empty one.
    pub(super) fn adopt_sidecars(&self, user: &str, segs: &[String]) -> Result<usize> {
        let Some((name, parent)) = segs.split_last() else {
            return Ok(0);
        };
        let waiting: Vec<(Vec<String>, Entry, String)> = {
            let txn = self.db.begin_read()?;
            let Ok(table) = txn.open_table(tree::TREE) else {
                return Ok(0);
            };
            let mut found = Vec::new();
            for candidate in sidecar_names(name) {
                let mut at = parent.to_vec();
                at.push(candidate);
                if let Some(entry) = tree::get(&table, user, &at)?
                    && let Kind::File {
                        content: Content::Kept { file },
                        ..
                    } = &entry.kind
                {
                    let file = file.clone();
                    found.push((at, entry, file));
                }
            }
            found
        };
        let mut joined = 0;
        for (at, entry, file) in waiting {
            let kept = self.kept.join(&file);
            let outcome = self.library.ingest(&Incoming {
                file: &kept,
                origin: Origin::Dav {
                    user: user.to_owned(),
                    path: format!("/{}", at.join("/")),
                },
                name: at.last().cloned().unwrap_or_default(),
                stamp: None,
                file_time: Some(entry.modified),
            })?;
            let Ingested::Paired(asset) = outcome else {
                continue;
            };
            let txn = self.db.begin_write()?;
            tree::update(&txn, user, &at, |e| {
                // Unless another request replaced the sidecar meanwhile.
                if let Kind::File { content, .. } = &mut e.kind
                    && matches!(content, Content::Kept { file: f } if *f == file)
                {
                    *content = Content::Asset { asset: asset.0 };
                }
            })?;
            txn.commit()?;
            // The library holds the bytes now; the plain copy is no longer read.
            let _ = std::fs::remove_file(&kept);
            tracing::info!(user, sidecar = %at.join("/"), "an earlier sidecar joined its photo");
            joined += 1;
        }
        Ok(joined)
    }
}

#[cfg(test)]
mod tests {
    use super::sidecar_names;

    #[test]
    fn both_sidecar_spellings_are_looked_for() {
        assert_eq!(
            sidecar_names("IMG_1.JPG"),
            ["IMG_1.xmp", "IMG_1.XMP", "IMG_1.JPG.xmp", "IMG_1.JPG.XMP"]
        );
        assert_eq!(sidecar_names("notes"), ["notes.xmp", "notes.XMP"]);
        assert!(!sidecar_names("a.xmp").contains(&"a.xmp".to_owned()));
    }
}
