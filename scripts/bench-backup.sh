#!/usr/bin/env bash
# Off-site backup benchmark: shoebox backup vs restic vs a plain rclone copy, all to the same
# local S3 server (s3s-fs, which checks signatures) in the same run.
#
#   scripts/bench-backup.sh CORPUS
#
# Environment: WORK (default /work/bench-backup-work; deleted at the end), N (rounds,
# default 1), SHOEBOX (default <repo>/target/release/shoebox), S3S (default s3s-fs on PATH
# or ~/.cargo/bin/s3s-fs).
#
# Per round:
#   shoebox: the corpus is imported into a fresh library first (not part of the backup
#            time: on the box the library already exists); `backup init`, then `backup`
#            (timed), then `backup` again with nothing changed (timed), then
#            `restore --into-library` into an empty folder (timed), then `restore --to`
#            (plain files, what restic's restore writes; timed).
#   restic:  `init` (not timed), `backup CORPUS` (timed), again (timed), `restore latest`
#            (timed).
#   rclone:  `copy CORPUS` (timed): no chunking, no encryption, the transfer limit.
# Wall time from date +%s%N, peak RSS and CPU from /usr/bin/time -v, bytes on the server
# from du of each tool's prefix, requests from the server's log. Page cache is not dropped (shared machine): all warm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(dirname "$here")"
CORPUS="$(cd "${1:?usage: bench-backup.sh CORPUS}" && pwd)"
WORK="${WORK:-/work/bench-backup-work}"
N="${N:-1}"
SHOEBOX="${SHOEBOX:-$top/target/release/shoebox}"
S3S="${S3S:-$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")}"
PORT="${PORT:-18714}"
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=SECRETBENCH
export RESTIC_PASSWORD=shoebox-bench SHOEBOX_PASSPHRASE=shoebox-bench
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other \
  RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID \
  RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
  RCLONE_CONFIG_BENCH_ENDPOINT=http://127.0.0.1:$PORT RCLONE_CONFIG_BENCH_REGION=us-east-1
# shellcheck source=s3-bench-lib.sh
. "$here/s3-bench-lib.sh"
bytes() { du -sb "$1" 2>/dev/null | cut -f1; }

echo "corpus: $(du -sb "$CORPUS" | cut -f1) bytes, $(find "$CORPUS" -type f | wc -l) files"
echo "machine: $(nproc) cores, $(uname -r); restic $(restic version | cut -d' ' -f2); $(rclone version | head -1)"
for round in $(seq 1 "$N"); do
  echo "# round $round"
  lib="$WORK/lib"; rm -rf "$lib"
  "$SHOEBOX" --data "$lib" import "$CORPUS" >/dev/null 2>&1
  repo="s3://bench/shoebox-$round?endpoint=http://127.0.0.1:$PORT&region=us-east-1"
  "$SHOEBOX" backup init --repo "$repo" >/dev/null
  timed shoebox-backup "$SHOEBOX" --data "$lib" backup --repo "$repo"
  echo "shoebox-uploaded $(bytes "$WORK/s3/bench/shoebox-$round")"
  timed shoebox-nochange "$SHOEBOX" --data "$lib" backup --repo "$repo"
  rm -rf "$WORK/restored"
  timed shoebox-restore-library "$SHOEBOX" restore --repo "$repo" --into-library "$WORK/restored"
  rm -rf "$WORK/restored"
  timed shoebox-restore-files "$SHOEBOX" restore --repo "$repo" --to "$WORK/restored"
  echo "shoebox-restored-files $(find "$WORK/restored" -type f | wc -l) $(bytes "$WORK/restored")"
  rm -rf "$WORK/restored" "$lib" "$WORK/s3/bench/shoebox-$round"

  rrepo="s3:http://127.0.0.1:$PORT/bench/restic-$round"
  restic -r "$rrepo" init >/dev/null
  timed restic-backup restic -r "$rrepo" backup "$CORPUS"
  echo "restic-uploaded $(bytes "$WORK/s3/bench/restic-$round")"
  timed restic-nochange restic -r "$rrepo" backup "$CORPUS"
  rm -rf "$WORK/restored"
  timed restic-restore restic -r "$rrepo" restore latest --target "$WORK/restored"
  echo "restic-restored-files $(find "$WORK/restored" -type f | wc -l) $(bytes "$WORK/restored")"
  rm -rf "$WORK/restored" "$WORK/s3/bench/restic-$round"

  timed rclone-copy env -u AWS_CA_BUNDLE rclone copy --transfers 4 "$CORPUS" "bench:bench/rclone-$round"
  echo "rclone-uploaded $(bytes "$WORK/s3/bench/rclone-$round")"
  rm -rf "$WORK/s3/bench/rclone-$round"
done
