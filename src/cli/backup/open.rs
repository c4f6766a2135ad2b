//! Opening the repository a command names: `--repo` with credentials from the environment
//! and the passphrase from `SHOEBOX_PASSPHRASE` or a prompt, or, without `--repo`, the
//! target this box keeps sealed in its catalog (set on the Backup page or by
//! `backup init --remember`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::backup::remote::{
    Credentials, Opendal, Remote, RemoteUrl, RetryPolicy, Retrying, Throttled,
};
use crate::backup::{self, Repo};
use crate::library::{Library, Options};

pub(super) fn open_remote(repo: Option<&str>) -> Result<Arc<dyn Remote>> {
    let Some(url) = repo else {
        bail!("no repository: pass --repo URL or set SHOEBOX_REPO");
    };
    let url = RemoteUrl::parse(url)?;
    let remote = Opendal::open(&url, &Credentials::from_env())?;
    Ok(Arc::new(Retrying::new(remote, RetryPolicy::default())))
}

/// A secret from `var` or, when it is unset, a prompt on the terminal.
pub(super) fn secret(var: &str, prompt: &str) -> Result<String> {
    if let Ok(v) = std::env::var(var) {
        return Ok(v);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{prompt}: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the passphrase")?;
    let line = line.trim_end_matches(['\n', '\r']).to_string();
    if line.is_empty() {
        bail!("no passphrase given (set {var} or type it)");
    }
    Ok(line)
}

pub(super) fn open_repo(data: &Path, repo: Option<&str>) -> Result<Repo> {
    open_repo_limited(data, repo, None)
}

/// [`open_repo`] with uploads limited to `upload_kib` KiB/s.
pub(super) fn open_repo_limited(
    data: &Path,
    repo: Option<&str>,
    upload_kib: Option<u32>,
) -> Result<Repo> {
    let limit = |remote: Arc<dyn Remote>| -> Arc<dyn Remote> {
        match upload_kib {
            None => remote,
            Some(k) => Arc::new(Throttled::new(remote, Some(u64::from(k) * 1024), None)),
        }
    };
    if repo.is_none()
        && let Some(target) = stored_target(data)?
    {
        let (_, remote) = backup::connect(&target, RetryPolicy::default())?;
        return Ok(Repo::open(limit(remote), &target.passphrase)?);
    }
    let remote = open_remote(repo)?;
    let pass = secret("SHOEBOX_PASSPHRASE", "Passphrase or recovery key")?;
    Ok(Repo::open(limit(remote), &pass)?)
}

/// The target stored in the library at `data`, when there is a library with one.
pub(super) fn stored_target(data: &Path) -> Result<Option<backup::Target>> {
    if !data.join("catalog.redb").exists() {
        return Ok(None);
    }
    let lib = Library::open(data, Options::default())
        .with_context(|| format!("opening the library in {}", data.display()))?;
    let store = backup::TargetStore::open(lib.database(), data)?;
    Ok(store.target()?)
}
