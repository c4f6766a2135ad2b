//! Downloads of a page into the spool, a few at a time; an expired or missing link is looked
//! up again once. Each file streams to its spool file (never whole in memory) and resumes
//! with `Range` after a kill.

use std::path::Path;

use futures_util::StreamExt;

use super::super::api::{Item, Photos, Zone};
use super::super::error::Error;
use super::plan::Fetch;
use crate::jobs::Progress;
use crate::library::Role;

/// Runs `fetches` with `parallel` at once; returns the bytes downloaded.
pub(super) async fn download_all(
    photos: &Photos<'_>,
    zone: &Zone,
    items: &[Item],
    fetches: &mut [Fetch],
    parallel: usize,
    progress: &Progress,
) -> u64 {
    let mut bytes = 0;
    for attempt in 0..2 {
        let todo: Vec<usize> = (0..fetches.len())
            .filter(|&i| !fetches[i].done && fetches[i].url.is_some())
            .collect();
        let results: Vec<(usize, super::super::error::Result<()>)> =
            futures_util::stream::iter(todo)
                .map(|i| {
                    let f = &fetches[i];
                    let url = f.url.clone().unwrap_or_default();
                    let (size, part) = (f.size, f.part.clone());
                    async move { (i, photos.download(&url, size, &part).await) }
                })
                .buffer_unordered(parallel)
                .collect()
                .await;
        for (i, r) in results {
            match r {
                Ok(()) => {
                    fetches[i].done = true;
                    bytes += fetches[i].size;
                    progress.advance(1, fetches[i].size);
                }
                Err(e) => fetches[i].error = Some(e),
            }
        }
        let stale: Vec<usize> = fetches
            .iter()
            .filter(|f| !f.done && (f.url.is_none() || matches!(f.error, Some(Error::LinkExpired))))
            .map(|f| f.item)
            .collect();
        if attempt == 1 || stale.is_empty() {
            break;
        }
        let names: Vec<String> = stale
            .iter()
            .flat_map(|&i| [items[i].asset.clone(), items[i].master.clone()])
            .collect();
        let Ok(fresh) = photos.lookup(zone, &names).await else {
            break;
        };
        for f in fetches.iter_mut().filter(|f| !f.done) {
            let it = &items[f.item];
            let (Some(asset), Some(master)) = (fresh.get(&it.asset), fresh.get(&it.master)) else {
                continue;
            };
            let again = Item::join(asset, master);
            let res = match f.role {
                None => again.original,
                Some(Role::LiveVideo) => again.live,
                Some(Role::Raw) => again.raw,
                Some(Role::Edited) => again.edited,
            };
            if let Some(res) = res.filter(|r| r.url.is_some()) {
                f.url = res.url;
                f.size = res.size;
                f.error = None;
            }
        }
    }
    bytes
}

/// Removes spool files written before the last boot: after a power cut their tails may be
/// torn, so they are fetched again; after a kill they are resumed with `Range`.
pub(super) fn clean_spool(spool: &Path) {
    let Some(boot) = boot_time() else { return };
    let Ok(entries) = std::fs::read_dir(spool) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .is_some_and(|t| t < boot);
        if old {
            std::fs::remove_file(e.path()).ok();
        }
    }
}

/// When this machine booted (Linux `/proc/stat`).
fn boot_time() -> Option<std::time::SystemTime> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let secs: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}
