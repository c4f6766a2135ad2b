//! EXIF fields (through `kamadak-exif`) into [`Facts`].

use std::io::{BufRead, Seek};

use exif::{Context, Field, In, Tag, Value};

use super::apple;
use super::time::{parse_local, parse_offset};
use super::{Facts, Gps, TakenAt};

/// Reads EXIF from a JPEG, TIFF, HEIF, PNG or WebP container; parse errors become warnings.
pub(crate) fn read_container<R: BufRead + Seek>(r: &mut R, facts: &mut Facts) {
    let result = exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(r);
    finish(result, facts);
}

/// Reads a bare TIFF-structured EXIF block (JPEG APP1 payload after `Exif\0\0`, PNG `eXIf`,
/// a TIFF file's head). `as_ctx` treats IFD0 tags as that IFD, for CR3's split blocks.
/// Returns the parsed block so callers can look at tags [`Facts`] has no field for.
pub(crate) fn read_raw(
    data: Vec<u8>,
    as_ctx: Option<Context>,
    facts: &mut Facts,
) -> Option<exif::Exif> {
    let result = exif::Reader::new().continue_on_error(true).read_raw(data);
    let exif = distill(result, facts)?;
    apply(
        &Tags {
            exif: &exif,
            as_ctx,
        },
        facts,
    );
    Some(exif)
}

fn finish(result: Result<exif::Exif, exif::Error>, facts: &mut Facts) {
    if let Some(exif) = distill(result, facts) {
        apply(
            &Tags {
                exif: &exif,
                as_ctx: None,
            },
            facts,
        );
    }
}

/// The parsed block, or what kamadak-exif could parse of it; errors become warnings.
fn distill(result: Result<exif::Exif, exif::Error>, facts: &mut Facts) -> Option<exif::Exif> {
    match result {
        Ok(exif) => Some(exif),
        Err(exif::Error::NotFound(_)) => None,
        Err(e) => match e.distill_partial_result(|errs| {
            for err in errs {
                facts
                    .warnings
                    .push(format!("EXIF partly unreadable: {err}"));
            }
        }) {
            Ok(exif) => Some(exif),
            Err(e) => {
                facts.warnings.push(format!("EXIF unreadable: {e}"));
                None
            }
        },
    }
}

/// A view of an EXIF block's primary image fields.
struct Tags<'a> {
    exif: &'a exif::Exif,
    /// When set, tags of this context are looked up in IFD0 (CR3 `CMT2`/`CMT4` blocks).
    as_ctx: Option<Context>,
}

impl Tags<'_> {
    fn get(&self, tag: Tag) -> Option<&Field> {
        match self.as_ctx {
            None => self.exif.get_field(tag, In::PRIMARY),
            Some(ctx) if ctx == tag.context() => self
                .exif
                .get_field(Tag(Context::Tiff, tag.number()), In::PRIMARY),
            Some(_) => None,
        }
    }

    fn text(&self, tag: Tag) -> Option<String> {
        match &self.get(tag)?.value {
            Value::Ascii(parts) => apple::clean_text(parts.first()?),
            Value::Undefined(raw, _) | Value::Byte(raw) => apple::clean_text(raw),
            _ => None,
        }
    }

    fn uint(&self, tag: Tag) -> Option<u32> {
        self.get(tag)?.value.get_uint(0)
    }

    fn rationals(&self, tag: Tag) -> Option<Vec<f64>> {
        match &self.get(tag)?.value {
            Value::Rational(v) => Some(v.iter().map(exif::Rational::to_f64).collect()),
            Value::SRational(v) => Some(v.iter().map(exif::SRational::to_f64).collect()),
            _ => None,
        }
    }
}

/// Fills the still-empty fields of `facts` from `t`.
fn apply(t: &Tags<'_>, facts: &mut Facts) {
    facts.make = facts.make.take().or_else(|| t.text(Tag::Make));
    facts.model = facts.model.take().or_else(|| t.text(Tag::Model));
    if facts.orientation.is_none() {
        facts.orientation = t
            .uint(Tag::Orientation)
            .and_then(|o| u16::try_from(o).ok())
            .filter(|o| (1..=8).contains(o));
    }
    if facts.taken_at.is_none() {
        facts.taken_at = taken_at(t);
    }
    if facts.gps.is_none() {
        facts.gps = gps(t);
    }
    if facts.width.is_none() || facts.height.is_none() {
        let w = t
            .uint(Tag::PixelXDimension)
            .or_else(|| t.uint(Tag::ImageWidth));
        let h = t
            .uint(Tag::PixelYDimension)
            .or_else(|| t.uint(Tag::ImageLength));
        if let (Some(w), Some(h)) = (w, h) {
            (facts.width, facts.height) = (Some(w), Some(h));
        }
    }
    if facts.content_id.is_none()
        && let Some(Value::Undefined(note, _)) = t.get(Tag::MakerNote).map(|f| &f.value)
    {
        facts.content_id = apple::content_identifier(note);
    }
}

/// `DateTimeOriginal` with its offset, else `DateTimeDigitized`, else `DateTime`.
fn taken_at(t: &Tags<'_>) -> Option<TakenAt> {
    let pairs = [
        (Tag::DateTimeOriginal, Tag::OffsetTimeOriginal),
        (Tag::DateTimeDigitized, Tag::OffsetTimeDigitized),
        (Tag::DateTime, Tag::OffsetTime),
    ];
    pairs.into_iter().find_map(|(date, offset)| {
        let local = parse_local(&t.text(date)?)?;
        let offset_secs = t.text(offset).as_deref().and_then(parse_offset);
        Some(TakenAt { local, offset_secs })
    })
}

/// Latitude and longitude in degrees with their N/S and E/W signs, and altitude.
fn gps(t: &Tags<'_>) -> Option<Gps> {
    let degrees = |tag: Tag| -> Option<f64> {
        let parts = t.rationals(tag)?;
        let whole = parts.first().copied()?;
        let minutes = parts.get(1).copied().unwrap_or(0.0);
        let seconds = parts.get(2).copied().unwrap_or(0.0);
        let deg = whole + minutes / 60.0 + seconds / 3600.0;
        deg.is_finite().then_some(deg)
    };
    let mut lat = degrees(Tag::GPSLatitude)?;
    let mut lon = degrees(Tag::GPSLongitude)?;
    if t.text(Tag::GPSLatitudeRef)
        .is_some_and(|r| r.starts_with('S'))
    {
        lat = -lat;
    }
    if t.text(Tag::GPSLongitudeRef)
        .is_some_and(|r| r.starts_with('W'))
    {
        lon = -lon;
    }
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    let alt = t
        .rationals(Tag::GPSAltitude)
        .and_then(|v| v.first().copied())
        .filter(|a| a.is_finite())
        .map(|a| {
            let below = t.uint(Tag::GPSAltitudeRef) == Some(1);
            if below { -a } else { a }
        });
    Some(Gps { lat, lon, alt })
}
