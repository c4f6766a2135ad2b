//! Early writeback: files handed to a [`Syncer`] are fsynced on a thread of their own while
//! the caller goes on writing, so the fsync that makes a batch durable finds little left to
//! write. Linux holds writeback back until dirty pages reach a tenth of RAM (2 GiB on a big
//! machine); without this, a restore or an import first fills the page cache and then
//! stalls while the disk catches up, instead of keeping the disk busy all along.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

enum Msg {
    /// Fsync this (a duplicate of the caller's handle: same file, same dirty pages).
    Sync(File, PathBuf),
    /// Answer once every file sent before is synced, with the first failure since the last
    /// barrier.
    Barrier(Sender<Result<(), Failure>>),
}

/// A file that could not be made durable, and why.
pub type Failure = (PathBuf, io::Error);

/// A background fsync queue. Dropping it waits for the queue to empty.
#[derive(Default)]
pub struct Syncer {
    worker: Option<(Sender<Msg>, JoinHandle<()>)>,
}

impl Syncer {
    /// A syncer; its thread starts with the first file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `file` (at `path`, for messages) for an fsync. When it cannot be queued (no
    /// file descriptor or thread to spare) it is fsynced here and now.
    pub fn submit(&mut self, file: &File, path: &Path) -> io::Result<()> {
        let Ok(dup) = file.try_clone() else {
            return file.sync_all();
        };
        let dup = match self.sender() {
            Some(tx) => match tx.send(Msg::Sync(dup, path.to_path_buf())) {
                Ok(()) => return Ok(()),
                Err(std::sync::mpsc::SendError(Msg::Sync(dup, _))) => dup,
                Err(_) => return file.sync_all(),
            },
            None => dup,
        };
        self.worker = None;
        dup.sync_all()
    }

    /// Waits until every submitted file is on disk; the first fsync failure since the last
    /// call, if any. When the thread itself is gone, the caller's own fsyncs must do the
    /// work: that is reported as a failure too.
    pub fn drain(&mut self) -> Result<(), Failure> {
        let Some((tx, _)) = self.worker.as_ref() else {
            return Ok(());
        };
        let stopped = || {
            let e = io::Error::other("the background fsync thread stopped");
            (PathBuf::new(), e)
        };
        let (answer, answered) = channel();
        if tx.send(Msg::Barrier(answer)).is_err() {
            self.worker = None;
            return Err(stopped());
        }
        answered.recv().unwrap_or_else(|_| Err(stopped()))
    }

    fn sender(&mut self) -> Option<&Sender<Msg>> {
        if self.worker.is_none() {
            let (tx, rx) = channel();
            let handle = std::thread::Builder::new()
                .name("fsync".into())
                .spawn(move || run(&rx))
                .ok()?;
            self.worker = Some((tx, handle));
        }
        self.worker.as_ref().map(|(tx, _)| tx)
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        if let Some((tx, handle)) = self.worker.take() {
            drop(tx);
            let _ = handle.join();
        }
    }
}

fn run(rx: &Receiver<Msg>) {
    let mut failure: Option<Failure> = None;
    while let Ok(msg) = rx.recv() {
        match msg {
            // sync_all, not sync_data: a restored photo's modification time matters too.
            Msg::Sync(file, path) => {
                if let Err(e) = file.sync_all() {
                    failure.get_or_insert((path, e));
                }
            }
            Msg::Barrier(answer) => {
                let _ = answer.send(failure.take().map_or(Ok(()), Err));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn drain_returns_once_the_files_are_synced_and_reports_nothing_when_all_went_well() {
        let dir = tempfile::tempdir().unwrap();
        let mut syncer = Syncer::new();
        assert!(
            syncer.drain().is_ok(),
            "nothing submitted, nothing to wait for"
        );
        for i in 0..5 {
            let mut f = File::create(dir.path().join(format!("f{i}"))).unwrap();
            f.write_all(&[i; 4096]).unwrap();
            syncer
                .submit(&f, &dir.path().join(format!("f{i}")))
                .unwrap();
        }
        syncer.drain().unwrap();
        syncer.drain().unwrap();
        for i in 0..5u8 {
            let bytes = std::fs::read(dir.path().join(format!("f{i}"))).unwrap();
            assert_eq!(bytes, vec![i; 4096]);
        }
    }
}
