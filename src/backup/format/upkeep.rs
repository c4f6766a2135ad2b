//! The bodies of the two objects upkeep writes: marks (what a prune will delete once its
//! grace period has passed) and leases (which box is writing, and until when). Both are
//! sealed like index objects; readers of format version 1 that predate them never list
//! their folders, so adding them changed nothing those readers rely on.

use super::{Cursor, FormatError, Result, bad, kind_byte};
use crate::backup::remote::Kind;

/// What a prune found no snapshot needs, at `time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// Unix seconds when it was marked.
    pub time: i64,
    /// Objects to delete: packs and index objects, by hex name.
    pub objects: Vec<(Kind, String)>,
}

/// Why a box holds a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseAction {
    /// Uploading a snapshot.
    Backup,
    /// Deleting and repacking.
    Prune,
}

/// "This box is writing to the repository until `until`."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The box's own random id (its lease's name is this, in hex).
    pub box_id: [u8; 16],
    /// Unix seconds when it was taken or last renewed.
    pub time: i64,
    /// Unix seconds after which it is stale (the box died or lost the network).
    pub until: i64,
    /// What the box is doing.
    pub action: LeaseAction,
    /// The box's host name, for the warning.
    pub host: String,
}

fn kind_from_byte(b: u8) -> Result<Kind> {
    [Kind::Pack, Kind::Index, Kind::Snapshot]
        .into_iter()
        .find(|k| kind_byte(*k) == b)
        .ok_or_else(|| bad(format!("a mark names an object of unknown kind {b}")))
}

fn hex32(name: &str) -> Result<[u8; 32]> {
    blake3::Hash::from_hex(name)
        .map(|h| *h.as_bytes())
        .map_err(|_| bad(format!("{name:?} is not a 64-digit object name")))
}

fn hex(bytes: [u8; 32]) -> String {
    blake3::Hash::from_bytes(bytes).to_hex().to_string()
}

/// Encodes a mark body. Every name must be a 64-digit hex object name.
pub fn encode_mark(m: &Mark) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(&m.time.to_le_bytes());
    let count = u32::try_from(m.objects.len()).map_err(|_| bad("too many marked objects"))?;
    out.extend_from_slice(&count.to_le_bytes());
    for (kind, name) in &m.objects {
        out.push(kind_byte(*kind));
        out.extend_from_slice(&hex32(name)?);
    }
    Ok(out)
}

/// Decodes a mark body.
pub fn decode_mark(bytes: &[u8]) -> Result<Mark> {
    let mut c = Cursor::new(bytes);
    let time = c.i64()?;
    let n = c.u32()?;
    let objects = (0..n)
        .map(|_| Ok((kind_from_byte(c.u8()?)?, hex(c.array::<32>()?))))
        .collect::<Result<Vec<_>>>()?;
    if !c.is_empty() {
        return Err(bad("trailing bytes in mark"));
    }
    Ok(Mark { time, objects })
}

/// Encodes a lease body.
pub fn encode_lease(l: &Lease) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&l.box_id);
    out.extend_from_slice(&l.time.to_le_bytes());
    out.extend_from_slice(&l.until.to_le_bytes());
    out.push(match l.action {
        LeaseAction::Backup => 1,
        LeaseAction::Prune => 2,
    });
    let host = l
        .host
        .as_bytes()
        .get(..usize::from(u16::MAX))
        .unwrap_or(l.host.as_bytes());
    out.extend_from_slice(&u16::try_from(host.len()).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(host);
    out
}

/// Decodes a lease body.
pub fn decode_lease(bytes: &[u8]) -> Result<Lease> {
    let mut c = Cursor::new(bytes);
    let box_id = c.array()?;
    let (time, until) = (c.i64()?, c.i64()?);
    let action = match c.u8()? {
        1 => LeaseAction::Backup,
        2 => LeaseAction::Prune,
        other => return Err(FormatError(format!("unknown lease action {other}"))),
    };
    let host_len = c.u16()?;
    let host = String::from_utf8_lossy(c.take(usize::from(host_len))?).into_owned();
    if !c.is_empty() {
        return Err(bad("trailing bytes in lease"));
    }
    Ok(Lease {
        box_id,
        time,
        until,
        action,
        host,
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_leases_round_trip_and_refuse_garbage() {
        let pack = "ab".repeat(32);
        let index = "0f".repeat(32);
        let m = Mark {
            time: 1_700_000_000,
            objects: vec![(Kind::Pack, pack), (Kind::Index, index)],
        };
        let bytes = encode_mark(&m).unwrap();
        assert_eq!(bytes.len(), 12 + 2 * 33);
        assert_eq!(decode_mark(&bytes).unwrap(), m);
        assert!(decode_mark(&bytes[..bytes.len() - 1]).is_err());
        let mut wrong_kind = bytes.clone();
        wrong_kind[12] = 2;
        assert!(decode_mark(&wrong_kind).is_err());
        assert!(
            encode_mark(&Mark {
                time: 0,
                objects: vec![(Kind::Pack, "short".into())],
            })
            .is_err()
        );

        let l = Lease {
            box_id: [7; 16],
            time: 10,
            until: 3610,
            action: LeaseAction::Prune,
            host: "kitchen-pi".into(),
        };
        let bytes = encode_lease(&l);
        assert_eq!(decode_lease(&bytes).unwrap(), l);
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(decode_lease(&extra).is_err());
    }
}
