//! Blob manifests: a file's size and chunk list, stored as a pack record (kind 2) so the
//! index can be rebuilt from packs alone. Layout in the `pack` module docs.

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::ChunkId;
use super::pack::RECORD_HEADER_LEN;

/// Encodes a blob manifest payload.
pub fn encode_manifest(size: u64, chunks: &[ChunkId]) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunks.len().saturating_mul(32).saturating_add(44));
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&(chunks.len() as u32).to_le_bytes());
    for c in chunks {
        out.extend_from_slice(&c.0);
    }
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
    out
}

/// Bytes a manifest record for `chunks` chunks takes in a pack.
pub fn manifest_record_len(chunks: usize) -> u64 {
    (chunks as u64)
        .saturating_mul(32)
        .saturating_add(RECORD_HEADER_LEN + 44)
}

/// Decodes a blob manifest payload; `None` when it is damaged.
pub fn decode_manifest(payload: &[u8]) -> Option<(u64, Vec<ChunkId>)> {
    let body_len = payload.len().checked_sub(32)?;
    let (body, sum) = payload.split_at(body_len);
    if blake3::hash(body).as_bytes() != sum {
        return None;
    }
    let size = u64::from_le_bytes(body.get(..8)?.try_into().ok()?);
    let n = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?) as usize;
    let ids = body.get(12..)?;
    if ids.len() != n.checked_mul(32)? {
        return None;
    }
    let chunks = ids
        .chunks_exact(32)
        .filter_map(|c| c.try_into().ok().map(ChunkId))
        .collect();
    Some((size, chunks))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip_and_damage() {
        let ids = vec![ChunkId([1; 32]), ChunkId([2; 32])];
        let p = encode_manifest(12345, &ids);
        assert_eq!(decode_manifest(&p), Some((12345, ids)));
        let mut bad = p.clone();
        bad[9] ^= 0x40;
        assert_eq!(decode_manifest(&bad), None);
        assert_eq!(decode_manifest(&p[..20]), None);
    }
}
