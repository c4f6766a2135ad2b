//! Disagreements with exiftool we accept, each with its reason. Keep this list short:
//! fix the parser where reasonable.

/// Known disagreements: (path suffix, field, reason).
pub const ALLOWED: &[(&str, &str, &str)] = &[
    // exiftool takes these capture times from maker-specific blocks we do not parse.
    (
        "jpg/Reconyx_HC500_Hyperfire.jpg",
        "taken_at",
        "only in the Reconyx maker note",
    ),
    (
        "exif-org/olympus-d320l.jpg",
        "taken_at",
        "only in Olympus APP12 PictureInfo",
    ),
    (
        "t/images/CasioQVCI.jpg",
        "taken_at",
        "only in the Casio QV maker note",
    ),
    (
        "t/images/PhotoMechanic.jpg",
        "taken_at",
        "IPTC DateCreated+TimeCreated; XMP has no time",
    ),
    // Canon's CIFF (CRW-era) block embedded in a JPEG: no EXIF at all.
    (
        "exif-org/sony-powershota5.jpg",
        "make",
        "only in an embedded Canon CIFF block",
    ),
    (
        "exif-org/sony-powershota5.jpg",
        "model",
        "only in an embedded Canon CIFF block",
    ),
    (
        "exif-org/sony-powershota5.jpg",
        "taken_at",
        "only in an embedded Canon CIFF block",
    ),
    (
        "t/images/QuickTime.mov",
        "make",
        "only in Pentax's private udta `TAGS` atom",
    ),
    // JPEG XL size needs a bit-level SizeHeader decoder; not written yet.
    (
        "t/images/JXL.jxl",
        "size",
        "JPEG XL size header not decoded",
    ),
    (
        "jxl/8bit-sRGB.jxl",
        "size",
        "JPEG XL size header not decoded",
    ),
    // Two EXIF items; kamadak-exif takes the first, exiftool reports the other one first.
    (
        "heif_other/empty_icc.heic",
        "taken_at",
        "two Exif items, 2 s apart",
    ),
    // GPS written as 0/0 rationals (no fix): we report no position rather than 0,0.
    (
        "heif_other/spatial_photo.heic",
        "gps",
        "0/0 rationals mean no fix",
    ),
    // The Exif item is larger than kamadak-exif's 128 KiB HEIF limit.
    (
        "heif_special/xiaomi.heic",
        "make",
        "Exif item over kamadak-exif's HEIF size limit",
    ),
    (
        "heif_special/xiaomi.heic",
        "model",
        "Exif item over kamadak-exif's HEIF size limit",
    ),
    (
        "heif_special/xiaomi.heic",
        "orientation",
        "Exif item over kamadak-exif's HEIF size limit",
    ),
    (
        "heif_special/xiaomi.heic",
        "gps",
        "Exif item over kamadak-exif's HEIF size limit",
    ),
    (
        "heif_special/xiaomi.heic",
        "taken_at",
        "Exif item over kamadak-exif's HEIF size limit",
    ),
];
