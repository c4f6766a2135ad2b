//! One backup run: upload the chunks the remote lacks in packs, then an index object naming
//! those packs, then a snapshot of the catalog. Write order packs → index → snapshot means a
//! snapshot never names a chunk that is not durably on the remote; an interrupted run leaves
//! packs that the next run adopts (reads their tables of contents) instead of re-uploading.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use fastcdc::v2020::{Normalization, StreamCDC};
use redb::ReadableDatabase;

use super::error::{Error, Result};
use super::format::{self, Entry, SnapshotBody, StreamRecord};
use super::index::RemoteIndex;
use super::pack::{FinishedPack, PACK_TARGET, PackBuilder};
use super::remote::Kind;
use super::repo::Repo;
use super::snapshot;
use crate::jobs::Progress;
use crate::library::Library;
use crate::store::ChunkId;

/// Catalog stream chunk sizes: small, so one changed asset costs one small upload.
const STREAM_MIN: usize = 64 * 1024;
const STREAM_AVG: usize = 256 * 1024;
const STREAM_MAX: usize = 1024 * 1024;

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Pack size.
    pub pack_target: usize,
    /// Packs uploading at once (each holds one pack in memory).
    pub parallel: usize,
    /// The box's name, recorded in the snapshot.
    pub host: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            pack_target: PACK_TARGET,
            parallel: 2,
            host: "shoebox".into(),
        }
    }
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// The snapshot written, or the unchanged one it matched.
    pub snapshot: String,
    /// True when nothing changed since the newest snapshot (nothing was written).
    pub unchanged: bool,
    /// Files in the snapshot.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Chunks uploaded in this run.
    pub new_chunks: u64,
    /// Packs uploaded in this run.
    pub packs: u64,
    /// Bytes of objects uploaded in this run.
    pub uploaded: u64,
    /// Packs of an interrupted run that were adopted instead of uploaded again.
    pub adopted: u64,
}

/// Runs one backup of `library` into `repo`.
pub fn run(
    repo: &Repo,
    library: &Library,
    options: &Options,
    progress: &Progress,
) -> Result<Report> {
    let index = RemoteIndex::load(repo)?;
    for (name, why) in &index.unreadable {
        tracing::warn!("pack {name} is unreadable ({why}); its chunks are uploaded again");
    }
    let mut report = Report {
        adopted: index.adopted.len() as u64,
        ..Report::default()
    };
    let spool = library.data_dir().join("spool");
    fs::create_dir_all(&spool).map_err(Error::io(&spool))?;
    let stream_path = spool.join(format!("backup-catalog-{}.tmp", std::process::id()));
    let result = run_with(
        repo,
        library,
        options,
        progress,
        &index,
        &stream_path,
        &mut report,
    );
    let _ = fs::remove_file(&stream_path);
    result.map(|()| report)
}

fn run_with(
    repo: &Repo,
    library: &Library,
    options: &Options,
    progress: &Progress,
    index: &RemoteIndex,
    stream_path: &PathBuf,
    report: &mut Report,
) -> Result<()> {
    let counts = library.counts()?;
    progress.add_total(0, counts.bytes);
    let txn = library.store().db().begin_read()?;
    // A rendezvous: a full pack waits in the packer until a worker takes it, so at most
    // `parallel` + 1 packs are in memory.
    let (sender, receiver) = sync_channel::<FinishedPack>(0);
    let receiver = Mutex::new(receiver);
    // Uploaded packs' buffers go back to the packer.
    let (free_tx, free) = channel::<Vec<u8>>();
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let uploaded: Mutex<Vec<(String, Vec<Entry>, u64)>> = Mutex::new(Vec::new());
    // A full pack is at most one chunk over the target, plus its table of contents.
    let capacity = options.pack_target + crate::store::MAX_SIZE + 64 * 1024;
    let stream = std::thread::scope(|s| -> Result<Vec<([u8; 32], u32)>> {
        for _ in 0..options.parallel.max(1) {
            let free_tx = free_tx.clone();
            let (receiver, failure, uploaded) = (&receiver, &failure, &uploaded);
            s.spawn(move || upload_worker(repo, receiver, failure, uploaded, &free_tx));
        }
        let mut packer = Packer {
            repo,
            index,
            pending: HashSet::new(),
            builder: PackBuilder::reusing(Vec::new(), capacity),
            sender: Some(sender),
            target: options.pack_target,
            capacity,
            free,
            failure: &failure,
            new_chunks: 0,
        };
        let produced = produce(library, &txn, &mut packer, stream_path, progress, report);
        let flushed = produced.and_then(|stream| packer.flush().map(|()| stream));
        report.new_chunks = packer.new_chunks;
        drop(packer.sender.take());
        flushed
    });
    if let Some(e) = failure.lock().map_err(|_| Error::UploadStopped)?.take() {
        return Err(e);
    }
    let stream = stream?;
    let mut new_packs: Vec<(String, Vec<Entry>)> = index.adopted.clone();
    for (name, entries, size) in uploaded.into_inner().unwrap_or_default() {
        report.packs += 1;
        report.uploaded += size;
        new_packs.push((name, entries));
    }
    if !new_packs.is_empty() {
        let plain = format::encode_index(&new_packs).map_err(|e| Error::corrupt("index", e))?;
        repo.put_sealed(Kind::Index, &plain)?;
    }
    // A stopped run skipped files: its packs and index stay (the next run adopts them), but
    // a snapshot now would miss photos.
    if progress.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let stream_len = stream.iter().map(|(_, l)| u64::from(*l)).sum();
    let newest = match snapshot::find(repo, None) {
        Ok(s) => Some(s),
        Err(Error::NoSnapshot) => None,
        Err(e) => return Err(e),
    };
    if let Some(newest) = newest.as_ref().filter(|n| n.body.stream == stream) {
        report.unchanged = true;
        report.snapshot.clone_from(&newest.name);
        return Ok(());
    }
    let body = SnapshotBody {
        time: snapshot::next_time(chrono::Utc::now().timestamp(), newest.as_ref()),
        host: options.host.clone(),
        files: report.files,
        bytes: report.bytes,
        assets: counts.assets,
        stream_len,
        stream,
    };
    report.snapshot = repo.put_sealed(Kind::Snapshot, &format::encode_snapshot(&body))?;
    Ok(())
}

/// Walks the store and the catalog: missing chunks go to the packer, and the catalog
/// stream is written to `stream_path`, then chunked and packed too. Returns its chunks.
fn produce(
    library: &Library,
    txn: &redb::ReadTransaction,
    packer: &mut Packer<'_, '_>,
    stream_path: &PathBuf,
    progress: &Progress,
    report: &mut Report,
) -> Result<Vec<([u8; 32], u32)>> {
    let file = File::create(stream_path).map_err(Error::io(stream_path))?;
    let mut out = BufWriter::new(file);
    let mut record = Vec::new();
    let write = |out: &mut BufWriter<File>, record: &mut Vec<u8>, r: &StreamRecord| {
        record.clear();
        format::write_record(r, record);
        out.write_all(record)
    };
    out.write_all(&format::stream_header())
        .map_err(Error::io(stream_path))?;
    let store = library.store();
    let mut reader = store.chunk_reader();
    let mut failed: Option<Error> = None;
    store
        .for_each_blob(txn, |blob| {
            if blob.refs == 0 || progress.is_cancelled() {
                return Ok(());
            }
            for chunk in &blob.chunks {
                if let Err(e) = packer.add_local(&mut reader, txn, *chunk) {
                    failed = Some(e);
                    return Err(crate::store::Error::ChunkMissing { id: *chunk });
                }
            }
            report.files += 1;
            report.bytes += blob.size;
            progress.advance(1, blob.size);
            let r = StreamRecord::File {
                blob: blob.id.0,
                size: blob.size,
                refs: blob.refs,
                chunks: blob.chunks.iter().map(|c| c.0).collect(),
            };
            write(&mut out, &mut record, &r).map_err(crate::store::Error::SourceRead)
        })
        .map_err(|e| failed.take().unwrap_or(Error::Store(e)))?;
    let mut io_failure = None;
    library
        .dump_catalog(txn, |row| {
            let r = StreamRecord::Row {
                table: row.table,
                key: row.key,
                value: row.value,
            };
            write(&mut out, &mut record, &r).map_err(|e| {
                io_failure = Some(e);
                crate::library::Error::BadValue {
                    table: "catalog dump",
                    what: "write failed".into(),
                }
            })
        })
        .map_err(|e| match io_failure.take() {
            Some(io) => Error::io(stream_path)(io),
            None => Error::Library(e),
        })?;
    out.write_all(&[0]).map_err(Error::io(stream_path))?;
    out.flush().map_err(Error::io(stream_path))?;
    drop(out);
    packer.add_stream(stream_path)
}

/// Fills packs and hands full ones to the upload workers.
struct Packer<'r, 'i> {
    repo: &'r Repo,
    index: &'i RemoteIndex,
    pending: HashSet<[u8; 32]>,
    builder: PackBuilder,
    sender: Option<SyncSender<FinishedPack>>,
    target: usize,
    /// Room reserved in each pack buffer.
    capacity: usize,
    /// Buffers of uploaded packs, to fill again.
    free: Receiver<Vec<u8>>,
    failure: &'r Mutex<Option<Error>>,
    new_chunks: u64,
}

impl Packer<'_, '_> {
    fn add_local(
        &mut self,
        reader: &mut crate::store::ChunkReader,
        txn: &redb::ReadTransaction,
        id: ChunkId,
    ) -> Result<()> {
        let rid = self.repo.keys().remote_id(&id.0);
        if self.index.contains(&rid) || self.pending.contains(&rid) {
            return Ok(());
        }
        let stored = reader.read(txn, id)?;
        self.add(rid, stored.zstd, stored.raw_len, &stored.bytes)
    }

    fn add_stream(&mut self, path: &PathBuf) -> Result<Vec<([u8; 32], u32)>> {
        let file = File::open(path).map_err(Error::io(path))?;
        let seed = u64::from_le_bytes(
            self.repo
                .keys()
                .chunker
                .get(..8)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0; 8]),
        );
        let cdc = StreamCDC::with_level_and_seed(
            BufReader::new(file),
            STREAM_MIN,
            STREAM_AVG,
            STREAM_MAX,
            Normalization::Level1,
            seed,
        );
        let mut out = Vec::new();
        for chunk in cdc {
            let chunk = chunk.map_err(|e| Error::io(path)(std::io::Error::other(e.to_string())))?;
            let id = *blake3::hash(&chunk.data).as_bytes();
            let len = u32::try_from(chunk.data.len()).unwrap_or(u32::MAX);
            out.push((id, len));
            let rid = self.repo.keys().remote_id(&id);
            if self.index.contains(&rid) || self.pending.contains(&rid) {
                continue;
            }
            let compressed = zstd::bulk::compress(&chunk.data, 3)
                .ok()
                .filter(|c| c.len() * 10 < chunk.data.len() * 9);
            match compressed {
                Some(c) => self.add(rid, true, len, &c)?,
                None => self.add(rid, false, len, &chunk.data)?,
            }
        }
        Ok(out)
    }

    fn add(&mut self, rid: [u8; 32], zstd: bool, raw_len: u32, stored: &[u8]) -> Result<()> {
        self.builder
            .add(self.repo.keys(), rid, zstd, raw_len, stored)?;
        // Known from now on, so a chunk shared by two files goes up once.
        self.pending.insert(rid);
        self.new_chunks += 1;
        if self.builder.len() >= self.target {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.builder.is_empty() {
            return Ok(());
        }
        let buffer = self.free.try_recv().unwrap_or_default();
        let next = PackBuilder::reusing(buffer, self.capacity);
        let pack = std::mem::replace(&mut self.builder, next).finish(self.repo.keys())?;
        let sent = self.sender.as_ref().is_some_and(|s| s.send(pack).is_ok());
        let failed = self.failure.lock().ok().and_then(|mut f| f.take());
        match (failed, sent) {
            (Some(e), _) => Err(e),
            (None, true) => Ok(()),
            (None, false) => Err(Error::UploadStopped),
        }
    }
}

fn upload_worker(
    repo: &Repo,
    receiver: &Mutex<Receiver<FinishedPack>>,
    failure: &Mutex<Option<Error>>,
    uploaded: &Mutex<Vec<(String, Vec<Entry>, u64)>>,
    free: &Sender<Vec<u8>>,
) {
    loop {
        let next = receiver.lock().ok().and_then(|r| r.recv().ok());
        let Some(pack) = next else {
            return;
        };
        if failure.lock().is_ok_and(|f| f.is_some()) {
            continue;
        }
        let size = pack.bytes.len() as u64;
        let bytes = bytes::Bytes::from(pack.bytes);
        let put = repo.remote().put(Kind::Pack, &pack.name, bytes.clone());
        // The remote has let go of its copies once put returns; then the buffer is ours.
        if let Ok(buffer) = bytes.try_into_mut() {
            let _ = free.send(buffer.into());
        }
        match put {
            Ok(()) => {
                if let Ok(mut u) = uploaded.lock() {
                    u.push((pack.name, pack.entries, size));
                }
            }
            Err(e) => {
                if let Ok(mut f) = failure.lock() {
                    f.get_or_insert(Error::Remote(e));
                }
            }
        }
    }
}
