//! Resumable downloads of one file into the spool, streamed (never whole in memory).

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use tokio::io::AsyncWriteExt;

use super::super::error::{Error, Result};
use super::{MAX_INLINE_WAIT, Photos};

impl Photos<'_> {
    /// Downloads `res` into `part`, resuming from what is already there. Resets are resumed
    /// with `Range`; an expired link is [`Error::LinkExpired`] (the caller fetches the record
    /// again). Not fsynced: the store fsyncs what it keeps before the commit that points at
    /// it, and the sync drops spool files older than the last boot (see `sync::clean_spool`),
    /// so a power cut never resumes onto a torn file.
    pub async fn download(&self, url: &str, size: u64, part: &Path) -> Result<()> {
        let mut failures = 0;
        loop {
            let have = tokio::fs::metadata(part).await.map_or(0, |m| m.len());
            if have == size && size > 0 {
                break;
            }
            if have > size && size > 0 {
                tokio::fs::remove_file(part)
                    .await
                    .map_err(Error::io(part))?;
                continue;
            }
            match self.fetch(url, have, part).await {
                Ok(()) if size == 0 => break,
                Ok(()) => {}
                Err(e @ (Error::LinkExpired | Error::Throttled { .. } | Error::BadUrl(_))) => {
                    return Err(e);
                }
                Err(e) => {
                    failures += 1;
                    if failures >= 5 {
                        return Err(e);
                    }
                    tracing::info!(error = %e, "download interrupted; resuming");
                    tokio::time::sleep(Duration::from_millis(200 * failures)).await;
                }
            }
        }
        Ok(())
    }

    async fn fetch(&self, url: &str, from: u64, part: &Path) -> Result<()> {
        let mut req = self.client.http.request(Method::GET, url)?;
        if from > 0 {
            req = req.header("Range", format!("bytes={from}-"));
        }
        let resp = self.client.http.send(req).await?;
        let status = resp.status().as_u16();
        let append = match status {
            206 => true,
            200 => false,
            403 | 404 | 410 => return Err(Error::LinkExpired),
            416 => {
                tokio::fs::remove_file(part)
                    .await
                    .map_err(Error::io(part))?;
                return Err(Error::Protocol("range not satisfiable; restarting".into()));
            }
            503 | 429 => {
                let wait = resp
                    .headers()
                    .get("Retry-After")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i64>().ok());
                if let Some(w) = wait.filter(|w| *w <= MAX_INLINE_WAIT) {
                    tokio::time::sleep(Duration::from_secs(w.unsigned_abs())).await;
                    return Err(Error::Protocol("download throttled; retrying".into()));
                }
                return Err(Error::Throttled {
                    until: chrono::Utc::now().timestamp() + wait.unwrap_or(3600),
                });
            }
            s => return Err(Error::Protocol(format!("download answered {s}"))),
        };
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(part)
            .await
            .map_err(Error::io(part))?;
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(Error::network)?;
            file.write_all(&chunk).await.map_err(Error::io(part))?;
        }
        file.flush().await.map_err(Error::io(part))?;
        Ok(())
    }
}
