#!/usr/bin/env bash
# Backup upkeep at library scale: a library of 100,000 distinct small photos, backed up to a
# local S3 server (s3s-fs, real signature checks) by shoebox and, side by side, the same
# files by restic. Times the no-change backup (issue 5's target: < 10 s, a handful of
# requests), and shoebox's `forget --keep-last 1` + `prune` and `check` at that size.
#
#   scripts/bench-backup-100k.sh
#
# Environment: ASSETS (default 100000), N (rounds of the timed steps, default 3), WORK
# (default /work/bench-100k-work; deleted at the end), SHOEBOX (default
# <repo>/target/release/shoebox), S3S (s3s-fs on PATH or ~/.cargo/bin/s3s-fs).
# Per round: shoebox no-change backup, restic no-change backup (the same files). Once at the
# end: a second shoebox snapshot after 1,000 new photos, then forget + prune (timed), and
# `backup check` (timed). The first backups are made once, untimed except for the record.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(dirname "$here")"
ASSETS="${ASSETS:-100000}"
N="${N:-3}"
WORK="${WORK:-/work/bench-100k-work}"
SHOEBOX="${SHOEBOX:-$top/target/release/shoebox}"
S3S="${S3S:-$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")}"
PORT="${PORT:-18715}"
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=SECRETBENCH
export RESTIC_PASSWORD=shoebox-bench SHOEBOX_PASSPHRASE=shoebox-bench
# shellcheck source=s3-bench-lib.sh
. "$here/s3-bench-lib.sh"

# Distinct small JPEGs: the fixture's headers, a tiny scan, eight bytes that differ.
photos() {
  python3 - "$top/tests/fixtures/media/photo.jpg" "$1" "$2" "$3" <<'EOF'
import os, sys
seed = open(sys.argv[1], "rb").read()
out, start, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
head = seed[: seed.index(b"\xff\xda")] + bytes([0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0])
for i in range(start, start + count):
    d = os.path.join(out, f"{i // 1000:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"IMG_{i:06d}.JPG"), "wb") as f:
        f.write(head + i.to_bytes(8, "little") + b"\xff\xd9")
EOF
}

echo "machine: $(nproc) cores, $(uname -r); restic $(restic version | cut -d' ' -f2)"
photos "$WORK/photos" 0 "$ASSETS"
lib="$WORK/lib"
timed shoebox-import "$SHOEBOX" --data "$lib" import "$WORK/photos"
repo="s3://bench/shoebox?endpoint=http://127.0.0.1:$PORT&region=us-east-1"
"$SHOEBOX" backup init --repo "$repo" >/dev/null
timed shoebox-first-backup "$SHOEBOX" --data "$lib" backup --repo "$repo"
rrepo="s3:http://127.0.0.1:$PORT/bench/restic"
restic -r "$rrepo" init >/dev/null
timed restic-first-backup restic -r "$rrepo" backup "$WORK/photos"
for round in $(seq 1 "$N"); do
  echo "# round $round"
  timed shoebox-nochange "$SHOEBOX" --data "$lib" backup --repo "$repo"
  timed restic-nochange restic -r "$rrepo" backup "$WORK/photos"
done
echo "# upkeep"
photos "$WORK/more" "$ASSETS" 1000
"$SHOEBOX" --data "$lib" import "$WORK/more" >/dev/null 2>&1
timed shoebox-second-backup "$SHOEBOX" --data "$lib" backup --repo "$repo"
timed shoebox-forget-prune "$SHOEBOX" backup forget --repo "$repo" --keep-last 1 --prune
timed shoebox-check "$SHOEBOX" backup check --repo "$repo"
echo "shoebox-bytes-on-server $(du -sb "$WORK/s3/bench/shoebox" | cut -f1)"
echo "restic-bytes-on-server $(du -sb "$WORK/s3/bench/restic" | cut -f1)"
