//! The few XMP properties we use (camera, orientation, capture time), from an XMP packet
//! embedded in a JPEG or from a sidecar file. Not a full RDF parser: properties are found
//! in their attribute (`tiff:Make="Canon"`) or simple element (`<tiff:Make>Canon</tiff:Make>`)
//! form, which is how cameras, Lightroom, darktable and exiftool write them.

use std::io::{self, Read, Seek, SeekFrom};

use super::Facts;
use super::time::parse_iso;

/// Largest sidecar we read; real ones are a few KiB.
const MAX_SIDECAR: u64 = 1024 * 1024;

/// Reads an XMP sidecar file.
pub(crate) fn read_sidecar<R: Read + Seek>(r: &mut R, facts: &mut Facts) -> io::Result<()> {
    r.seek(SeekFrom::Start(0))?;
    let mut raw = Vec::new();
    r.take(MAX_SIDECAR).read_to_end(&mut raw)?;
    apply(&decode(&raw), facts);
    Ok(())
}

/// Text of a packet in UTF-8 or, with a byte-order mark, UTF-16.
pub(crate) fn decode(raw: &[u8]) -> String {
    let utf16 = |rest: &[u8], le: bool| -> String {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| match c {
                [a, b] if le => u16::from_le_bytes([*a, *b]),
                [a, b] => u16::from_be_bytes([*a, *b]),
                _ => 0,
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match raw {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        _ => String::from_utf8_lossy(raw).into_owned(),
    }
}

/// Fills the still-empty fields of `facts` from the XMP packet `text`.
pub(crate) fn apply(text: &str, facts: &mut Facts) {
    if facts.make.is_none() {
        facts.make = property(text, "tiff:Make");
    }
    if facts.model.is_none() {
        facts.model = property(text, "tiff:Model");
    }
    if facts.orientation.is_none() {
        facts.orientation = property(text, "tiff:Orientation")
            .and_then(|o| o.parse().ok())
            .filter(|o| (1..=8).contains(o));
    }
    if facts.taken_at.is_none() {
        // photoshop:DateCreated is where Lightroom and Photo Mechanic keep the capture time.
        facts.taken_at = ["exif:DateTimeOriginal", "photoshop:DateCreated"]
            .iter()
            .find_map(|name| parse_iso(&property(text, name)?));
    }
}

/// The value of property `name` in attribute or simple element form.
fn property(text: &str, name: &str) -> Option<String> {
    let attr = format!("{name}=");
    if let Some(at) = text.find(&attr) {
        let rest = text.get(at.checked_add(attr.len())?..)?;
        let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let body = rest.get(1..)?;
        let end = body.find(quote)?;
        return clean(body.get(..end)?);
    }
    let open = format!("<{name}>");
    let at = text.find(&open)?;
    let body = text.get(at.checked_add(open.len())?..)?;
    let end = body.find('<')?;
    clean(body.get(..end)?)
}

/// Trims and un-escapes the XML entities cameras put in names.
fn clean(v: &str) -> Option<String> {
    let v = v
        .trim()
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn reads_attribute_and_element_forms() {
        let xmp = r#"<x:xmpmeta><rdf:Description tiff:Make="Canon" tiff:Orientation="6">
            <tiff:Model> Canon PowerShot A5 </tiff:Model>
            <exif:DateTimeOriginal>2004-08-27T13:52:55+02:00</exif:DateTimeOriginal>
            </rdf:Description></x:xmpmeta>"#;
        let mut f = Facts::default();
        apply(xmp, &mut f);
        assert_eq!(f.make.as_deref(), Some("Canon"));
        assert_eq!(f.model.as_deref(), Some("Canon PowerShot A5"));
        assert_eq!(f.orientation, Some(6));
        let t = f.taken_at.unwrap();
        assert_eq!(
            (t.local.to_string().as_str(), t.offset_secs),
            ("2004-08-27 13:52:55", Some(7200))
        );
    }

    #[test]
    fn decodes_utf16_and_survives_garbage() {
        let raw: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("tiff:Make='A'".bytes().flat_map(|b| [b, 0]))
            .collect();
        let mut f = Facts::default();
        apply(&decode(&raw), &mut f);
        assert_eq!(f.make.as_deref(), Some("A"));
        for s in [
            "tiff:Make=",
            "tiff:Make=\"x",
            "<tiff:Model>",
            "<tiff:Model>ab",
            "\u{fffd}tiff:Make=\u{fffd}",
        ] {
            apply(s, &mut Facts::default());
        }
    }
}
