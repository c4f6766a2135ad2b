//! Reading a snapshot's files fast: a planner walks the catalog stream and turns the chunks
//! of the files it names into range reads of their packs (neighbouring chunks share one
//! read of up to [`Options::window`] bytes); a few workers fetch and open those reads at
//! once; the caller gets files and their chunks in stream order. Memory stays bounded: at
//! most [`Options::reads_held`] reads are fetched and not yet handed out.
//!
//! Threads: the planner, `parallel` workers and the caller. The planner holds back a
//! chunk until the read that holds it is handed to the workers, and every read taken from
//! the budget is released by the caller once it passed the read's last chunk, so no thread
//! can wait on one that waits on it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

use super::error::{Error, Result};
use super::format::Entry;
use super::index::RemoteIndex;
use super::pack::{self, Opened};
use super::remote::{ErrorKind, Kind};
use super::repo::Repo;
use super::snapshot::Snapshot;

mod planner;

use planner::{Links, Planner};

/// How reads are made.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Reads fetched at once.
    pub parallel: usize,
    /// Most bytes one read asks for (a chunk larger than this is read alone).
    pub window: u64,
    /// Reads fetched but not yet handed out, at most (each holds up to `window` bytes).
    pub reads_held: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            parallel: 4,
            window: super::fetch::WINDOW,
            reads_held: 6,
        }
    }
}

/// What the catalog stream names next.
pub enum Item {
    /// A file: its chunks follow through [`Files::chunk`], `chunks` of them.
    File {
        /// blake3 of the whole file.
        blob: [u8; 32],
        /// Its size.
        size: u64,
        /// Library references to it.
        refs: u32,
        /// How many chunks it has.
        chunks: usize,
    },
    /// A catalog row (after every file).
    Row {
        /// Which table.
        table: u8,
        /// Key bytes.
        key: Vec<u8>,
        /// Value bytes.
        value: Vec<u8>,
    },
}

/// A chunk's place: the read that holds it, its slot there, and whether it is the read's
/// last chunk (the read is released after it).
pub(super) enum Msg {
    Item(Item),
    Chunk { read: u64, slot: usize, last: bool },
    Failed(Error),
}

pub(super) struct Job {
    seq: u64,
    pack: String,
    offset: u64,
    len: u64,
    chunks: Vec<(Entry, [u8; 32])>,
}

/// A chunk opened, with its plaintext id.
pub type Chunk = ([u8; 32], Opened);

type Done = (u64, Result<Vec<Option<Chunk>>>);

/// The caller's side: files and chunks in stream order.
pub struct Files {
    msgs: Receiver<Msg>,
    done: Receiver<Done>,
    /// Reads fetched, by sequence: a failed one fails only when its chunks are wanted, so
    /// the files before it are handed out (and a restore commits them) first.
    ready: HashMap<u64, Result<Vec<Option<Chunk>>>>,
    budget: SyncSender<()>,
}

impl Files {
    /// The next file or row; `None` at the end of the stream.
    pub fn next(&mut self) -> Result<Option<Item>> {
        match self.msgs.recv() {
            Ok(Msg::Item(item)) => Ok(Some(item)),
            Ok(Msg::Failed(e)) => Err(e),
            Ok(Msg::Chunk { .. }) => Err(Error::corrupt(
                "catalog stream",
                "a chunk was handed out outside a file",
            )),
            Err(_) => Ok(None),
        }
    }

    /// The next chunk of the current file, opened and checked against its id.
    pub fn chunk(&mut self) -> Result<Chunk> {
        let (read, slot, last) = match self.msgs.recv() {
            Ok(Msg::Chunk { read, slot, last }) => (read, slot, last),
            Ok(Msg::Failed(e)) => return Err(e),
            Ok(Msg::Item(_)) | Err(_) => {
                return Err(Error::corrupt(
                    "catalog stream",
                    "a file ended before its chunks",
                ));
            }
        };
        while !self.ready.contains_key(&read) {
            let (seq, result) = self.done.recv().map_err(|_| Error::UploadStopped)?;
            self.ready.insert(seq, result);
        }
        if self.ready.get(&read).is_some_and(Result::is_err)
            && let Some(Err(e)) = self.ready.remove(&read)
        {
            return Err(e);
        }
        let taken = self
            .ready
            .get_mut(&read)
            .and_then(|r| r.as_mut().ok())
            .and_then(|slots| slots.get_mut(slot))
            .and_then(Option::take);
        if last {
            self.ready.remove(&read);
            // Never blocks: the budget has room for every read taken from it.
            let _ = self.budget.send(());
        }
        taken.ok_or_else(|| Error::corrupt("catalog stream", "a chunk was handed out twice"))
    }
}

/// Which files to read, by id (the rest are skipped, not fetched).
pub type Want<'w> = &'w (dyn Fn(&[u8; 32]) -> bool + Sync);

/// Runs `body` over the files and rows of `snap`, fetching ahead while it works.
pub fn read<T>(
    repo: &Repo,
    index: &RemoteIndex,
    snap: &Snapshot,
    options: &Options,
    body: impl FnOnce(&mut Files) -> Result<T>,
) -> Result<T> {
    read_some(repo, index, snap, options, &|_| true, body)
}

/// [`read`], handing out only the files `want` names (and every row).
pub fn read_some<T>(
    repo: &Repo,
    index: &RemoteIndex,
    snap: &Snapshot,
    options: &Options,
    want: Want<'_>,
    body: impl FnOnce(&mut Files) -> Result<T>,
) -> Result<T> {
    let held = options.reads_held.max(options.parallel).max(1);
    let (budget, budget_rx) = sync_channel::<()>(held);
    for _ in 0..held {
        let _ = budget.send(());
    }
    let (msgs_tx, msgs) = sync_channel::<Msg>(4096);
    let (jobs_tx, jobs) = sync_channel::<Job>(held);
    let (done_tx, done) = channel::<Done>();
    let jobs = Mutex::new(jobs);
    std::thread::scope(|s| {
        for _ in 0..options.parallel.max(1) {
            let done_tx = done_tx.clone();
            let jobs = &jobs;
            s.spawn(move || work(repo, jobs, &done_tx));
        }
        drop(done_tx);
        s.spawn(move || {
            let links = Links {
                msgs: msgs_tx,
                jobs: jobs_tx,
                budget: budget_rx,
            };
            Planner::new(repo, index, options.window, want, links).run_or_tell(snap);
        });
        let mut files = Files {
            msgs,
            done,
            ready: HashMap::new(),
            budget,
        };
        body(&mut files)
        // `files` is dropped here: the planner and workers see their channels close and end.
    })
}

fn work(repo: &Repo, jobs: &Mutex<Receiver<Job>>, done: &std::sync::mpsc::Sender<Done>) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let result = fetch(repo, &job);
        if done.send((job.seq, result)).is_err() {
            return;
        }
    }
}

fn fetch(repo: &Repo, job: &Job) -> Result<Vec<Option<Chunk>>> {
    let object = Kind::Pack.path(&job.pack);
    let bytes = match repo
        .remote()
        .get_range(Kind::Pack, &job.pack, job.offset, job.len)
    {
        Ok(b) => b,
        Err(e) if e.kind == ErrorKind::NotFound => return Err(Error::corrupt(object, "missing")),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::with_capacity(job.chunks.len());
    for (entry, plain_id) in &job.chunks {
        let from = usize::try_from(entry.offset - job.offset).unwrap_or(usize::MAX);
        let sealed = from
            .checked_add(entry.sealed_len as usize)
            .and_then(|to| bytes.get(from..to))
            .ok_or_else(|| {
                Error::corrupt(
                    &object,
                    format!(
                        "chunk at offset {} is cut short (pack truncated?)",
                        entry.offset
                    ),
                )
            })?;
        let opened = pack::open(repo.keys(), &job.pack, entry, sealed, Some(plain_id))?;
        out.push(Some((*plain_id, opened)));
    }
    Ok(out)
}
