//! Thumbnails: one decode of a photo, two JPEGs out (a grid image and a large preview),
//! upright after EXIF orientation.
//!
//! Memory: the full-size frame is the only large buffer. It is resized straight to the preview
//! in its own pixel type (8 or 16 bit, with or without alpha), then dropped; the grid image is
//! made from the preview. Sizes are checked from the file's header before any pixel is decoded,
//! so a decompression bomb costs a header read.

use std::io;
use std::path::Path;

use fast_image_resize::{FilterType, IntoImageView, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageEncoder, RgbImage, imageops};

use super::decode::{self, Frame};
use super::{Facts, Format};

/// Short side of the grid image, in pixels.
pub const GRID_SHORT_SIDE: u32 = 360;
/// Long side of the preview image, in pixels. Also caps the grid image's long side, so a
/// 20:1 panorama does not make a 7200-pixel "thumbnail".
pub const PREVIEW_LONG_SIDE: u32 = 2048;

/// The two sizes made of every photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// For the grid: [`GRID_SHORT_SIDE`] on the short side (long side at most
    /// [`PREVIEW_LONG_SIDE`]).
    Grid,
    /// For viewing one photo: [`PREVIEW_LONG_SIDE`] on the long side.
    Preview,
}

impl Size {
    /// The output size for a `width`×`height` source, keeping its aspect ratio. Never larger
    /// than the source (no upscaling) and never zero.
    pub fn fit(self, width: u32, height: u32) -> (u32, u32) {
        let (long, short) = (width.max(height), width.min(height));
        if long == 0 || short == 0 {
            return (width.max(1), height.max(1));
        }
        // Scale factor as a fraction num/den, applied to both sides.
        let (num, den) = match self {
            Self::Grid => {
                if u64::from(long).saturating_mul(u64::from(GRID_SHORT_SIDE))
                    > u64::from(PREVIEW_LONG_SIDE).saturating_mul(u64::from(short))
                {
                    (PREVIEW_LONG_SIDE, long)
                } else {
                    (GRID_SHORT_SIDE, short)
                }
            }
            Self::Preview => (PREVIEW_LONG_SIDE, long),
        };
        if num >= den {
            return (width, height);
        }
        (scale(width, num, den), scale(height, num, den))
    }
}

/// `side * num / den`, rounded, at least 1. `num < den`, so it fits in `u32`.
fn scale(side: u32, num: u32, den: u32) -> u32 {
    let scaled = u64::from(side)
        .saturating_mul(u64::from(num))
        .saturating_add(u64::from(den / 2))
        .checked_div(u64::from(den))
        .unwrap_or(1);
    u32::try_from(scaled).unwrap_or(side).max(1)
}

/// How to make thumbnails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Largest source, in pixels, that is decoded at all (decompression-bomb ceiling).
    pub max_pixels: u64,
    /// JPEG quality of the outputs, 1..=100.
    pub quality: u8,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_pixels: 100_000_000,
            quality: 80,
        }
    }
}

/// The two JPEGs made of one photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnails {
    /// The grid image, JPEG.
    pub grid: Vec<u8>,
    /// The preview image, JPEG.
    pub preview: Vec<u8>,
    /// Width of the grid image, after orientation.
    pub width: u32,
    /// Height of the grid image, after orientation.
    pub height: u32,
    /// Width of the preview image, after orientation.
    pub preview_width: u32,
    /// Height of the preview image, after orientation.
    pub preview_height: u32,
}

/// Why no thumbnail could be made.
#[derive(Debug, thiserror::Error)]
pub enum ThumbError {
    /// There is no pure-Rust decoder for this format (or it was left out of the build); the
    /// caller shows a typed [`placeholder`](super::placeholder) instead.
    #[error("no decoder for {0:?}")]
    Unsupported(Format),
    /// The header claims more pixels than `Options::max_pixels`; nothing was decoded.
    #[error("{width}x{height} is more pixels than allowed")]
    TooManyPixels {
        /// Claimed width.
        width: u32,
        /// Claimed height.
        height: u32,
    },
    /// The file is damaged, truncated or uses a feature the decoder lacks.
    #[error("cannot decode: {0}")]
    Decode(String),
    /// Reading the file failed.
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
}

/// Decodes the photo at `path` once and makes both sizes from that frame. `facts` come from
/// [`read_facts`](super::read_facts): its `format` picks the decoder and its `orientation`
/// is applied (except for HEIF and JPEG XL, whose decoders apply the file's own transforms).
pub fn make_thumbnails(
    path: &Path,
    facts: &Facts,
    options: &Options,
) -> Result<Thumbnails, ThumbError> {
    let Frame {
        image,
        orientation,
        icc,
    } = decode::decode(path, facts, options)?;
    let (w, h) = (image.width(), image.height());
    let (pw, ph) = Size::Preview.fit(w, h);
    let preview = resize_to_rgb(image, pw, ph)?;
    let (gw, gh) = Size::Grid.fit(w, h);
    let grid = resize_rgb(&preview, gw, gh)?;
    let preview = orient(preview, orientation);
    let grid = orient(grid, orientation);
    Ok(Thumbnails {
        width: grid.width(),
        height: grid.height(),
        preview_width: preview.width(),
        preview_height: preview.height(),
        grid: encode_jpeg(&grid, options.quality, icc.as_deref())?,
        preview: encode_jpeg(&preview, options.quality, icc.as_deref())?,
    })
}

/// Decodes the photo at full size, upright, as 8-bit RGB with any transparency laid on white:
/// the frame the thumbnails are made from. For tests against reference decoders.
pub fn decode_full(path: &Path, facts: &Facts, options: &Options) -> Result<RgbImage, ThumbError> {
    let frame = decode::decode(path, facts, options)?;
    Ok(orient(flatten(frame.image), frame.orientation))
}

/// Resizes `image` to `width`×`height` in its own pixel type, then makes it 8-bit RGB.
fn resize_to_rgb(image: DynamicImage, width: u32, height: u32) -> Result<RgbImage, ThumbError> {
    if (image.width(), image.height()) == (width, height) {
        return Ok(flatten(image));
    }
    // A pixel type the resizer lacks (none today) is made 8-bit RGB first.
    let image = if IntoImageView::pixel_type(&image).is_some() {
        image
    } else {
        DynamicImage::ImageRgb8(flatten(image))
    };
    let mut dst = DynamicImage::new(width, height, image.color());
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&image, &mut dst, &opts)
        .map_err(|e| ThumbError::Decode(format!("resize: {e}")))?;
    drop(image);
    Ok(flatten(dst))
}

/// Resizes an 8-bit RGB image (the preview, to make the grid image).
fn resize_rgb(image: &RgbImage, width: u32, height: u32) -> Result<RgbImage, ThumbError> {
    if (image.width(), image.height()) == (width, height) {
        return Ok(image.clone());
    }
    let mut dst = RgbImage::new(width, height);
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(image, &mut dst, &opts)
        .map_err(|e| ThumbError::Decode(format!("resize: {e}")))?;
    Ok(dst)
}

/// 8-bit RGB; transparent parts are laid on white, as a browser would show them on our page.
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let image::Rgba([red, green, blue, alpha]) = *rgba.get_pixel(x, y);
        let alpha = u32::from(alpha);
        let over_white = |c: u8| -> u8 {
            // c*alpha + 255*(255-alpha), over 255, rounded: at most 255.
            let sum = u32::from(c)
                .saturating_mul(alpha)
                .saturating_add(255u32.saturating_mul(255u32.saturating_sub(alpha)))
                .saturating_add(127);
            u8::try_from(sum / 255).unwrap_or(u8::MAX)
        };
        image::Rgb([over_white(red), over_white(green), over_white(blue)])
    })
}

/// Applies EXIF orientation `o` (1..=8; anything else is left alone) so the image is upright.
pub(crate) fn orient(image: RgbImage, o: u16) -> RgbImage {
    match o {
        2 => imageops::flip_horizontal(&image),
        3 => imageops::rotate180(&image),
        4 => imageops::flip_vertical(&image),
        // Transpose: mirror along the top-left to bottom-right diagonal.
        5 => imageops::flip_horizontal(&imageops::rotate90(&image)),
        6 => imageops::rotate90(&image),
        // Transverse: mirror along the top-right to bottom-left diagonal.
        7 => imageops::flip_horizontal(&imageops::rotate270(&image)),
        8 => imageops::rotate270(&image),
        _ => image,
    }
}

/// Encodes baseline JPEG at `quality`, carrying the source's ICC profile so wide-gamut
/// (Display P3) photos keep their colours.
pub(crate) fn encode_jpeg(
    image: &RgbImage,
    quality: u8,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>, ThumbError> {
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100));
    if let Some(icc) = icc {
        // A profile the encoder refuses (over its size limit) only costs colour accuracy.
        let _ = encoder.set_icc_profile(icc.to_vec());
    }
    encoder
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| ThumbError::Decode(format!("JPEG encode: {e}")))?;
    Ok(out)
}
