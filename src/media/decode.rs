//! One full-size frame from a photo file, by format: `image` (JPEG through zune-jpeg, PNG,
//! WebP, GIF's first frame, TIFF), `heifer` (HEIC), `jxl-oxide` (JPEG XL), and the largest
//! embedded JPEG of a camera RAW file. Every path reads the size from the header and refuses
//! more than `max_pixels` before decoding.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek};
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use super::thumbnail::{Options, ThumbError};
use super::{Facts, Format, SNIFF_LEN, raw_preview, sniff};

/// A decoded picture in its stored orientation, with what it takes to show it right.
pub(crate) struct Frame {
    /// The pixels, in whatever type the decoder produced.
    pub image: DynamicImage,
    /// EXIF orientation still to apply (1 when the decoder already did).
    pub orientation: u16,
    /// The source's ICC profile, carried into the thumbnails.
    pub icc: Option<Vec<u8>>,
}

/// Decodes the file at `path` to one frame.
pub(crate) fn decode(path: &Path, facts: &Facts, options: &Options) -> Result<Frame, ThumbError> {
    let mut file = BufReader::new(File::open(path)?);
    let format = if let Some(f) = facts.format {
        f
    } else {
        let mut head = Vec::with_capacity(SNIFF_LEN);
        file.by_ref()
            .take(SNIFF_LEN as u64)
            .read_to_end(&mut head)?;
        file.rewind()?;
        sniff(&head)
    };
    let orientation = facts.orientation.unwrap_or(1);
    let with_image = match format {
        Format::Jpeg => Some(ImageFormat::Jpeg),
        Format::Png => Some(ImageFormat::Png),
        Format::Webp => Some(ImageFormat::WebP),
        Format::Gif => Some(ImageFormat::Gif),
        Format::Tiff => Some(ImageFormat::Tiff),
        _ => None,
    };
    if let Some(image_format) = with_image {
        let mut frame = decode_with_image(file, image_format, options)?;
        frame.orientation = orientation;
        return Ok(frame);
    }
    match format {
        Format::Raw => {
            let jpeg = raw_preview::largest_jpeg(&mut file, options.max_pixels)?
                .ok_or(ThumbError::Unsupported(Format::Raw))?;
            let mut frame = decode_with_image(Cursor::new(jpeg), ImageFormat::Jpeg, options)?;
            frame.orientation = orientation;
            Ok(frame)
        }
        #[cfg(feature = "heic")]
        Format::Heic => heic(file, options),
        #[cfg(feature = "jxl")]
        Format::Jxl => jxl(file, options),
        other => Err(ThumbError::Unsupported(other)),
    }
}

/// Refuses a `width`×`height` picture over the ceiling (or an empty one).
pub(crate) fn check_size(width: u32, height: u32, options: &Options) -> Result<(), ThumbError> {
    if width == 0 || height == 0 {
        return Err(ThumbError::Decode(format!("empty image {width}x{height}")));
    }
    if u64::from(width).saturating_mul(u64::from(height)) > options.max_pixels {
        return Err(ThumbError::TooManyPixels { width, height });
    }
    Ok(())
}

/// Largest ICC profile copied into thumbnails: Display P3 is about 0.5 KiB, camera profiles a
/// few KiB; a LUT profile of megabytes would outweigh every grid image it rides on.
const MAX_CARRIED_ICC: usize = 64 * 1024;

/// Whether a source's ICC profile goes into its thumbnails: not when it is sRGB, which is
/// what an untagged JPEG means anyway (3 KiB saved per image), nor when it is huge.
pub(crate) fn worth_carrying(icc: &[u8]) -> bool {
    if icc.len() > MAX_CARRIED_ICC {
        return false;
    }
    // The profile description ('desc' tag: ASCII in v2, UTF-16BE in v4 'mluc').
    let be_u32 = |at: usize| -> Option<usize> {
        let b: [u8; 4] = icc.get(at..at.checked_add(4)?)?.try_into().ok()?;
        usize::try_from(u32::from_be_bytes(b)).ok()
    };
    let count = be_u32(128).unwrap_or(0).min(256);
    let desc = (0..count).find_map(|i| {
        let entry = i.checked_mul(12)?.checked_add(132)?;
        if icc.get(entry..entry.checked_add(4)?)? != b"desc" {
            return None;
        }
        let (offset, len) = (
            be_u32(entry.checked_add(4)?)?,
            be_u32(entry.checked_add(8)?)?,
        );
        icc.get(offset..offset.checked_add(len)?)
    });
    let Some(desc) = desc else {
        return true;
    };
    let contains = |needle: &[u8]| desc.windows(needle.len()).any(|w| w == needle);
    !(contains(b"sRGB") || contains(b"\0s\0R\0G\0B"))
}

/// Decodes with the `image` crate, checking the header's size first.
fn decode_with_image<R: BufRead + Seek>(
    reader: R,
    format: ImageFormat,
    options: &Options,
) -> Result<Frame, ThumbError> {
    // The file was opened and read fine; an early end or bad bytes inside the decoder are
    // damage to the picture, not an I/O failure.
    let decode_err = |e: image::ImageError| match e {
        image::ImageError::IoError(e)
            if !matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            ) =>
        {
            ThumbError::Io(e)
        }
        other => ThumbError::Decode(other.to_string()),
    };
    let mut decoder = ImageReader::with_format(reader, format)
        .into_decoder()
        .map_err(decode_err)?;
    let (width, height) = decoder.dimensions();
    check_size(width, height, options)?;
    // A profile that cannot be read only costs colour accuracy.
    let icc = decoder
        .icc_profile()
        .ok()
        .flatten()
        .filter(|p| worth_carrying(p));
    let image = DynamicImage::from_decoder(decoder).map_err(decode_err)?;
    Ok(Frame {
        image,
        orientation: 1,
        icc,
    })
}

/// HEIC/HEIF through `heifer`, which applies the file's crop, rotation and mirror itself.
/// Samples stay in the file's colour space and its ICC profile goes with them (as libheif's
/// `heif-convert` does), so a Display P3 photo keeps its colours without a colour engine here.
#[cfg(feature = "heic")]
fn heic<R: Read>(mut file: R, options: &Options) -> Result<Frame, ThumbError> {
    use heifer::heifer_isobmff::HeifFile;

    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let decode_err = |e: heifer::Error| ThumbError::Decode(format!("HEIF: {e}"));
    let parsed = HeifFile::parse(&bytes).map_err(|e| decode_err(e.into()))?;
    let id = parsed.primary_id;
    if let Some((w, h)) = parsed.image_size(id).map_err(|e| decode_err(e.into()))? {
        check_size(w, h, options)?;
    }
    let icc = parsed
        .icc_profile(id)
        .ok()
        .flatten()
        .filter(|p| worth_carrying(p))
        .map(<[u8]>::to_vec);
    drop(parsed);
    let heif_options = heifer::Options {
        // One worker per board decodes one photo at a time; tiles are decoded in turn.
        max_threads: 1,
        max_pixels: options.max_pixels,
    };
    let img = heifer::decode_rgba8(&bytes, &heif_options).map_err(decode_err)?;
    drop(bytes);
    let (width, height, has_alpha) = (img.width, img.height, img.has_alpha);
    let image = if has_alpha {
        image::RgbaImage::from_raw(width, height, img.data).map(DynamicImage::ImageRgba8)
    } else {
        // Drops alpha in place: no second full-size buffer.
        image::RgbImage::from_raw(width, height, img.into_rgb8()).map(DynamicImage::ImageRgb8)
    }
    .ok_or_else(|| ThumbError::Decode("HEIF: sample count does not match the size".into()))?;
    Ok(Frame {
        image,
        orientation: 1,
        icc,
    })
}

/// JPEG XL through `jxl-oxide` (single-threaded), which applies the codestream's orientation.
#[cfg(feature = "jxl")]
fn jxl<R: Read>(file: R, options: &Options) -> Result<Frame, ThumbError> {
    use jxl_oxide::{AllocTracker, JxlImage, JxlThreadPool};

    let decode_err =
        |e: Box<dyn std::error::Error + Send + Sync>| ThumbError::Decode(format!("JPEG XL: {e}"));
    // jxl-oxide works in f32 planes: bound its allocations at 16 bytes per allowed pixel, and
    // at 512 MiB whatever the ceiling, so one photo cannot exhaust a small board.
    let limit = usize::try_from(options.max_pixels.saturating_mul(16))
        .unwrap_or(usize::MAX)
        .min(512 << 20);
    let image = JxlImage::builder()
        .pool(JxlThreadPool::none())
        .alloc_tracker(AllocTracker::with_limit(limit))
        .read(file)
        .map_err(decode_err)?;
    let (width, height) = (image.width(), image.height());
    check_size(width, height, options)?;
    let render = image.render_frame(0).map_err(decode_err)?;
    let mut stream = render.stream();
    let channels = stream.channels();
    let samples = u64::from(width)
        .saturating_mul(u64::from(height))
        .saturating_mul(u64::from(channels));
    let len = usize::try_from(samples).map_err(|_| ThumbError::TooManyPixels { width, height })?;
    let mut buf = vec![0u8; len];
    stream.write_to_buffer(&mut buf);
    let image = match channels {
        1 => image::GrayImage::from_raw(width, height, buf).map(DynamicImage::ImageLuma8),
        2 => image::GrayAlphaImage::from_raw(width, height, buf).map(DynamicImage::ImageLumaA8),
        3 => image::RgbImage::from_raw(width, height, buf).map(DynamicImage::ImageRgb8),
        4 if !render_has_black(&image) => {
            image::RgbaImage::from_raw(width, height, buf).map(DynamicImage::ImageRgba8)
        }
        _ => None,
    }
    .ok_or_else(|| ThumbError::Decode(format!("JPEG XL: {channels} channels not supported")))?;
    Ok(Frame {
        image,
        orientation: 1,
        icc: None,
    })
}

/// A CMYK JPEG XL (with a black channel) is not mapped to RGB here.
#[cfg(feature = "jxl")]
fn render_has_black(image: &jxl_oxide::JxlImage) -> bool {
    image.pixel_format().has_black()
}
