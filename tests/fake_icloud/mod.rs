//! A fake iCloud on 127.0.0.1 for tests and the benchmark: a stateful server, not a replayer.
//! `IdMSA` with real SRP-6a verification (Apple's variant), the 2026 two-factor states (409,
//! explicit push trigger, trusted-device code, SMS), `2sv/trust`, `accountLogin`/`validate`
//! with cookies, and a CloudKit Photos library with the record shapes of the protocol notes,
//! a change feed with tombstones, signed expiring download URLs with `Range`, and faults.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]
// One handler per Apple host reads best as one match over its paths; SRP keeps RFC names.
#![allow(clippy::too_many_lines, clippy::many_single_char_names)]
// Photo flags mirror Apple's fields one to one; the feed merges three kinds of events.
#![allow(clippy::struct_excessive_bools, clippy::type_complexity)]

pub mod albums;
pub mod gaps;
pub mod srp;
pub mod tls;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use num_bigint::BigUint;
use serde_json::{Value, json};

/// "Dîner à Nice, été 2017" as a binary plist string.
pub const CAPTION_PLIST: &[u8] = include_bytes!("../fixtures/icloud/caption.bplist");
/// `["family", "Nice", "été", "a keyword longer than fifteen"]` as a binary plist array.
pub const KEYWORDS_PLIST: &[u8] = include_bytes!("../fixtures/icloud/keywords.bplist");

/// Where a fault fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    SigninInit,
    SigninComplete,
    AccountLogin,
    Zones,
    Query,
    Changes,
    Download,
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Plain HTTP 503.
    Status503,
    /// CloudKit `THROTTLED` (HTTP 503) with `retryAfter` seconds.
    Throttled(i64),
    /// CloudKit `ACCESS_DENIED`.
    AccessDenied,
    /// The download connection drops after this many bytes.
    Reset(u64),
}

/// Shapes of `filenameEnc` seen at Apple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameShape {
    Base64,
    Plain,
    Missing,
}

/// Bytes the fake serves, generated on the fly (a 10 000-asset library never sits in memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blob {
    pub seed: u64,
    pub len: u64,
    pub kind: BlobKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobKind {
    Jpeg,
    Mov,
    Raw,
}

#[derive(Debug, Clone)]
pub struct Photo {
    pub asset: String,
    pub master: String,
    pub name: String,
    pub name_shape: NameShape,
    /// `None` = field missing; `Some("")` = field without a value.
    pub item_type: Option<&'static str>,
    pub original: Blob,
    pub alt: Option<Blob>,
    pub live: Option<Blob>,
    pub edited: Option<Blob>,
    pub hidden: bool,
    pub deleted: bool,
    pub url_missing_in_listing: bool,
    pub date_ms: i64,
    /// `timeZoneOffset` in seconds.
    pub tz: i64,
    pub favorite: bool,
    /// `captionEnc` (base64 of UTF-8) when set.
    pub caption: Option<String>,
    /// `captionEnc` and `keywordsEnc` as Apple's binary plists (written by Python's plistlib:
    /// `tests/fixtures/icloud/*.bplist`), overriding `caption`.
    pub plist_notes: bool,
    /// `locationLatitude`/`locationLongitude` when set.
    pub place: Option<(f64, f64)>,
    pub version: u64,
    pub tag: u64,
}

#[derive(Debug, Default)]
pub struct Zone {
    pub name: String,
    pub version: u64,
    pub photos: BTreeMap<String, Photo>,
    /// (version, record name) of records gone for good.
    pub tombstones: Vec<(u64, String)>,
    /// User albums and folders by record name.
    pub albums: BTreeMap<String, albums::Album>,
}

impl Zone {
    fn token(&self) -> String {
        format!("HwoECJGn{:08}", self.version)
    }

    /// Newest first, as Apple's by-date index answers rank 0 ascending.
    fn view(&self, hidden: bool) -> Vec<&Photo> {
        let mut v: Vec<&Photo> = self
            .photos
            .values()
            .filter(|p| !p.deleted && p.hidden == hidden)
            .collect();
        v.sort_by(|a, b| b.date_ms.cmp(&a.date_ms).then(a.asset.cmp(&b.asset)));
        v
    }

    fn bump(&mut self) -> u64 {
        self.version += 1;
        self.version
    }
}

pub struct Account {
    pub apple_id: String,
    pub salt: Vec<u8>,
    pub iterations: u32,
    pub protocol: &'static str,
    pub verifier: BigUint,
    pub device_code: String,
    pub sms_code: String,
    pub trust_tokens: HashSet<String>,
    pub web_access: bool,
    /// `termsUpdateNeeded` in `accountLogin`.
    pub terms_update: bool,
    /// A trusted sign-in answers 412 until `repair/complete` is called.
    pub needs_repair: bool,
    pub domain_to_use: Option<String>,
    pub dsid: String,
    pub private: Vec<Zone>,
    pub shared: Vec<Zone>,
}

struct AuthSession {
    apple_id: String,
    verified: bool,
    pushed: bool,
    sms_sent: bool,
}

/// Everything the fake knows; tests reach in through [`Fake::world`].
#[derive(Default)]
pub struct World {
    pub accounts: HashMap<String, Account>,
    pending: HashMap<String, srp::Pending>,
    /// X-Apple-ID-Session-Id → sign-in in progress.
    auth_sessions: HashMap<String, AuthSession>,
    /// X-Apple-Session-Token → apple id, verified.
    session_tokens: HashMap<String, (String, bool)>,
    /// X-APPLE-WEBAUTH-TOKEN → apple id.
    pub web_tokens: HashMap<String, String>,
    pub faults: VecDeque<(Route, Fault)>,
    /// Requests by path (for "no-change sync sends at most three").
    pub requests: Vec<String>,
    pub signin_attempts: u64,
    pub code_attempts: u64,
    pub pushes: u64,
    /// Listing and change-feed URLs are issued already expired (lookups stay fresh).
    pub stale_listing_urls: bool,
    /// Bridge-type challenges: a right code is answered 409 with `securityCode.valid`.
    pub valid_code_as_409: bool,
    /// `repair/complete` calls seen.
    pub repairs: u64,
    /// Life of the `X-APPLE-WEBAUTH-USER` cookie (Apple's trust horizon), seconds; 0 = 30 days.
    pub trust_secs: i64,
    /// Per-connection download rate, bytes per second.
    pub bandwidth: Option<u64>,
    /// Root of the CloudKit database service advertised in `webservices`.
    pub base: String,
    /// Root of the download URLs (Apple's content host; the same server here).
    pub content_base: String,
    /// `Domain=` of the session cookies when serving under Apple's names (host-only otherwise).
    pub cookie_domain: Option<String>,
    pub jpeg_head: Vec<u8>,
    counter: u64,
}

impl World {
    fn fault(&mut self, route: Route) -> Option<Fault> {
        let i = self.faults.iter().position(|(r, _)| *r == route)?;
        self.faults.remove(i).map(|(_, f)| f)
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let mut r = [0u8; 8];
        getrandom::fill(&mut r).unwrap();
        format!(
            "{prefix}-{}-{}",
            self.counter,
            r.iter().fold(String::new(), |s, b| s + &format!("{b:02x}"))
        )
    }

    pub fn account(&mut self, apple_id: &str) -> &mut Account {
        self.accounts
            .get_mut(apple_id)
            .expect("no such fake account")
    }

    pub fn zone(&mut self, apple_id: &str, name: &str) -> &mut Zone {
        let a = self.account(apple_id);
        a.private
            .iter_mut()
            .chain(a.shared.iter_mut())
            .find(|z| z.name == name)
            .expect("no such zone")
    }

    /// Adds `n` photos with the field varieties of real libraries.
    pub fn populate(&mut self, apple_id: &str, zone: &str, n: u64, first: u64, blob_len: u64) {
        let tag =
            blake3::hash(format!("{apple_id}|{zone}").as_bytes()).to_hex()[..4].to_uppercase();
        for i in first..first + n {
            let mut p = self.make_photo(i, blob_len);
            p.asset = format!("{tag}{}", p.asset);
            p.master = format!("{tag}{}", p.master);
            let z = self.zone(apple_id, zone);
            let v = z.bump();
            p.version = v;
            z.photos.insert(p.asset.clone(), p);
        }
    }

    /// A photo with index `i`: names as base64, plain string or missing; item types present,
    /// missing or without value; Live Photos, RAW+JPEG, edited, hidden, videos, Unicode names,
    /// missing download URLs, spread over the index.
    pub fn make_photo(&self, i: u64, blob_len: u64) -> Photo {
        let video = i % 29 == 9;
        let name = if i % 5 == 1 {
            format!("Été 写真 {i:04}.JPG")
        } else if video {
            format!("IMG_{:04}.MOV", i % 10_000)
        } else {
            format!("IMG_{:04}.JPG", i % 10_000)
        };
        let name_shape = match i % 7 {
            0 => NameShape::Plain,
            1 if !video => NameShape::Missing,
            _ => NameShape::Base64,
        };
        let item_type = if i % 11 == 3 && !video {
            None
        } else if i % 13 == 4 && !video {
            Some("")
        } else if video {
            Some("com.apple.quicktime-movie")
        } else {
            Some("public.jpeg")
        };
        let len = blob_len + (i * 7919) % (blob_len / 2 + 1);
        Photo {
            asset: format!(
                "AS{i:06}-{:08X}",
                i.wrapping_mul(2_654_435_761) % 0xFFFF_FFFF
            ),
            master: format!("Ma{i:06}/{:06X}+x", i.wrapping_mul(40_503) % 0xFF_FFFF),
            name,
            name_shape,
            item_type,
            original: Blob {
                seed: i * 4 + 1,
                len,
                kind: if video { BlobKind::Mov } else { BlobKind::Jpeg },
            },
            alt: (i % 17 == 6 && !video).then_some(Blob {
                seed: i * 4 + 2,
                len: len * 2,
                kind: BlobKind::Raw,
            }),
            live: (i % 10 == 5 && !video).then_some(Blob {
                seed: i * 4 + 3,
                len: len / 2 + 100,
                kind: BlobKind::Mov,
            }),
            edited: (i % 9 == 2 && !video).then_some(Blob {
                seed: 1_000_000_000 + i,
                len: len / 2 + 100,
                kind: BlobKind::Jpeg,
            }),
            hidden: i % 19 == 7,
            deleted: false,
            url_missing_in_listing: i % 23 == 8,
            date_ms: 1_500_000_000_000 + i.cast_signed() * 60_000,
            tz: 7200,
            favorite: i % 8 == 3,
            caption: None,
            plist_notes: i % 12 == 5,
            place: (i % 6 == 4).then_some((48.8584 + i as f64 / 1000.0, 2.2945)),
            version: 0,
            tag: 1,
        }
    }

    pub fn change(&mut self, apple_id: &str, zone: &str, asset: &str, f: impl FnOnce(&mut Photo)) {
        let z = self.zone(apple_id, zone);
        let v = z.bump();
        let p = z.photos.get_mut(asset).expect("no such asset");
        f(p);
        p.version = v;
        p.tag += 1;
    }

    /// An edit on a device: a new rendering on the asset.
    pub fn edit(&mut self, apple_id: &str, zone: &str, asset: &str, seed: u64) {
        self.change(apple_id, zone, asset, |p| {
            p.edited = Some(Blob {
                seed,
                len: 3000 + seed % 1000,
                kind: BlobKind::Jpeg,
            });
        });
    }

    /// Moved to Recently Deleted.
    pub fn delete(&mut self, apple_id: &str, zone: &str, asset: &str) {
        self.change(apple_id, zone, asset, |p| p.deleted = true);
    }

    /// Back from Recently Deleted.
    pub fn undelete(&mut self, apple_id: &str, zone: &str, asset: &str) {
        self.change(apple_id, zone, asset, |p| p.deleted = false);
    }

    /// Gone for good: tombstones for asset and master.
    pub fn expunge(&mut self, apple_id: &str, zone: &str, asset: &str) {
        let z = self.zone(apple_id, zone);
        let v = z.bump();
        let p = z.photos.remove(asset).expect("no such asset");
        z.tombstones.push((v, p.asset));
        z.tombstones.push((v, p.master));
    }

    /// All asset record names of a zone, sorted.
    pub fn assets(&mut self, apple_id: &str, zone: &str) -> Vec<String> {
        self.zone(apple_id, zone).photos.keys().cloned().collect()
    }

    /// The bytes of a blob (for tests comparing what was stored).
    pub fn bytes(&self, blob: Blob) -> Vec<u8> {
        let mut out = Vec::new();
        blob_bytes(&self.jpeg_head, blob, 0, blob.len, &mut out);
        out
    }

    // ---- record shapes ----

    fn url(&mut self, blob: Blob, fresh: bool) -> String {
        let now = chrono::Utc::now().timestamp();
        let e = if fresh || !self.stale_listing_urls {
            now + 6 * 3600
        } else {
            now - 60
        };
        let kind = match blob.kind {
            BlobKind::Jpeg => "j",
            BlobKind::Mov => "m",
            BlobKind::Raw => "r",
        };
        format!(
            "{}/B/{kind}{}x{}/${{f}}?o=AtUe&v=1&x=3&a=CAog&e={e}&k=wrap&fl=&r=r-1&ckc=com.apple.photos.cloud&ckz=PrimarySync&y=1&p=61&s=sig",
            self.content_base, blob.seed, blob.len
        )
    }

    fn res(&mut self, blob: Blob, fresh: bool, with_url: bool) -> Value {
        // Apple's shape: base64 of 21 bytes, the first a type byte (so it reads "A…" or "B…").
        let mut sum = [0u8; 21];
        sum.copy_from_slice(&blake3::hash(&blob.seed.to_le_bytes()).as_bytes()[..21]);
        sum[0] = 1;
        let mut v = json!({"size": blob.len, "fileChecksum": B64.encode(sum),
            "wrappingKey": "d3JhcA==", "referenceChecksum": "AQ=="});
        if with_url {
            v["downloadURL"] = json!(self.url(blob, fresh));
        }
        json!({"value": v, "type": "ASSETID"})
    }

    fn master_record(&mut self, p: &Photo, zone: &str, fresh: bool) -> Value {
        let mut f = serde_json::Map::new();
        match p.name_shape {
            NameShape::Base64 => {
                f.insert(
                    "filenameEnc".into(),
                    json!({"value": B64.encode(p.name.as_bytes()), "type": "ENCRYPTED_BYTES"}),
                );
            }
            NameShape::Plain => {
                f.insert(
                    "filenameEnc".into(),
                    json!({"value": p.name, "type": "STRING"}),
                );
            }
            NameShape::Missing => {}
        }
        match p.item_type {
            Some("") => {
                f.insert("itemType".into(), json!({"type": "STRING"}));
            }
            Some(t) => {
                f.insert("itemType".into(), json!({"value": t, "type": "STRING"}));
            }
            None => {}
        }
        let with_url = fresh || !p.url_missing_in_listing;
        let (orig, alt) = match p.alt {
            // RAW+JPEG where Apple put the RAW as the original.
            Some(alt) if p.original.seed % 2 == 1 && p.original.seed % 8 == 5 => {
                (alt, Some(p.original))
            }
            other => (p.original, other),
        };
        f.insert("resOriginalRes".into(), self.res(orig, fresh, with_url));
        f.insert(
            "resOriginalFileType".into(),
            json!({"value": uti(orig.kind), "type": "STRING"}),
        );
        f.insert(
            "resOriginalWidth".into(),
            json!({"value": 4032, "type": "INT64"}),
        );
        f.insert(
            "resOriginalHeight".into(),
            json!({"value": 3024, "type": "INT64"}),
        );
        if let Some(alt) = alt {
            f.insert("resOriginalAltRes".into(), self.res(alt, fresh, true));
            f.insert(
                "resOriginalAltFileType".into(),
                json!({"value": uti(alt.kind), "type": "STRING"}),
            );
        }
        if let Some(live) = p.live {
            f.insert("resOriginalVidComplRes".into(), self.res(live, fresh, true));
            f.insert(
                "resOriginalVidComplFileType".into(),
                json!({"value": "com.apple.quicktime-movie", "type": "STRING"}),
            );
        }
        f.insert("dataClassType".into(), json!({"value": 1, "type": "INT64"}));
        json!({"recordName": p.master, "recordType": "CPLMaster", "recordChangeTag": format!("m{}", p.tag),
            "fields": f, "created": {"timestamp": p.date_ms, "userRecordName": "_owner", "deviceID": "D"},
            "modified": {"timestamp": p.date_ms}, "deleted": false,
            "zoneID": {"zoneName": zone, "ownerRecordName": "_owner", "zoneType": "REGULAR_CUSTOM_ZONE"}})
    }

    fn asset_record(&mut self, p: &Photo, zone: &str, fresh: bool) -> Value {
        let mut f = serde_json::Map::new();
        f.insert(
            "masterRef".into(),
            json!({"value": {"recordName": p.master, "action": "DELETE_SELF",
                "zoneID": {"zoneName": zone, "ownerRecordName": "_owner", "zoneType": "REGULAR_CUSTOM_ZONE"}},
                "type": "REFERENCE"}),
        );
        f.insert(
            "assetDate".into(),
            json!({"value": p.date_ms, "type": "TIMESTAMP"}),
        );
        f.insert(
            "addedDate".into(),
            json!({"value": p.date_ms + 5000, "type": "TIMESTAMP"}),
        );
        f.insert(
            "timeZoneOffset".into(),
            json!({"value": p.tz, "type": "INT64"}),
        );
        if p.plist_notes {
            for (field, plist) in [
                ("captionEnc", CAPTION_PLIST),
                ("keywordsEnc", KEYWORDS_PLIST),
            ] {
                f.insert(
                    field.into(),
                    json!({"value": B64.encode(plist), "type": "ENCRYPTED_BYTES"}),
                );
            }
        } else if let Some(c) = &p.caption {
            f.insert(
                "captionEnc".into(),
                json!({"value": B64.encode(c.as_bytes()), "type": "ENCRYPTED_BYTES"}),
            );
        }
        if let Some((lat, lon)) = p.place {
            f.insert(
                "locationLatitude".into(),
                json!({"value": lat, "type": "DOUBLE"}),
            );
            f.insert(
                "locationLongitude".into(),
                json!({"value": lon, "type": "DOUBLE"}),
            );
        }
        f.insert(
            "isHidden".into(),
            json!({"value": i64::from(p.hidden), "type": "INT64"}),
        );
        f.insert(
            "isDeleted".into(),
            json!({"value": i64::from(p.deleted), "type": "INT64"}),
        );
        f.insert(
            "isFavorite".into(),
            json!({"value": i64::from(p.favorite), "type": "INT64"}),
        );
        if let Some(e) = p.edited {
            f.insert("resJPEGFullRes".into(), self.res(e, fresh, true));
            f.insert(
                "resJPEGFullFileType".into(),
                json!({"value": "public.jpeg", "type": "STRING"}),
            );
            f.insert(
                "adjustmentType".into(),
                json!({"value": "com.apple.photo", "type": "STRING"}),
            );
        }
        json!({"recordName": p.asset, "recordType": "CPLAsset", "recordChangeTag": format!("a{}", p.tag),
            "fields": f, "deleted": false,
            "zoneID": {"zoneName": zone, "ownerRecordName": "_owner", "zoneType": "REGULAR_CUSTOM_ZONE"}})
    }
}

fn uti(kind: BlobKind) -> &'static str {
    match kind {
        BlobKind::Jpeg => "public.jpeg",
        BlobKind::Mov => "com.apple.quicktime-movie",
        BlobKind::Raw => "com.olympus.raw-image",
    }
}

/// Bytes `from..to` of a blob: a real JPEG header and noise scan data, a QuickTime `ftyp` +
/// `mdat`, or an ORF-style RAW header and noise.
fn blob_bytes(jpeg_head: &[u8], blob: Blob, from: u64, to: u64, out: &mut Vec<u8>) {
    let head: Vec<u8> = match blob.kind {
        BlobKind::Jpeg => jpeg_head.to_vec(),
        BlobKind::Mov => {
            let mut h = vec![0, 0, 0, 20];
            h.extend_from_slice(b"ftypqt  \0\0\0\0qt  ");
            let mdat = u32::try_from(blob.len.saturating_sub(20)).unwrap_or(u32::MAX);
            h.extend_from_slice(&mdat.to_be_bytes());
            h.extend_from_slice(b"mdat");
            h
        }
        BlobKind::Raw => b"IIRO\x08\0\0\0".to_vec(),
    };
    let tail: &[u8] = if blob.kind == BlobKind::Jpeg {
        &[0xFF, 0xD9]
    } else {
        &[]
    };
    let hl = head.len() as u64;
    let body_end = blob.len - tail.len() as u64;
    let mut hasher = blake3::Hasher::new();
    hasher.update(&blob.seed.to_le_bytes());
    let mut xof = hasher.finalize_xof();
    let mut pos = from;
    while pos < to {
        if pos < hl {
            let end = to.min(hl);
            out.extend_from_slice(&head[pos as usize..end as usize]);
            pos = end;
        } else if pos < body_end {
            let end = to.min(body_end);
            xof.set_position(pos - hl);
            let start = out.len();
            out.resize(start + (end - pos) as usize, 0);
            xof.fill(&mut out[start..]);
            if blob.kind == BlobKind::Jpeg {
                for b in &mut out[start..] {
                    if *b == 0xFF {
                        *b = 0xFE;
                    }
                }
            }
            pos = end;
        } else {
            let i = (pos - body_end) as usize;
            out.push(tail[i]);
            pos += 1;
        }
    }
}

/// A running fake.
pub struct Fake {
    pub addr: SocketAddr,
    pub world: Arc<Mutex<World>>,
    _thread: std::thread::JoinHandle<()>,
}

impl Fake {
    /// Starts on a free port of 127.0.0.1.
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        Self::start_on(listener, None, base.clone(), base, None)
    }

    /// Starts on `addr` (127.0.0.1:443 for clients with hard-coded hosts) over TLS, under
    /// Apple's host names ([`tls::HOSTS`], which the caller maps to 127.0.0.1), with cookies
    /// for `.icloud.com`. Returns the fake and the PEM of the CA that signed its certificate.
    pub fn start_tls(addr: &str) -> (Self, String) {
        let listener = std::net::TcpListener::bind(addr).unwrap();
        let (ca, config) = tls::make_certs();
        let fake = Self::start_on(
            listener,
            Some(config),
            format!("https://{}:443", tls::CK_HOST),
            format!("https://{}", tls::CONTENT_HOST),
            Some(".icloud.com".into()),
        );
        (fake, ca)
    }

    fn start_on(
        listener: std::net::TcpListener,
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
        base: String,
        content_base: String,
        cookie_domain: Option<String>,
    ) -> Self {
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let photo = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media/photo.jpg"),
        )
        .unwrap();
        let sos = photo.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let mut head = photo[..sos].to_vec();
        head.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
        let world = Arc::new(Mutex::new(World {
            base,
            content_base,
            cookie_domain,
            jpeg_head: head,
            ..World::default()
        }));
        let w = Arc::clone(&world);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = Router::new()
                    .route("/appleauth/auth", any(auth))
                    .route("/appleauth/auth/{*rest}", any(auth))
                    .route("/setup/ws/1/{*rest}", any(setup))
                    .route(
                        "/database/1/com.apple.photos.cloud/production/{db}/{*rest}",
                        any(cloudkit),
                    )
                    .route("/B/{token}/{*f}", any(download))
                    .route("/_fake/requests", any(requests))
                    .with_state(w);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                if let Some(config) = tls {
                    tls::serve(listener, config, app).await;
                    return;
                }
                // No Nagle: a throttled stream of small writes must not wait for delayed ACKs.
                let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                    tcp.set_nodelay(true).ok();
                });
                axum::serve(listener, app).await.unwrap();
            });
        });
        Self {
            addr,
            world,
            _thread: thread,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment that points shoebox at this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "SHOEBOX_ICLOUD_AUTH_URL",
                format!("{}/appleauth/auth", self.url()),
            ),
            (
                "SHOEBOX_ICLOUD_SETUP_URL",
                format!("{}/setup/ws/1", self.url()),
            ),
            ("SHOEBOX_ICLOUD_HOME_URL", self.url()),
        ]
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// An HSA2 account with a primary zone and a shared-library zone.
    pub fn add_account(&self, apple_id: &str, password: &str, protocol: &'static str) {
        let mut salt = vec![0u8; 16];
        getrandom::fill(&mut salt).unwrap();
        let iterations = 1000 + u32::from(salt[0]) * 7;
        let verifier = srp::verifier(password, &salt, iterations, protocol);
        let mut w = self.world();
        let n = w.accounts.len();
        w.accounts.insert(
            apple_id.to_string(),
            Account {
                apple_id: apple_id.to_string(),
                salt,
                iterations,
                protocol,
                verifier,
                device_code: "424242".into(),
                sms_code: "135790".into(),
                trust_tokens: HashSet::new(),
                web_access: true,
                terms_update: false,
                needs_repair: false,
                domain_to_use: None,
                dsid: format!("1234567890{n}"),
                private: vec![Zone {
                    name: "PrimarySync".into(),
                    version: 1,
                    ..Zone::default()
                }],
                shared: vec![Zone {
                    name: format!("SharedSync-{n:04}ABCD-1111-2222-3333-444455556666"),
                    version: 1,
                    ..Zone::default()
                }],
            },
        );
    }
}

/// For scripts: how many requests the fake saw (`?clear=1` resets the count, `?list=1` adds
/// how many went to each route).
async fn requests(State(w): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut w = w.lock().unwrap();
    let n = w.requests.len();
    let mut body = json!({"requests": n});
    if q.contains_key("list") {
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        for r in &w.requests {
            // Download tokens name the blob; the route is what matters.
            let route = r
                .split_once("content/")
                .map_or_else(|| r.clone(), |(m, _)| format!("{m}content"));
            *by.entry(route).or_default() += 1;
        }
        body["by_route"] = json!(by);
    }
    if q.contains_key("clear") {
        w.requests.clear();
    }
    json_resp(200, &body)
}

fn hval(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn cookie(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn json_resp(status: u16, v: &Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn fault_response(f: &Fault) -> Response {
    match f {
        Fault::Status503 => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Temporarily Unavailable",
        )
            .into_response(),
        Fault::Throttled(s) => json_resp(
            503,
            &json!({"uuid": "u", "serverErrorCode": "THROTTLED", "reason": "Throttled", "retryAfter": s}),
        ),
        Fault::AccessDenied => json_resp(
            403,
            &json!({"uuid": "u", "serverErrorCode": "ACCESS_DENIED", "reason": "private db access disabled for this account"}),
        ),
        Fault::Reset(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

type Shared = State<Arc<Mutex<World>>>;

async fn auth(
    State(w): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches("/appleauth/auth").to_string();
    let mut w = w.lock().unwrap();
    w.requests.push(format!("{method} auth{path}"));
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let sid = hval(&headers, "x-apple-id-session-id").unwrap_or_default();
    match (method.as_str(), path.as_str()) {
        ("POST", "/signin/init") => {
            if let Some(f) = w.fault(Route::SigninInit) {
                return fault_response(&f);
            }
            let name = body["accountName"].as_str().unwrap_or_default().to_string();
            let a = B64
                .decode(body["a"].as_str().unwrap_or_default())
                .unwrap_or_default();
            let Some(acct) = w.accounts.get(&name) else {
                return json_resp(400, &json!({"serviceErrors": [{"code": "-20101"}]}));
            };
            let (salt, it, proto) = (acct.salt.clone(), acct.iterations, acct.protocol);
            let (b, big_b) = srp::server_public(&acct.verifier);
            let c = w.next_id("c");
            let sid = w.next_id("sid");
            w.pending.insert(
                c.clone(),
                srp::Pending {
                    account: name,
                    a: BigUint::from_bytes_be(&a),
                    b,
                    big_b: big_b.clone(),
                },
            );
            let mut r = json_resp(
                200,
                &json!({"iteration": it, "salt": B64.encode(&salt), "protocol": proto,
                    "b": B64.encode(big_b.to_bytes_be()), "c": c}),
            );
            r.headers_mut().insert("scnt", "scnt-1".parse().unwrap());
            r.headers_mut()
                .insert("x-apple-id-session-id", sid.parse().unwrap());
            r
        }
        ("POST", "/signin/complete") => {
            w.signin_attempts += 1;
            if let Some(f) = w.fault(Route::SigninComplete) {
                return fault_response(&f);
            }
            let c = body["c"].as_str().unwrap_or_default();
            let Some(p) = w.pending.remove(c) else {
                return json_resp(400, &json!({"serviceErrors": [{"code": "-20209"}]}));
            };
            let acct = &w.accounts[&p.account];
            let m1 = B64
                .decode(body["m1"].as_str().unwrap_or_default())
                .unwrap_or_default();
            let m2 = B64
                .decode(body["m2"].as_str().unwrap_or_default())
                .unwrap_or_default();
            if body["accountName"].as_str() != Some(p.account.as_str())
                || !srp::check(&p, &acct.verifier, &acct.salt, &m1, &m2)
            {
                let mut r = json_resp(
                    401,
                    &json!({"serviceErrors": [{"code": "-20101", "message": "Your Apple ID or password was incorrect."}]}),
                );
                r.headers_mut()
                    .insert("x-apple-i-rscd", "401".parse().unwrap());
                return r;
            }
            let trusted = body["trustTokens"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|t| acct.trust_tokens.contains(t));
            let repair = trusted && acct.needs_repair;
            let apple_id = p.account.clone();
            let token = w.next_id("st");
            w.session_tokens
                .insert(token.clone(), (apple_id.clone(), trusted));
            w.auth_sessions.insert(
                sid.clone(),
                AuthSession {
                    apple_id,
                    verified: trusted,
                    pushed: false,
                    sms_sent: false,
                },
            );
            let mut r = if repair {
                json_resp(412, &json!({"serviceErrors": [{"code": "-20283"}]}))
            } else if trusted {
                json_resp(200, &json!({}))
            } else {
                json_resp(409, &json!({"authType": "hsa2"}))
            };
            let h = r.headers_mut();
            h.insert("x-apple-session-token", token.parse().unwrap());
            h.insert("x-apple-id-account-country", "USA".parse().unwrap());
            h.insert("x-apple-twosv-trust-eligible", "true".parse().unwrap());
            h.insert("scnt", "scnt-2".parse().unwrap());
            r
        }
        ("GET", "") => {
            if !w.auth_sessions.contains_key(&sid) {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            let boot = json!({"direct": {"twoSV": {"phoneNumberVerification": {
                "trustedPhoneNumbers": [{"id": 1, "obfuscatedNumber": "(•••) •••-••58", "numberWithDialCode": "+1 (•••) •••-••58", "pushMode": "sms", "lastTwoDigits": "58"}],
                "securityCode": {"length": 6, "tooManyCodesSent": false}},
                "authInitialRoute": "auth/verify/trusteddevice"}}});
            (
                StatusCode::OK,
                [("content-type", "text/html")],
                format!("<html><head><script type=\"application/json\" class=\"boot_args\">{boot}</script></head></html>"),
            )
                .into_response()
        }
        ("POST", "/repair/complete") => {
            let Some(s) = w.auth_sessions.get(&sid) else {
                return StatusCode::UNAUTHORIZED.into_response();
            };
            let apple_id = s.apple_id.clone();
            w.account(&apple_id).needs_repair = false;
            w.repairs += 1;
            StatusCode::NO_CONTENT.into_response()
        }
        ("PUT", "/verify/trusteddevice/securitycode") => {
            w.pushes += 1;
            match w.auth_sessions.get_mut(&sid) {
                Some(s) => {
                    s.pushed = true;
                    StatusCode::ACCEPTED.into_response()
                }
                None => StatusCode::UNAUTHORIZED.into_response(),
            }
        }
        ("POST", "/verify/trusteddevice/securitycode" | "/verify/phone/securitycode") => {
            w.code_attempts += 1;
            let sms = path.contains("phone");
            let code = body["securityCode"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let Some(s) = w.auth_sessions.get(&sid) else {
                return StatusCode::UNAUTHORIZED.into_response();
            };
            let acct = &w.accounts[&s.apple_id];
            let ok = if sms {
                s.sms_sent && code == acct.sms_code
            } else {
                // The code only exists once the push was asked for (2026 behaviour).
                s.pushed && code == acct.device_code
            };
            if !ok {
                return json_resp(
                    400,
                    &json!({"service_errors": [{"code": "-21669", "message": "Incorrect verification code."}]}),
                );
            }
            w.auth_sessions.get_mut(&sid).unwrap().verified = true;
            if w.valid_code_as_409 {
                json_resp(409, &json!({"securityCode": {"valid": true}}))
            } else if sms {
                json_resp(200, &json!({"securityCode": {"valid": true}}))
            } else {
                StatusCode::NO_CONTENT.into_response()
            }
        }
        ("PUT", "/verify/phone") => match w.auth_sessions.get_mut(&sid) {
            Some(s) => {
                s.sms_sent = true;
                json_resp(200, &json!({"trustedPhoneNumber": {"id": 1}}))
            }
            None => StatusCode::UNAUTHORIZED.into_response(),
        },
        ("GET", "/2sv/trust") => {
            let Some(s) = w.auth_sessions.get(&sid) else {
                return StatusCode::UNAUTHORIZED.into_response();
            };
            if !s.verified {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            let apple_id = s.apple_id.clone();
            let trust = w.next_id("trust");
            let token = w.next_id("st");
            w.account(&apple_id).trust_tokens.insert(trust.clone());
            w.session_tokens.insert(token.clone(), (apple_id, true));
            let mut r = StatusCode::NO_CONTENT.into_response();
            r.headers_mut()
                .insert("x-apple-twosv-trust-token", trust.parse().unwrap());
            r.headers_mut()
                .insert("x-apple-session-token", token.parse().unwrap());
            r
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn account_json(w: &World, apple_id: &str, trusted: bool) -> Value {
    let a = &w.accounts[apple_id];
    json!({
        "dsInfo": {"dsid": a.dsid, "hsaVersion": 2, "hasICloudQualifyingDevice": true,
            "isWebAccessAllowed": a.web_access, "appleId": apple_id, "fullName": "Test Person"},
        "webservices": {
            "ckdatabasews": {"url": w.base, "status": "active", "pcsRequired": true},
            "photos": {"url": "https://p61-photosws.icloud.com:443", "status": "active"},
            "schoolwork": {},
        },
        "hsaTrustedBrowser": trusted, "hsaChallengeRequired": !trusted,
        "isExtendedLogin": true, "pcsEnabled": true, "termsUpdateNeeded": a.terms_update,
        "configBag": {"urls": {}},
    })
}

async fn setup(
    State(w): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches("/setup/ws/1").to_string();
    let mut w = w.lock().unwrap();
    w.requests.push(format!("{method} setup{path}"));
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match path.as_str() {
        "/accountLogin" => {
            if let Some(f) = w.fault(Route::AccountLogin) {
                return fault_response(&f);
            }
            let token = body["dsWebAuthToken"].as_str().unwrap_or_default();
            let Some((apple_id, verified)) = w.session_tokens.get(token).cloned() else {
                return json_resp(
                    421,
                    &json!({"error": "Missing X-APPLE-WEBAUTH-TOKEN cookie"}),
                );
            };
            if w.accounts[&apple_id].needs_repair {
                return json_resp(421, &json!({"error": "repair not completed"}));
            }
            if let Some(d) = &w.accounts[&apple_id].domain_to_use {
                return json_resp(200, &json!({"domainToUse": d}));
            }
            let mut r = json_resp(200, &account_json(&w, &apple_id, verified));
            if verified {
                let web = w.next_id("wt");
                w.web_tokens.insert(web.clone(), apple_id.clone());
                let dsid = w.accounts[&apple_id].dsid.clone();
                let life = if w.trust_secs > 0 {
                    w.trust_secs
                } else {
                    2_592_000
                };
                let domain = w
                    .cookie_domain
                    .as_ref()
                    .map(|d| format!("; Domain={d}; Secure"))
                    .unwrap_or_default();
                let h = r.headers_mut();
                for c in [
                    format!("X-APPLE-WEBAUTH-TOKEN=\"{web}\"; Max-Age=2592000; Path=/; HttpOnly"),
                    format!("X-APPLE-WEBAUTH-USER=\"v=1:s=1:d={dsid}\"; Max-Age={life}; Path=/"),
                    "X-APPLE-DS-WEB-SESSION-TOKEN=\"ds\"; Max-Age=2592000; Path=/".to_string(),
                ] {
                    h.append("set-cookie", format!("{c}{domain}").parse().unwrap());
                }
            }
            r
        }
        "/validate" => {
            let apple_id = cookie(&headers, "X-APPLE-WEBAUTH-TOKEN")
                .and_then(|t| w.web_tokens.get(t.trim_matches('"')).cloned());
            match apple_id {
                Some(id) => json_resp(200, &account_json(&w, &id, true)),
                None => json_resp(
                    421,
                    &json!({"error": "Missing X-APPLE-WEBAUTH-TOKEN cookie"}),
                ),
            }
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn cloudkit(
    State(w): Shared,
    Path((db, rest)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut w = w.lock().unwrap();
    w.requests.push(format!("POST ck/{db}/{rest}"));
    let Some(apple_id) = cookie(&headers, "X-APPLE-WEBAUTH-TOKEN")
        .and_then(|t| w.web_tokens.get(t.trim_matches('"')).cloned())
    else {
        return json_resp(
            401,
            &json!({"serverErrorCode": "AUTHENTICATION_REQUIRED", "reason": "no session"}),
        );
    };
    let route = match rest.as_str() {
        "zones/list" => Route::Zones,
        "changes/zone" => Route::Changes,
        _ => Route::Query,
    };
    if let Some(f) = w.fault(route) {
        return fault_response(&f);
    }
    if !w.accounts[&apple_id].web_access {
        return fault_response(&Fault::AccessDenied);
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let shared = db == "shared";
    let zone_name = body["zoneID"]["zoneName"]
        .as_str()
        .or_else(|| body["zones"][0]["zoneID"]["zoneName"].as_str())
        .or_else(|| body["batch"][0]["zoneID"]["zoneName"].as_str())
        .unwrap_or("PrimarySync")
        .to_string();
    match rest.as_str() {
        "zones/list" => {
            let a = &w.accounts[&apple_id];
            let zones = if shared { &a.shared } else { &a.private };
            let list: Vec<Value> = zones
                .iter()
                .map(|z| json!({"zoneID": {"zoneName": z.name, "ownerRecordName": "_owner", "zoneType": "REGULAR_CUSTOM_ZONE"},
                    "syncToken": z.token(), "atomic": true}))
                .collect();
            json_resp(200, &json!({"zones": list}))
        }
        "records/query" => {
            let rtype = body["query"]["recordType"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if let Some(v) = albums::query(&mut w, &apple_id, &zone_name, &body) {
                return json_resp(200, &v);
            }
            if rtype == "CheckIndexingState" {
                return json_resp(
                    200,
                    &json!({"records": [{"recordName": "_", "recordType": "CheckIndexingState",
                    "fields": {"state": {"value": "FINISHED", "type": "STRING"}, "progress": {"value": 100, "type": "INT64"}}}]}),
                );
            }
            let hidden = match rtype.as_str() {
                "CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted" => false,
                "CPLAssetAndMasterHiddenByAssetDate" => true,
                _ => {
                    return json_resp(
                        400,
                        &json!({"serverErrorCode": "BAD_REQUEST", "reason": "unknown query"}),
                    );
                }
            };
            let filters = body["query"]["filterBy"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let rank = filters
                .iter()
                .find(|f| f["fieldName"] == "startRank")
                .and_then(|f| f["fieldValue"]["value"].as_u64())
                .unwrap_or(0) as usize;
            let limit = (body["resultsLimit"].as_u64().unwrap_or(200) / 2) as usize;
            let page: Vec<Photo> = {
                let z = w.zone(&apple_id, &zone_name);
                z.view(hidden)
                    .into_iter()
                    .skip(rank)
                    .take(limit)
                    .cloned()
                    .collect()
            };
            let token = w.zone(&apple_id, &zone_name).token();
            let mut records = Vec::new();
            for p in &page {
                records.push(w.master_record(p, &zone_name, false));
                records.push(w.asset_record(p, &zone_name, false));
            }
            json_resp(200, &json!({"records": records, "syncToken": token}))
        }
        "internal/records/query/batch" => {
            let z = w.zone(&apple_id, &zone_name);
            let all = z.view(false);
            let videos = all
                .iter()
                .filter(|p| p.original.kind == BlobKind::Mov)
                .count();
            let hidden = z.view(true).len();
            let deleted = z.photos.values().filter(|p| p.deleted).count();
            let counts = [all.len(), videos, hidden, deleted];
            let batch: Vec<Value> = counts
                .iter()
                .map(|n| {
                    json!({"records": [{"recordName": "c", "recordType": "HyperionIndexCountLookup",
                    "fields": {"itemCount": {"value": n, "type": "INT64"}}}]})
                })
                .collect();
            json_resp(200, &json!({"batch": batch}))
        }
        "changes/zone" => {
            let since = body["zones"][0]["syncToken"]
                .as_str()
                .and_then(|t| t.trim_start_matches("HwoECJGn").parse::<u64>().ok())
                .unwrap_or(0);
            let limit = body["resultsLimit"].as_u64().unwrap_or(200) as usize;
            let (mut changed, tombs, version, album_events): (
                Vec<Photo>,
                Vec<(u64, String)>,
                u64,
                Vec<(u64, Value)>,
            ) = {
                let z = w.zone(&apple_id, &zone_name);
                (
                    z.photos
                        .values()
                        .filter(|p| p.version > since)
                        .cloned()
                        .collect(),
                    z.tombstones
                        .iter()
                        .filter(|(v, _)| *v > since)
                        .cloned()
                        .collect(),
                    z.version,
                    albums::feed(z, &zone_name, since),
                )
            };
            changed.sort_by_key(|p| p.version);
            // Items ordered by version; a page ends on a version boundary.
            let mut events: Vec<(u64, Option<Photo>, Option<String>, Option<Value>)> = changed
                .into_iter()
                .map(|p| (p.version, Some(p), None, None))
                .chain(tombs.into_iter().map(|(v, n)| (v, None, Some(n), None)))
                .chain(
                    album_events
                        .into_iter()
                        .map(|(v, r)| (v, None, None, Some(r))),
                )
                .collect();
            events.sort_by_key(|e| e.0);
            let more = events.len() > limit;
            let mut cut = events.len().min(limit);
            while more && cut > 0 && cut < events.len() && events[cut - 1].0 == events[cut].0 {
                cut -= 1;
            }
            let page = &events[..cut];
            let token = if more {
                page.last().map_or(since, |e| e.0)
            } else {
                version
            };
            let mut records = Vec::new();
            for (_, p, tomb, album) in page {
                if let Some(r) = album {
                    records.push(r.clone());
                }
                if let Some(p) = p {
                    records.push(w.master_record(p, &zone_name, false));
                    records.push(w.asset_record(p, &zone_name, false));
                }
                if let Some(n) = tomb {
                    records.push(json!({"recordName": n, "deleted": true}));
                }
            }
            json_resp(
                200,
                &json!({"zones": [{"zoneID": {"zoneName": zone_name, "ownerRecordName": "_owner", "zoneType": "REGULAR_CUSTOM_ZONE"},
                "syncToken": format!("HwoECJGn{token:08}"), "moreComing": more, "records": records}]}),
            )
        }
        "records/lookup" => {
            let names: Vec<String> = body["records"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["recordName"].as_str().map(str::to_string))
                .collect();
            let photos: Vec<Photo> = w
                .zone(&apple_id, &zone_name)
                .photos
                .values()
                .cloned()
                .collect();
            let mut records = Vec::new();
            for n in names {
                if let Some(p) = photos.iter().find(|p| p.master == n) {
                    records.push(w.master_record(p, &zone_name, true));
                } else if let Some(p) = photos.iter().find(|p| p.asset == n) {
                    records.push(w.asset_record(p, &zone_name, true));
                } else {
                    records.push(json!({"recordName": n, "serverErrorCode": "NOT_FOUND"}));
                }
            }
            json_resp(200, &json!({"records": records}))
        }
        _ => json_resp(
            400,
            &json!({"serverErrorCode": "BAD_REQUEST", "reason": rest}),
        ),
    }
}

async fn download(
    State(w): Shared,
    Path((token, _f)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let (head, fault, bandwidth) = {
        let mut w = w.lock().unwrap();
        w.requests.push(format!("GET content/{token}"));
        (w.jpeg_head.clone(), w.fault(Route::Download), w.bandwidth)
    };
    let expiry = q.get("e").and_then(|e| e.parse::<i64>().ok()).unwrap_or(0);
    if expiry < chrono::Utc::now().timestamp() {
        return (StatusCode::GONE, "expired").into_response();
    }
    let kind = match token.chars().next() {
        Some('j') => BlobKind::Jpeg,
        Some('m') => BlobKind::Mov,
        Some('r') => BlobKind::Raw,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let Some((seed, len)) = token[1..]
        .split_once('x')
        .and_then(|(s, l)| Some((s.parse::<u64>().ok()?, l.parse::<u64>().ok()?)))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let blob = Blob { seed, len, kind };
    if let Some(f @ (Fault::Status503 | Fault::Throttled(_) | Fault::AccessDenied)) = &fault {
        return fault_response(f);
    }
    let from = hval(&headers, "range")
        .and_then(|r| r.strip_prefix("bytes=").map(str::to_string))
        .and_then(|r| r.trim_end_matches('-').parse::<u64>().ok())
        .unwrap_or(0);
    if from >= len {
        return (StatusCode::RANGE_NOT_SATISFIABLE, "").into_response();
    }
    let reset = match fault {
        Some(Fault::Reset(n)) => Some(from + n),
        _ => None,
    };
    let status = if from > 0 {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let stream = async_stream(head, blob, from, reset, bandwidth);
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "application/octet-stream")
        .header("accept-ranges", "bytes")
        .header("content-length", (len - from).to_string())
        .header("content-disposition", "attachment; filename=\"%24%7Bf%7D\"");
    if from > 0 {
        r = r.header("content-range", format!("bytes {from}-{}/{len}", len - 1));
    }
    r.body(Body::from_stream(stream)).unwrap()
}

fn async_stream(
    head: Vec<u8>,
    blob: Blob,
    from: u64,
    reset: Option<u64>,
    bandwidth: Option<u64>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    const CHUNK: u64 = 64 * 1024;
    futures_util::stream::unfold(from, move |pos| {
        let head = head.clone();
        async move {
            if pos >= blob.len {
                return None;
            }
            if reset.is_some_and(|r| pos >= r) {
                return Some((Err(std::io::Error::other("connection reset")), blob.len));
            }
            let end = (pos + CHUNK)
                .min(blob.len)
                .min(reset.unwrap_or(u64::MAX).max(pos + 1));
            let mut out = Vec::with_capacity((end - pos) as usize);
            blob_bytes(&head, blob, pos, end, &mut out);
            if let Some(bw) = bandwidth {
                tokio::time::sleep(Duration::from_secs_f64((end - pos) as f64 / bw as f64)).await;
            }
            Some((Ok(Bytes::from(out)), end))
        }
    })
}
