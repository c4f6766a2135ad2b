#!/usr/bin/env python3
"""Deterministic "fast tier" photo corpus generator for shoebox benchmarks.

Python 3 standard library only (ImageMagick /usr/bin/convert and ffmpeg are
used when present for a few compressible TIFF/PNG files and a MOV header; the
script falls back to seed files when they are missing).

Every media file is a real header taken from a seed file followed by an
incompressible pseudo-random payload:

* JPEG: the seed's bytes up to and including the SOS segment header, then the
  payload, then an EOI marker.  Date strings in the EXIF header
  ("YYYY:MM:DD HH:MM:SS") are rewritten to the file's shooting date.
* HEIC/HEIF: every top-level box before the first ``mdat`` (ftyp, meta, free),
  then an ``mdat`` box header whose size covers the payload.
* MOV: same as HEIC with a faststart QuickTime header made by ffmpeg (Apple
  keys incl. content identifier, patched per file) or the seed QuickTime.mov.

The payload is SHAKE-128 in counter mode keyed by (seed, file id): unique per
file, reproducible, and fast (~600 MB/s per core in CPython).

Realism knobs (see /work/shared/corpus-recipes.md, "fast tier"): exact
duplicates across trees, metadata-edited copies (same payload bytes, changed
header), renamed copies, XMP sidecars, HEIC+MOV live-photo pairs, dated
folders over 13 years.
"""

import argparse
import datetime as dt
import hashlib
import math
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

MIB = 1024 * 1024
BLOCK = 4 * MIB

# Base counts for scale 1.0 (~1.75 GB total).  --small uses scale 0.08.
BASE = {
    "jpeg": 300,
    "heic": 170,
    "video": 4,
    "tiff": 12,
    "png": 24,
}
LIVE_FRACTION = 0.30      # of HEICs get a paired live-photo MOV
DUP_FRACTION = 0.07       # exact duplicates (of primary files) in another tree
EDIT_FRACTION = 0.03      # metadata-edited copies (JPEG only)
RENAME_FRACTION = 0.01    # renamed copies
XMP_FRACTION = 0.10       # sidecars
DATE_FIRST = dt.datetime(2012, 1, 1)
DATE_LAST = dt.datetime(2024, 12, 31)

DATE_RE = re.compile(rb"(?:19|20)\d\d:[01]\d:[0-3]\d [0-2]\d:[0-5]\d:[0-5]\d")
UUID_PLACEHOLDER = b"00000000-0000-4000-8000-000000000000"
DATE_PLACEHOLDER = b"2000-01-01T00:00:00+0000"


# --------------------------------------------------------------------------
# seed parsing
# --------------------------------------------------------------------------

def jpeg_header(data):
    """Bytes up to and including the SOS segment header, or None."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if marker == 0xDA:
            end = i + 2 + length
            return data[:end] if end <= len(data) else None
        i += 2 + length
    return None


def top_boxes(data):
    out, i = [], 0
    while i + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        hdr = 8
        if size == 1:
            if i + 16 > len(data):
                break
            (size,) = struct.unpack(">Q", data[i + 8:i + 16])
            hdr = 16
        elif size == 0:
            size = len(data) - i
        if size < hdr:
            break
        out.append((kind, i, size))
        i += size
    return out


def isobmff_header(data, need_meta=True):
    """Everything before the first mdat box, or None if unsuitable."""
    boxes = top_boxes(data)
    kinds = [k for k, _, _ in boxes]
    if b"mdat" not in kinds:
        return None
    mdat_at = kinds.index(b"mdat")
    before = kinds[:mdat_at]
    if need_meta and (not before or before[0] != b"ftyp" or b"meta" not in before):
        return None
    if not need_meta and b"moov" not in before:
        return None
    return data[:boxes[mdat_at][1]]


def mdat_box(payload_len):
    if payload_len + 8 < 2 ** 32:
        return struct.pack(">I4s", payload_len + 8, b"mdat")
    return struct.pack(">I4sQ", 1, b"mdat", payload_len + 16)


def load_seeds(seed_dir):
    jpegs, heics, movs, stills = [], [], [], []
    skip = ("invalid", "corrupt", "truncated", "empty")
    for root, dirs, files in os.walk(seed_dir):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, seed_dir)
            if any(s in rel.lower() for s in skip):
                continue
            ext = name.lower().rsplit(".", 1)[-1]
            with open(path, "rb") as f:
                data = f.read()
            if ext in ("jpg", "jpeg"):
                hdr = jpeg_header(data)
                if hdr and len(hdr) < 256 * 1024:
                    jpegs.append((rel, hdr))
            elif ext in ("heic", "heif"):
                hdr = isobmff_header(data)
                if hdr:
                    heics.append((rel, hdr))
            elif ext == "mov":
                hdr = isobmff_header(data, need_meta=False)
                if hdr:
                    movs.append((rel, hdr))
            elif ext in ("tif", "tiff", "png"):
                stills.append((rel, data))
    return jpegs, heics, movs, stills


# --------------------------------------------------------------------------
# external helpers (optional)
# --------------------------------------------------------------------------

def ffmpeg_mov_header(tmp):
    """Faststart QuickTime header with Apple keys, or None."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        return None
    out = os.path.join(tmp, "live.mov")
    cmd = [ffmpeg, "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", "testsrc2=size=1440x1080:rate=30", "-t", "1",
           "-c:v", "libx264", "-threads", "1", "-pix_fmt", "yuv420p",
           "-movflags", "+faststart+use_metadata_tags",
           "-metadata", "com.apple.quicktime.content.identifier=" + UUID_PLACEHOLDER.decode(),
           "-metadata", "com.apple.quicktime.make=Apple",
           "-metadata", "com.apple.quicktime.model=iPhone 13 Pro",
           "-metadata", "com.apple.quicktime.creationdate=" + DATE_PLACEHOLDER.decode(),
           "-metadata", "com.apple.quicktime.location.ISO6709=+39.0513-009.5000+010.000/",
           "-fflags", "+bitexact", "-flags:v", "+bitexact", out]
    try:
        subprocess.run(cmd, check=True, timeout=120)
        with open(out, "rb") as f:
            return isobmff_header(f.read(), need_meta=False)
    except (subprocess.SubprocessError, OSError):
        return None


CONVERT = "/usr/bin/convert"  # /usr/local/bin/convert is a broken stand-in


def render_tiff(path, idx, seed, w, h):
    """Uncompressed 8-bit TIFF "scan": gradient + mild noise + caption."""
    colors = ["skyblue-navy", "wheat-sienna", "gray90-gray30", "khaki-olive",
              "pink-maroon", "lightcyan-teal"]
    cmd = [CONVERT, "-seed", str(seed + idx), "-size", f"{w}x{h}",
           "gradient:" + colors[idx % len(colors)],
           "-attenuate", "0.05", "+noise", "Gaussian",
           "-pointsize", "72", "-fill", "white",
           "-annotate", "+80+160", f"Family album scan {idx:04d}",
           "-depth", "8", "-type", "TrueColor",
           "-define", "tiff:timestamp=false", "-compress", "none", path]
    subprocess.run(cmd, check=True, timeout=300)


def render_png(path, idx, seed):
    """Screenshot-like PNG (flat colours and text)."""
    bg = ["white", "gray95", "black", "aliceblue"][idx % 4]
    fg = "white" if bg == "black" else "black"
    cmd = [CONVERT, "-seed", str(seed + idx), "-size", "1170x2532", "xc:" + bg,
           "-fill", "steelblue", "-draw", f"rectangle 0,0 1170,{180 + idx % 7 * 20}",
           "-fill", fg, "-pointsize", "44"]
    for line in range(18):
        cmd += ["-annotate", f"+60+{300 + line * 120}",
                f"Message {idx}.{line}: lorem ipsum dolor sit amet {idx * 31 + line}"]
    cmd += ["-define", "png:exclude-chunks=date,time", path]
    subprocess.run(cmd, check=True, timeout=300)


# --------------------------------------------------------------------------
# generation
# --------------------------------------------------------------------------

def payload_blocks(seed, file_id, length):
    key = f"shoebox-bench/{seed}/{file_id}/".encode()
    n = 0
    while length > 0:
        size = min(BLOCK, length)
        yield hashlib.shake_128(key + str(n).encode()).digest(size)
        length -= size
        n += 1


def lognormal_size(rng, median, lo, hi, sigma=0.35):
    return int(min(hi, max(lo, rng.lognormvariate(math.log(median), sigma))))


def exif_date(when):
    return when.strftime("%Y:%m:%d %H:%M:%S").encode()


def patch_dates(header, when):
    return DATE_RE.sub(exif_date(when), header)


def xmp_sidecar(name, when, rng):
    rating = rng.randint(0, 5)
    label = rng.choice(["", "Red", "Green", "Blue"])
    iso = when.strftime("%Y-%m-%dT%H:%M:%S")
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmp:CreatorTool="Adobe Photoshop Lightroom Classic 12.0"
   xmp:CreateDate="{iso}"
   xmp:ModifyDate="{iso}"
   xmp:Rating="{rating}"
   xmp:Label="{label}"
   exif:DateTimeOriginal="{iso}"
   photoshop:DateCreated="{iso}">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{name}</rdf:li></rdf:Alt></dc:title>
   <dc:subject><rdf:Bag><rdf:li>family</rdf:li><rdf:li>{when.year}</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
""".encode()


class Corpus:
    def __init__(self, target, seed):
        self.target = target
        self.seed = seed
        self.rng = random.Random(seed)
        self.entries = []          # dicts: path, kind, role, size, src
        self.used = set()
        self.written_bytes = 0

    def unique(self, rel):
        base, ext = os.path.splitext(rel)
        n = 1
        while rel.lower() in self.used:
            rel = f"{base}_{n}{ext}"
            n += 1
        self.used.add(rel.lower())
        return rel

    def add(self, rel, kind, role, size, src=""):
        self.entries.append({"path": rel, "kind": kind, "role": role,
                             "size": size, "src": src})
        self.written_bytes += size

    def write_generated(self, rel, kind, header, payload_len, file_id,
                        trailer=b"", box=True):
        rel = self.unique(rel)
        path = os.path.join(self.target, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(header)
            if box:
                f.write(mdat_box(payload_len))
            for block in payload_blocks(self.seed, file_id, payload_len):
                f.write(block)
            f.write(trailer)
        size = os.path.getsize(path)
        self.add(rel, kind, "original", size)
        return rel

    def write_bytes(self, rel, kind, role, data, src=""):
        rel = self.unique(rel)
        path = os.path.join(self.target, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        self.add(rel, kind, role, len(data), src)
        return rel

    def copy(self, src_rel, dst_rel, kind, role):
        dst_rel = self.unique(dst_rel)
        dst = os.path.join(self.target, dst_rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(self.target, src_rel), dst)
        self.add(dst_rel, kind, role, os.path.getsize(dst), src_rel)
        return dst_rel


def random_when(rng):
    span = (DATE_LAST - DATE_FIRST).total_seconds()
    when = DATE_FIRST + dt.timedelta(seconds=rng.randrange(int(span)))
    # photos cluster in daytime
    return when.replace(hour=rng.choice(range(7, 23)))


def tree_path(tree, when, name):
    if tree == "camera-dump":
        return f"camera-dump/{when:%Y}/{when:%Y-%m-%d}/{name}"
    if tree == "icloud":
        return f"icloud/{when:%Y}/{when:%m}/{name}"
    if tree == "uploads":
        return f"uploads/{when:%Y}/{when:%Y-%m} upload/{name}"
    return f"{tree}/{when:%Y}/{name}"


def other_tree(rng, tree):
    return rng.choice([t for t in ("icloud", "uploads", "camera-dump") if t != tree])


def build(args):
    t0 = time.time()
    seed_dir = os.path.abspath(args.seeds)
    target = os.path.abspath(args.target)
    if os.path.exists(target) and os.listdir(target):
        if not args.force:
            sys.exit(f"error: {target} exists and is not empty (use --force to replace)")
        shutil.rmtree(target)
    os.makedirs(target, exist_ok=True)

    jpegs, heics, movs, stills = load_seeds(seed_dir)
    if not jpegs or not heics:
        sys.exit(f"error: no usable JPEG/HEIC seeds under {seed_dir}")
    scale = args.scale if args.scale is not None else (0.08 if args.small else 1.0)
    counts = {k: max(1, round(v * scale)) for k, v in BASE.items()}

    c = Corpus(target, args.seed)
    rng = c.rng
    tmp = tempfile.mkdtemp(prefix="make-corpus-")
    try:
        mov_hdr = ffmpeg_mov_header(tmp)
        mov_src = "ffmpeg testsrc2 (faststart)"
        if mov_hdr is None and movs:
            mov_src, mov_hdr = movs[0]
        have_convert = os.access(CONVERT, os.X_OK)

        originals = []  # (rel, kind, tree, when, patchable)
        file_id = 0

        # JPEGs: camera dumps and uploads
        cam_counter = {}
        dated = [j for j in jpegs if DATE_RE.search(j[1])] or jpegs
        for _ in range(counts["jpeg"]):
            file_id += 1
            # real camera files nearly always carry dates; keep a few odd ones
            src, hdr = rng.choice(dated if rng.random() < 0.9 else jpegs)
            when = random_when(rng)
            tree = rng.choices(["camera-dump", "uploads", "icloud"], [6, 2, 2])[0]
            prefix = rng.choice(["DSC", "IMG_", "P", "DSCF"]) if tree != "icloud" else "IMG_"
            n = cam_counter[prefix] = cam_counter.get(prefix, 1000) + rng.randint(1, 9)
            ext = ".JPG" if tree != "uploads" else ".jpg"
            name = f"{prefix}{n % 10000:04d}{ext}"
            size = lognormal_size(rng, 3.0 * MIB, 1.5 * MIB, 6.0 * MIB)
            header = patch_dates(hdr, when)
            rel = c.write_generated(tree_path(tree, when, name), "jpeg", header,
                                    size - len(header) - 2, file_id,
                                    trailer=b"\xff\xd9", box=False)
            c.entries[-1]["src"] = src
            originals.append((rel, "jpeg", tree, when, bool(DATE_RE.search(hdr))))

        # HEICs (iCloud), ~30% with a live-photo MOV sharing a UUID
        for _ in range(counts["heic"]):
            file_id += 1
            src, hdr = rng.choice(heics)
            when = random_when(rng)
            n = cam_counter["IMG_"] = cam_counter.get("IMG_", 1000) + rng.randint(1, 5)
            stem = f"IMG_{n % 10000:04d}"
            size = lognormal_size(rng, 1.5 * MIB, 0.6 * MIB, 4.0 * MIB)
            rel = c.write_generated(tree_path("icloud", when, stem + ".HEIC"), "heic",
                                    hdr, size - len(hdr) - 8, file_id)
            c.entries[-1]["src"] = src
            originals.append((rel, "heic", "icloud", when, False))
            if mov_hdr is not None and rng.random() < LIVE_FRACTION:
                file_id += 1
                uuid = "%08X-%04X-4%03X-8%03X-%012X" % (
                    rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                    rng.getrandbits(12), rng.getrandbits(48))
                mh = mov_hdr.replace(UUID_PLACEHOLDER, uuid.encode())
                mh = mh.replace(DATE_PLACEHOLDER, when.strftime("%Y-%m-%dT%H:%M:%S+0000").encode())
                msize = rng.randint(int(1.5 * MIB), int(3.5 * MIB))
                mrel = c.write_generated(os.path.splitext(rel)[0] + ".MOV", "live-mov",
                                         mh, msize - len(mh) - 8, file_id)
                c.entries[-1]["src"] = mov_src
                originals.append((mrel, "live-mov", "icloud", when, False))

        # Videos 10-80 MB
        if mov_hdr is not None:
            for _ in range(counts["video"]):
                file_id += 1
                when = random_when(rng)
                n = cam_counter["IMG_"] = cam_counter.get("IMG_", 1000) + 1
                uuid = "%08X-0000-4000-8000-%012X" % (rng.getrandbits(32), file_id)
                mh = mov_hdr.replace(UUID_PLACEHOLDER, uuid.encode())
                mh = mh.replace(DATE_PLACEHOLDER, when.strftime("%Y-%m-%dT%H:%M:%S+0000").encode())
                vmax = 80 if scale >= 0.5 else 24  # keep --small near 150 MB
                size = lognormal_size(rng, 28 * MIB, 10 * MIB, vmax * MIB, sigma=0.6)
                tree = rng.choice(["icloud", "camera-dump"])
                rel = c.write_generated(tree_path(tree, when, f"IMG_{n % 10000:04d}.MOV"),
                                        "video", mh, size - len(mh) - 8, file_id)
                c.entries[-1]["src"] = mov_src
                originals.append((rel, "video", tree, when, False))

        # Compressible stills: rendered TIFF scans + PNG screenshots, plus seed copies
        if have_convert:
            for i in range(counts["tiff"]):
                when = random_when(rng)
                rel = c.unique(f"scans/{when:%Y}/{when:%Y-%m} album/scan_{i + 1:04d}.tif")
                path = os.path.join(target, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                w = rng.choice([2400, 2550, 3000])
                render_tiff(path, i, args.seed, w, w * 2 // 3)
                c.add(rel, "tiff", "original", os.path.getsize(path), "convert gradient")
                originals.append((rel, "tiff", "scans", when, False))
            for i in range(counts["png"]):
                when = random_when(rng)
                rel = c.unique(tree_path("icloud", when, f"Screenshot {when:%Y-%m-%d at %H.%M.%S}.png"))
                path = os.path.join(target, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                render_png(path, i, args.seed)
                c.add(rel, "png", "original", os.path.getsize(path), "convert text")
                originals.append((rel, "png", "icloud", when, False))
        n_seed_stills = len(stills) if scale >= 0.5 else min(len(stills), 4)
        for src, data in stills[:n_seed_stills]:
            when = random_when(rng)
            rel = c.write_bytes(f"uploads/misc/{when:%Y}/{os.path.basename(src)}",
                                os.path.splitext(src)[1].lstrip(".").lower(),
                                "original", data, src)
            originals.append((rel, c.entries[-1]["kind"], "uploads", when, False))

        primary = [o for o in originals]
        n_primary = len(primary)

        # XMP sidecars (~10% of photos)
        photos = [o for o in primary if o[1] in ("jpeg", "heic", "tiff")]
        for rel, kind, tree, when, _ in rng.sample(photos, max(1, round(len(photos) * XMP_FRACTION))):
            name = os.path.basename(rel)
            c.write_bytes(rel + ".xmp", "xmp", "sidecar", xmp_sidecar(name, when, rng), rel)

        # exact duplicates in another tree
        for rel, kind, tree, when, _ in rng.sample(primary, max(1, round(n_primary * DUP_FRACTION))):
            c.copy(rel, tree_path(other_tree(rng, tree), when, os.path.basename(rel)),
                   kind, "duplicate")

        # metadata-edited copies: same payload, header dates changed (JPEG)
        editable = [o for o in primary if o[1] == "jpeg"]
        for rel, kind, tree, when, patchable in rng.sample(
                editable, min(len(editable), max(1, round(n_primary * EDIT_FRACTION)))):
            with open(os.path.join(target, rel), "rb") as f:
                data = f.read()
            hdr_len = len(jpeg_header(data))
            new_when = when + dt.timedelta(hours=rng.choice([-9, -6, -1, 1, 2, 8]),
                                           minutes=rng.randint(0, 59))
            if patchable:
                new_hdr = patch_dates(data[:hdr_len], new_when)
                how = "date-patched"
            else:  # no date in header: add a COM segment after SOI (header grows)
                com = b"edited " + exif_date(new_when)
                new_hdr = (data[:2] + b"\xff\xfe" + struct.pack(">H", len(com) + 2)
                           + com + data[2:hdr_len])
                how = "com-added"
            erel = c.write_bytes(tree_path(other_tree(rng, tree), when, os.path.basename(rel)),
                                 kind, "edited", new_hdr + data[hdr_len:], rel)
            c.entries[-1]["how"] = how
            assert erel

        # renamed copies
        for rel, kind, tree, when, _ in rng.sample(primary, max(1, round(n_primary * RENAME_FRACTION))):
            ext = os.path.splitext(rel)[1].lower()
            if rng.random() < 0.5:
                new = os.path.join(os.path.dirname(rel),
                                   os.path.splitext(os.path.basename(rel))[0] + " (1)" + ext)
            else:
                new = tree_path("uploads", when, f"{when:%Y-%m-%d %H.%M.%S}{ext}")
            c.copy(rel, new, kind, "renamed")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    c.entries.sort(key=lambda e: e["path"])
    with open(os.path.join(target, "MANIFEST.tsv"), "w") as f:
        f.write("path\tkind\trole\tsize\tsource\n")
        for e in c.entries:
            f.write(f"{e['path']}\t{e['kind']}\t{e['role']}\t{e['size']}\t{e['src']}\n")

    elapsed = time.time() - t0
    summarize(c, target, elapsed, args, counts)


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return str(n)


def summarize(c, target, elapsed, args, counts):
    by_kind, by_role = {}, {}
    for e in c.entries:
        k = by_kind.setdefault(e["kind"], [0, 0])
        k[0] += 1
        k[1] += e["size"]
        r = by_role.setdefault(e["role"], [0, 0])
        r[0] += 1
        r[1] += e["size"]
    total = sum(e["size"] for e in c.entries)
    years = sorted({p.split("/")[1] for p in (e["path"] for e in c.entries)
                    if len(p.split("/")) > 2 and p.split("/")[1].isdigit()})
    edited = [e for e in c.entries if e["role"] == "edited"]
    print(f"corpus: {target}")
    print(f"seed: {args.seed}  scale: {'small' if args.small else args.scale or 1.0}  "
          f"seeds: {os.path.abspath(args.seeds)}")
    print(f"files: {len(c.entries)}  bytes: {total} ({human(total)})  "
          f"years: {years[0] if years else '?'}..{years[-1] if years else '?'} ({len(years)})")
    print("by kind:")
    for k in sorted(by_kind):
        print(f"  {k:10s} {by_kind[k][0]:6d} files {human(by_kind[k][1]):>12s}")
    print("by role:")
    for r in sorted(by_role):
        print(f"  {r:10s} {by_role[r][0]:6d} files {human(by_role[r][1]):>12s}")
    dup = by_role.get("duplicate", [0, 0])
    ren = by_role.get("renamed", [0, 0])
    print(f"duplicates (exact, other tree): {dup[0]} files, {human(dup[1])}; "
          f"renamed copies: {ren[0]} files, {human(ren[1])}")
    print(f"edited copies (same payload, new header): {len(edited)} "
          f"({sum(1 for e in edited if e.get('how') == 'date-patched')} date-patched, "
          f"{sum(1 for e in edited if e.get('how') == 'com-added')} COM-added)")
    unique = total - dup[1] - ren[1]
    print(f"unique content (excluding exact copies): {human(unique)}")
    print(f"elapsed: {elapsed:.1f} s ({total / MIB / max(elapsed, 1e-9):.0f} MiB/s)")


def main():
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                         text=True, cwd=os.path.dirname(os.path.abspath(__file__)))
    default_seeds = os.path.join(top.stdout.strip() or ".", "..", "shared", "corpus")
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("target", help="output directory (e.g. /work/bench-corpus)")
    p.add_argument("--seeds", default=os.environ.get("CORPUS_SEEDS", default_seeds),
                   help="seed corpus dir (default: <repo>/../shared/corpus)")
    p.add_argument("--seed", type=int, default=20240601, help="PRNG seed")
    p.add_argument("--small", action="store_true", help="~150 MB corpus for quick runs")
    p.add_argument("--scale", type=float, default=None,
                   help="scale factor for file counts (1.0 = ~1.75 GB)")
    p.add_argument("--force", action="store_true", help="replace a non-empty target")
    args = p.parse_args()
    build(args)


if __name__ == "__main__":
    main()
