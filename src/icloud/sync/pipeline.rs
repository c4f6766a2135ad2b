//! The page pipeline: while one page's files are ingested on the ingest thread (chunking,
//! hashing, fsync, one redb commit), the next page's files download. So at most two pages of
//! files sit in the spool, on disk, never in memory. A page's checkpoint (the listing rank
//! or the feed token after it) is saved only once its ingest has committed: a kill -9 redoes
//! at most the pages in flight, and their spool files resume with `Range`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};

use super::super::api::Zone;
use super::super::error::{Error, Result};
use super::origin;
use super::plan::{Plan, role_name};
use crate::library::{Incoming, Ingested, Library, Role};

/// Where the walk stands once a page is in.
pub(super) enum Mark {
    /// A full listing: view index and rank after the page.
    Cursor(u8, u64),
    /// The change feed: the token after the page.
    Token(Option<String>),
}

/// What one page's ingest did.
#[derive(Default)]
pub(super) struct Tally {
    pub new: u64,
    pub duplicates: u64,
    /// Originals now held (new or found here already).
    pub downloaded: u64,
    pub edits: u64,
    pub extras: u64,
    pub failed: Vec<String>,
}

/// What a page's checkpoint needs once its ingest is in.
pub(super) struct Page {
    pub zone: Zone,
    /// Seen by a full listing (rather than the change feed).
    pub listed: bool,
    pub mark: Mark,
}

/// A page being ingested.
pub(super) struct InFlight {
    pub page: Page,
    /// Its spool files, which the next page must not plan again.
    pub parts: HashSet<PathBuf>,
    task: tokio::sync::oneshot::Receiver<(Plan, Result<Tally>)>,
}

impl InFlight {
    /// Waits for the ingest; gives back the page, its plan and what it did.
    pub async fn finish(self) -> Result<(Page, Plan, Tally)> {
        let (plan, tally) = self
            .task
            .await
            .map_err(|_| Error::Store("the ingest thread stopped".into()))?;
        Ok((self.page, plan, tally?))
    }
}

/// The one thread that ingests for a whole sync. glibc gives each thread a malloc arena of
/// its own, and ingests spread over tokio's blocking pool kept one high-water mark per pool
/// thread (peak RSS 128 MiB at 3,000 assets, against 39 MiB on one thread).
pub(super) struct Ingester {
    jobs: mpsc::Sender<Work>,
}

struct Work {
    lib: Arc<Library>,
    zone: Zone,
    plan: Plan,
    done: tokio::sync::oneshot::Sender<(Plan, Result<Tally>)>,
}

impl Ingester {
    /// Starts the thread; it ends when the ingester is dropped.
    pub fn start() -> Result<Self> {
        let (jobs, todo) = mpsc::channel::<Work>();
        std::thread::Builder::new()
            .name("icloud-ingest".into())
            .spawn(move || {
                for w in todo {
                    let tally = ingest(&w.lib, &w.zone, &w.plan);
                    if tally.is_ok() {
                        for f in &w.plan.fetches {
                            std::fs::remove_file(&f.part).ok();
                        }
                    }
                    w.done.send((w.plan, tally)).ok();
                }
            })
            .map_err(|e| Error::Store(format!("starting the ingest: {e}")))?;
        Ok(Self { jobs })
    }

    /// Starts ingesting a downloaded page.
    pub fn launch(
        &self,
        lib: Arc<Library>,
        zone: &Zone,
        plan: Plan,
        listed: bool,
        mark: Mark,
    ) -> Result<InFlight> {
        let parts = plan.fetches.iter().map(|f| f.part.clone()).collect();
        let (done, task) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Work {
                lib,
                zone: zone.clone(),
                plan,
                done,
            })
            .map_err(|_| Error::Store("the ingest thread stopped".into()))?;
        Ok(InFlight {
            page: Page {
                zone: zone.clone(),
                listed,
                mark,
            },
            parts,
            task,
        })
    }
}

/// Ingests the downloaded files of a page in one batch: originals first, so the extras find
/// their asset.
fn ingest(lib: &Library, zone: &Zone, plan: &Plan) -> Result<Tally> {
    let mut t = Tally {
        failed: plan.failed.clone(),
        ..Tally::default()
    };
    if plan.fetches.is_empty() {
        return Ok(t);
    }
    let mut owners = plan.owners.clone();
    let mut batch = lib.begin()?;
    let mut order: Vec<_> = plan.fetches.iter().collect();
    order.sort_by_key(|f| (f.item, f.role.is_some()));
    for f in order {
        let item = &plan.items[f.item];
        if !f.done {
            let why = f
                .error
                .as_ref()
                .map_or_else(|| "no download link".to_string(), ToString::to_string);
            t.failed.push(format!("{}: {why}", f.name));
            continue;
        }
        match f.role {
            None => {
                let incoming = Incoming {
                    file: &f.part,
                    origin: origin(zone, &item.asset),
                    name: f.name.clone(),
                    stamp: Some(f.stamp),
                    file_time: item.taken,
                };
                match batch.ingest(&incoming)? {
                    Ingested::New(id) => {
                        t.new += 1;
                        t.downloaded += 1;
                        owners[f.item] = Some(id);
                    }
                    Ingested::Duplicate(id) | Ingested::Unchanged(id) | Ingested::Paired(id) => {
                        t.duplicates += 1;
                        t.downloaded += 1;
                        owners[f.item] = Some(id);
                    }
                    Ingested::Skipped(why) => t.failed.push(format!("{}: {why}", f.name)),
                }
            }
            Some(role) => {
                let Some(owner) = owners[f.item] else {
                    continue;
                };
                let incoming = Incoming {
                    file: &f.part,
                    origin: origin(zone, &format!("{}/{}", item.asset, role_name(role))),
                    name: f.name.clone(),
                    stamp: Some(f.stamp),
                    file_time: None,
                };
                if matches!(batch.attach(owner, role, &incoming)?, Ingested::Paired(_)) {
                    if role == Role::Edited {
                        t.edits += 1;
                    } else {
                        t.extras += 1;
                    }
                }
            }
        }
    }
    batch.commit()?;
    Ok(t)
}
