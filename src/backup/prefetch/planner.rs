//! The planner: walks the catalog stream and turns each file's chunks into pack reads,
//! holding a chunk back until the read that holds it is handed to the workers.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender};

use super::super::error::{Error, Result};
use super::super::fetch::{Chunks, Fetcher};
use super::super::format::{Entry, StreamReader, StreamRecord};
use super::super::index::RemoteIndex;
use super::super::remote::Kind;
use super::super::repo::Repo;
use super::super::snapshot::Snapshot;
use super::{Item, Job, Msg, Want};

/// A gap of unused bytes between two chunks that one read still spans (cheaper than a
/// second request).
const GAP: u64 = 256 * 1024;

/// The planner's channels: messages to the caller, reads to the workers, and the budget of
/// reads it may have out.
pub(super) struct Links {
    pub msgs: SyncSender<Msg>,
    pub jobs: SyncSender<Job>,
    pub budget: Receiver<()>,
}

/// The read being gathered.
struct OpenRead {
    pack: String,
    offset: u64,
    end: u64,
    chunks: Vec<(Entry, [u8; 32])>,
}

pub(super) struct Planner<'r> {
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

impl<'r> Planner<'r> {
    pub(super) fn new(
        repo: &'r Repo,
        index: &'r RemoteIndex,
        window: u64,
        want: Want<'r>,
        links: Links,
    ) -> Self {
        Self {
            repo,
            index,
            window: window.max(1),
            want,
            msgs: links.msgs,
            jobs: links.jobs,
            budget: links.budget,
            pending: VecDeque::new(),
            open: None,
            next_seq: 0,
        }
    }

    /// Plans every read of `snap`; a failure goes to the caller as a message.
    pub(super) fn run_or_tell(mut self, snap: &Snapshot) {
        if let Err(e) = self.run(snap) {
            let _ = self.msgs.send(Msg::Failed(e));
        }
    }

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
