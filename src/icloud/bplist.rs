//! A small reader of Apple's binary property lists (`bplist00`), for the few iCloud fields
//! that hold one (`captionEnc`, `keywordsEnc`): strings, numbers, arrays and dictionaries;
//! other objects are read as [`Value::Other`]. Pure and bounded: objects are read by offset,
//! at most 16 deep and 4096 in all (so a cycle ends), from input of at most [`MAX_LEN`].

/// Longest plist read (Apple's metadata plists are a few hundred bytes).
pub const MAX_LEN: usize = 256 * 1024;
/// Deepest nesting followed.
const MAX_DEPTH: usize = 16;
/// Most objects visited in one parse (references may repeat: an array of itself).
const MAX_VISITS: usize = 4096;

/// One object.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An ASCII or UTF-16 string.
    Str(String),
    /// An integer.
    Int(i64),
    /// An array (or set).
    Array(Vec<Value>),
    /// A dictionary, in file order.
    Dict(Vec<(Value, Value)>),
    /// Anything else (data, dates, reals, booleans, uids).
    Other,
}

struct Reader<'a> {
    bytes: &'a [u8],
    offsets: Vec<usize>,
    ref_size: usize,
    visits: std::cell::Cell<usize>,
}

fn be(bytes: &[u8]) -> Option<u64> {
    (bytes.len() <= 8).then(|| bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

/// Parses a binary plist; `None` when `bytes` is not one or is damaged.
pub fn parse(bytes: &[u8]) -> Option<Value> {
    if bytes.len() > MAX_LEN || bytes.len() < 8 + 32 || !bytes.starts_with(b"bplist00") {
        return None;
    }
    let t = &bytes[bytes.len() - 32..];
    let offset_size = usize::from(t[6]);
    let ref_size = usize::from(t[7]);
    let count = usize::try_from(be(&t[8..16])?).ok()?;
    let top = usize::try_from(be(&t[16..24])?).ok()?;
    let table = usize::try_from(be(&t[24..32])?).ok()?;
    if !(1..=8).contains(&offset_size) || !(1..=8).contains(&ref_size) || top >= count {
        return None;
    }
    let end = table.checked_add(count.checked_mul(offset_size)?)?;
    let raw = bytes.get(table..end)?;
    let offsets = raw
        .chunks(offset_size)
        .map(|c| be(c).and_then(|n| usize::try_from(n).ok()))
        .collect::<Option<Vec<_>>>()?;
    let r = Reader {
        bytes: &bytes[..bytes.len() - 32],
        offsets,
        ref_size,
        visits: std::cell::Cell::new(0),
    };
    r.object(top, 0)
}

impl Reader<'_> {
    fn object(&self, index: usize, depth: usize) -> Option<Value> {
        self.visits.set(self.visits.get() + 1);
        if depth > MAX_DEPTH || self.visits.get() > MAX_VISITS {
            return None;
        }
        let at = *self.offsets.get(index)?;
        let marker = *self.bytes.get(at)?;
        let low = marker & 0x0F;
        match marker >> 4 {
            0x1 => {
                let n = 1usize << low;
                let v = be(self.bytes.get(at + 1..at + 1 + n)?)?;
                Some(Value::Int(v.cast_signed()))
            }
            0x5 => {
                let (len, start) = self.length(at, low)?;
                let s = self.bytes.get(start..start.checked_add(len)?)?;
                Some(Value::Str(String::from_utf8_lossy(s).into_owned()))
            }
            0x6 => {
                let (len, start) = self.length(at, low)?;
                let s = self
                    .bytes
                    .get(start..start.checked_add(len.checked_mul(2)?)?)?;
                let units: Vec<u16> = s
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                Some(Value::Str(String::from_utf16_lossy(&units)))
            }
            0xA | 0xC => {
                let (len, start) = self.length(at, low)?;
                let refs = self.refs(start, len)?;
                let items = refs
                    .into_iter()
                    .map(|i| self.object(i, depth + 1))
                    .collect::<Option<Vec<_>>>()?;
                Some(Value::Array(items))
            }
            0xD => {
                let (len, start) = self.length(at, low)?;
                let refs = self.refs(start, len.checked_mul(2)?)?;
                let (keys, values) = refs.split_at(len);
                let mut pairs = Vec::with_capacity(len);
                for (k, v) in keys.iter().zip(values) {
                    pairs.push((self.object(*k, depth + 1)?, self.object(*v, depth + 1)?));
                }
                Some(Value::Dict(pairs))
            }
            _ => Some(Value::Other),
        }
    }

    /// The element count of the object at `at` and where its contents start.
    fn length(&self, at: usize, low: u8) -> Option<(usize, usize)> {
        if low != 0x0F {
            return Some((usize::from(low), at + 1));
        }
        let int = *self.bytes.get(at + 1)?;
        if int >> 4 != 0x1 {
            return None;
        }
        let n = 1usize << (int & 0x0F);
        let len = usize::try_from(be(self.bytes.get(at + 2..at + 2 + n)?)?).ok()?;
        Some((len, at + 2 + n))
    }

    fn refs(&self, start: usize, len: usize) -> Option<Vec<usize>> {
        let end = start.checked_add(len.checked_mul(self.ref_size)?)?;
        self.bytes
            .get(start..end)?
            .chunks(self.ref_size)
            .map(|c| be(c).and_then(|n| usize::try_from(n).ok()))
            .collect()
    }
}

impl Value {
    /// The texts it holds: a string; the strings of an array, in order; the strings of an
    /// `NSKeyedArchiver` archive's objects (its bookkeeping left out).
    pub fn strings(&self) -> Vec<String> {
        match self {
            Self::Str(s) => vec![s.clone()],
            Self::Array(items) => items.iter().flat_map(Self::strings).collect(),
            Self::Dict(pairs) => pairs
                .iter()
                .find(|(k, _)| *k == Self::Str("$objects".into()))
                .map(|(_, objects)| match objects {
                    Self::Array(items) => items
                        .iter()
                        .filter_map(|o| match o {
                            Self::Str(s) if s != "$null" => Some(s.clone()),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                })
                .unwrap_or_default(),
            Self::Int(_) | Self::Other => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by Python's `plistlib` (`FMT_BINARY`), the reference here.
    const CAPTION: &[u8] = include_bytes!("../../tests/fixtures/icloud/caption.bplist");
    const KEYWORDS: &[u8] = include_bytes!("../../tests/fixtures/icloud/keywords.bplist");

    #[test]
    fn strings_and_arrays_from_plistlib() {
        assert_eq!(
            parse(CAPTION),
            Some(Value::Str("Dîner à Nice, été 2017".into()))
        );
        assert_eq!(
            parse(KEYWORDS).map(|v| v.strings()),
            Some(vec![
                "family".to_string(),
                "Nice".to_string(),
                "été".to_string(),
                "a keyword longer than fifteen".to_string()
            ])
        );
    }

    #[test]
    fn damaged_input_is_refused_not_panicked_on() {
        assert!(parse(b"bplist00").is_none());
        assert!(parse(b"not a plist at all, not at all, no, not a plist").is_none());
        for cut in 0..KEYWORDS.len() {
            let _ = parse(&KEYWORDS[..cut]);
            let mut bad = KEYWORDS.to_vec();
            bad[cut] ^= 0xFF;
            let _ = parse(&bad);
        }
    }

    #[test]
    fn an_array_of_itself_ends() {
        let mut p = b"bplist00".to_vec();
        p.extend_from_slice(&[0xAE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        p.push(8);
        p.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 1]);
        p.extend_from_slice(&1u64.to_be_bytes());
        p.extend_from_slice(&0u64.to_be_bytes());
        p.extend_from_slice(&23u64.to_be_bytes());
        assert_eq!(parse(&p), None);
    }

    #[test]
    fn keyed_archives_give_their_strings() {
        let v = Value::Dict(vec![(
            Value::Str("$objects".into()),
            Value::Array(vec![
                Value::Str("$null".into()),
                Value::Str("Paris".into()),
                Value::Dict(vec![(
                    Value::Str("$classname".into()),
                    Value::Str("NSArray".into()),
                )]),
            ]),
        )]);
        assert_eq!(v.strings(), vec!["Paris".to_string()]);
    }
}
