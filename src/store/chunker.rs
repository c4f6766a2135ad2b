//! Content-defined chunk boundaries: FastCDC (v2020) with a per-library seed, plus cuts at
//! caller-given offsets (where a photo's metadata ends and its pixels begin).
//!
//! Boundaries are part of the on-disk format: the same bytes must always cut the same way,
//! which is why `fastcdc` is pinned to an exact version and a test pins known boundaries.

use std::io::{ErrorKind, Read};

use fastcdc::v2020::{Normalization, cut_gear, get_gear_with_seed, select_masks};

/// Smallest chunk, except for a file's (or segment's) tail.
pub const MIN_SIZE: usize = 256 * 1024;
/// Average chunk the cut mask aims at.
pub const AVG_SIZE: usize = 1024 * 1024;
/// Largest chunk.
pub const MAX_SIZE: usize = 4 * 1024 * 1024;

/// Finds chunk boundaries in a stream.
pub struct Chunker {
    gear: Vec<u64>,
    gear_ls: Vec<u64>,
    mask_s: u64,
    mask_l: u64,
}

impl Chunker {
    /// A chunker whose boundaries depend on `seed`, so that chunk lengths alone do not reveal
    /// which known files a library holds.
    pub fn new(seed: u64) -> Self {
        let (gear, gear_ls) = get_gear_with_seed(seed);
        let (mask_s, mask_l) = select_masks(AVG_SIZE, Normalization::Level1);
        Self {
            gear: gear.into_owned(),
            gear_ls: gear_ls.into_owned(),
            mask_s,
            mask_l,
        }
    }

    /// Length of the next chunk at the start of `data` (which holds at least `MAX_SIZE`
    /// bytes unless the stream or segment ends there).
    fn next_len(&self, data: &[u8]) -> usize {
        let (_, n) = cut_gear(
            data,
            MIN_SIZE,
            AVG_SIZE,
            MAX_SIZE,
            self.mask_s,
            self.mask_l,
            self.mask_s << 1,
            self.mask_l << 1,
            &self.gear,
            &self.gear_ls,
        );
        // cut_gear never returns 0 for non-empty input; guard anyway so the loop always advances.
        if n == 0 { data.len() } else { n }
    }

    /// Reads `source` to its end and hands every chunk to `sink`, in order. Chunks never
    /// straddle an offset in `cuts` (sorted or not; out-of-range ones are ignored).
    /// Memory: one buffer of twice the maximum chunk size.
    pub fn chunk<R: Read, E: From<std::io::Error>>(
        &self,
        mut source: R,
        cuts: &[u64],
        mut sink: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut cuts: Vec<u64> = cuts.iter().copied().filter(|&c| c > 0).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut next_cut = cuts.into_iter().peekable();

        let mut buf = vec![0u8; 2 * MAX_SIZE];
        let (mut start, mut end, mut eof) = (0usize, 0usize, false);
        let mut offset = 0u64; // stream offset of buf[start]
        loop {
            if end - start < MAX_SIZE && !eof {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
                while end < buf.len() {
                    match source.read(&mut buf[end..]) {
                        Ok(0) => {
                            eof = true;
                            break;
                        }
                        Ok(n) => end += n,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            if start == end {
                return Ok(offset);
            }
            while next_cut.peek().is_some_and(|&c| c <= offset) {
                next_cut.next();
            }
            let mut avail = end - start;
            if let Some(&c) = next_cut.peek() {
                avail = avail.min(usize::try_from(c - offset).unwrap_or(usize::MAX));
            }
            let n = self.next_len(&buf[start..start + avail]);
            sink(&buf[start..start + n])?;
            start += n;
            offset += n as u64;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Deterministic pseudo-random bytes (xorshift), so tests need no files.
    pub fn noise(len: usize, mut state: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            out.extend_from_slice(&state.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    fn lengths(chunker: &Chunker, data: &[u8], cuts: &[u64]) -> Vec<usize> {
        let mut out = Vec::new();
        chunker
            .chunk::<_, std::io::Error>(data, cuts, |c| {
                out.push(c.len());
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn boundaries_are_pinned_for_a_known_seed() {
        // Boundaries are on-disk format: if this changes, old libraries stop deduplicating.
        let data = noise(12 * 1024 * 1024, 42);
        let lens = lengths(&Chunker::new(7), &data, &[]);
        assert_eq!(lens.iter().sum::<usize>(), data.len());
        assert_eq!(
            lens,
            vec![
                1_996_582, 939_667, 2_073_589, 417_855, 443_074, 1_116_654, 2_095_576, 1_360_883,
                634_224, 262_966, 762_849, 478_993
            ]
        );
    }

    #[test]
    fn chunk_sizes_respect_limits() {
        let data = noise(20 * 1024 * 1024, 1);
        let lens = lengths(&Chunker::new(99), &data, &[]);
        let (last, body) = lens.split_last().unwrap();
        assert!(body.iter().all(|&l| (MIN_SIZE..=MAX_SIZE).contains(&l)));
        assert!(*last <= MAX_SIZE);
    }

    #[test]
    fn seed_changes_boundaries() {
        let data = noise(8 * 1024 * 1024, 3);
        assert_ne!(
            lengths(&Chunker::new(1), &data, &[]),
            lengths(&Chunker::new(2), &data, &[])
        );
    }

    #[test]
    fn cut_hint_aligns_payload_after_a_changed_header() {
        let payload = noise(6 * 1024 * 1024, 5);
        let chunker = Chunker::new(11);
        let mut a = b"header one".to_vec();
        a.extend_from_slice(&payload);
        let mut b = vec![0xAB; 70_000];
        b.extend_from_slice(&payload);
        let tails = |file: &[u8], cut: u64| {
            let mut chunks = Vec::new();
            chunker
                .chunk::<_, std::io::Error>(file, &[cut], |c| {
                    chunks.push(blake3::hash(c));
                    Ok(())
                })
                .unwrap();
            chunks
        };
        let ca = tails(&a, 10);
        let cb = tails(&b, 70_000);
        // every payload chunk is shared; only the header chunk differs
        assert_eq!(ca[1..], cb[1..]);
        assert_ne!(ca[0], cb[0]);
    }

    #[test]
    fn empty_and_tiny_inputs() {
        let chunker = Chunker::new(0);
        assert!(lengths(&chunker, &[], &[]).is_empty());
        assert_eq!(lengths(&chunker, &[1, 2, 3], &[1]), vec![1, 2]);
    }
}
