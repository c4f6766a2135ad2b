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

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

use super::error::{Error, Result};
use super::fetch::{Chunks, Fetcher};
use super::format::{Entry, StreamReader, StreamRecord};
use super::index::RemoteIndex;
use super::pack::{self, Opened};
use super::remote::{ErrorKind, Kind};
use super::repo::Repo;
use super::snapshot::Snapshot;

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

/// A gap of unused bytes between two chunks that one read still spans (cheaper than a
/// second request).
const GAP: u64 = 256 * 1024;

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
enum Msg {
    Item(Item),
    Chunk { read: u64, slot: usize, last: bool },
    Failed(Error),
}

struct Job {
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
            let mut planner = Planner {
                repo,
                index,
                window: options.window.max(1),
                want,
                msgs: msgs_tx,
                jobs: jobs_tx,
                budget: budget_rx,
                pending: VecDeque::new(),
                open: None,
                next_seq: 0,
            };
            if let Err(e) = planner.run(snap) {
                let _ = planner.msgs.send(Msg::Failed(e));
            }
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

/// The read being gathered.
struct OpenRead {
    pack: String,
    offset: u64,
    end: u64,
    chunks: Vec<(Entry, [u8; 32])>,
}

struct Planner<'r> {
    repo: &'r Repo,
    index: &'r RemoteIndex,
    window: u64,
    want: Want<'r>,
    msgs: SyncSender<Msg>,
    jobs: SyncSender<Job>,
    budget: Receiver<()>,
    /// Messages held back: every chunk here is in the open read.
    pending: VecDeque<Msg>,
    open: Option<OpenRead>,
    next_seq: u64,
}

/// The planner stops quietly when the caller has gone.
struct Gone;

impl From<Gone> for Error {
    fn from(_: Gone) -> Self {
        Error::UploadStopped
    }
}

impl Planner<'_> {
    fn run(&mut self, snap: &Snapshot) -> Result<()> {
        let object = Kind::Snapshot.path(&snap.name);
        let ids = snap.body.stream.iter().map(|(id, _)| *id).collect();
        let fetcher = Fetcher::new(self.repo, self.index);
        let mut stream = Chunks::new(&fetcher, ids);
        let failed = |failure: Option<Error>, e: std::io::Error| {
            failure.unwrap_or_else(|| Error::corrupt(&object, format!("catalog stream: {e}")))
        };
        let mut reader = match StreamReader::new(&mut stream) {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(Error::corrupt(&object, e)),
            Err(e) => return Err(failed(stream.failure.take(), e)),
        };
        loop {
            let record = match reader.next_record() {
                Ok(r) => r,
                Err(e) => return Err(failed(stream.failure.take(), e)),
            };
            let step = match record {
                Some(StreamRecord::File { blob, .. }) if !(self.want)(&blob) => Ok(()),
                Some(StreamRecord::File {
                    blob,
                    size,
                    refs,
                    chunks,
                }) => self.file(blob, size, refs, &chunks),
                Some(StreamRecord::Row { table, key, value }) => self
                    .dispatch()
                    .and_then(|()| self.send(Msg::Item(Item::Row { table, key, value }))),
                None => return self.dispatch().map_err(Error::from),
            };
            if step.is_err() {
                return Ok(());
            }
        }
    }

    fn file(
        &mut self,
        blob: [u8; 32],
        size: u64,
        refs: u32,
        chunks: &[[u8; 32]],
    ) -> std::result::Result<(), Gone> {
        self.hold(Msg::Item(Item::File {
            blob,
            size,
            refs,
            chunks: chunks.len(),
        }))?;
        for plain_id in chunks {
            let rid = self.repo.keys().remote_id(plain_id);
            let Some((pack, entry)) = self.index.locate(&rid) else {
                self.dispatch()?;
                let lost = Error::ChunkLost {
                    chunk: blake3::Hash::from_bytes(rid).to_hex().to_string(),
                };
                self.send(Msg::Failed(lost))?;
                return Err(Gone);
            };
            let entry = *entry;
            let end = entry.offset.saturating_add(u64::from(entry.sealed_len));
            let fits = self.open.as_ref().is_some_and(|r| {
                r.pack == pack
                    && entry.offset >= r.offset
                    && entry.offset <= r.end.saturating_add(GAP)
                    && end.saturating_sub(r.offset) <= self.window
            });
            if !fits {
                self.dispatch()?;
                self.open = Some(OpenRead {
                    pack: pack.to_string(),
                    offset: entry.offset,
                    end,
                    chunks: Vec::new(),
                });
            }
            let Some(read) = self.open.as_mut() else {
                return Err(Gone);
            };
            read.end = read.end.max(end);
            let slot = read.chunks.len();
            read.chunks.push((entry, *plain_id));
            let seq = self.next_seq;
            self.pending.push_back(Msg::Chunk {
                read: seq,
                slot,
                last: false,
            });
        }
        Ok(())
    }

    /// Queues `msg` behind the held-back chunks, or sends it when none are held.
    fn hold(&mut self, msg: Msg) -> std::result::Result<(), Gone> {
        if self.open.is_none() {
            return self.send(msg);
        }
        self.pending.push_back(msg);
        Ok(())
    }

    fn send(&self, msg: Msg) -> std::result::Result<(), Gone> {
        self.msgs.send(msg).map_err(|_| Gone)
    }

    /// Hands the open read to the workers (waiting for room in the budget), then sends
    /// everything held back.
    fn dispatch(&mut self) -> std::result::Result<(), Gone> {
        let Some(read) = self.open.take() else {
            return Ok(());
        };
        self.budget.recv().map_err(|_| Gone)?;
        if let Some(Msg::Chunk { last, .. }) = self
            .pending
            .iter_mut()
            .rev()
            .find(|m| matches!(m, Msg::Chunk { .. }))
        {
            *last = true;
        }
        let job = Job {
            seq: self.next_seq,
            pack: read.pack,
            offset: read.offset,
            len: read.end - read.offset,
            chunks: read.chunks,
        };
        self.next_seq += 1;
        self.jobs.send(job).map_err(|_| Gone)?;
        while let Some(msg) = self.pending.pop_front() {
            self.send(msg)?;
        }
        Ok(())
    }
}
