#!/usr/bin/env bash
# Import benchmark: shoebox vs restic vs cp+sync on the same corpus and disk.
#
#   scripts/bench-import.sh [options] CORPUS
#
# Options (environment variables in brackets):
#   -n N            timed runs per tool, median reported (N, default 3)
#   -w DIR          work dir for data dirs/repos (WORK, default /work/bench-work)
#   -o FILE         results file (RESULTS, default $WORK/results/import-<stamp>.md)
#   -t LIST         tools to run, comma separated: shoebox,restic,cp,read
#                   (TOOLS, default all; "read" = cold `cat` of the corpus, the
#                   read-side limit)
#   -h              help
#   SHOEBOX=path    shoebox binary (default <repo>/target/release/shoebox);
#                   if it is missing the shoebox row is reported as "pending"
#   RESTIC=path     restic binary (default: restic on PATH)
#
# Each round runs every tool once (order rotates between rounds so that noise
# from other users of the machine is spread evenly).  Per tool and round:
#   shoebox: fresh data dir; `shoebox --data DIR import CORPUS` (timed), then
#            the same command again on the same data dir (no-change, timed)
#   restic:  fresh repo + `restic init` (not timed); `restic backup CORPUS`
#            (timed), then `restic backup CORPUS` again (second snapshot, timed)
#   cp:      `cp -r CORPUS DEST && sync` (timed)
#   read:    `find CORPUS -type f -exec cat {} + >/dev/null` (timed)
# Before every timed command: `sync; echo 3 > /proc/sys/vm/drop_caches` when
# permitted (reported otherwise).  After shoebox/restic commands an untimed
# `sync` is measured separately ("trailing sync") to show dirty data left in
# the page cache.  Wall time is measured with date +%s%N, peak RSS with
# /usr/bin/time -v (which also gives user+sys CPU seconds).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || dirname "$here")"

N="${N:-3}"
WORK="${WORK:-/work/bench-work}"
RESULTS="${RESULTS:-}"
TOOLS="${TOOLS:-shoebox,restic,cp,read}"
SHOEBOX="${SHOEBOX:-$top/target/release/shoebox}"
RESTIC="${RESTIC:-restic}"
export RESTIC_PASSWORD="${RESTIC_PASSWORD:-shoebox-bench}"
TIME_BIN=/usr/bin/time

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while getopts "n:w:o:t:h" opt; do
  case "$opt" in
    n) N="$OPTARG" ;;
    w) WORK="$OPTARG" ;;
    o) RESULTS="$OPTARG" ;;
    t) TOOLS="$OPTARG" ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -eq 1 ]] || { usage >&2; exit 2; }
CORPUS="$(cd "$1" && pwd)"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "error: -n must be a positive integer" >&2; exit 2; }
[[ -x "$TIME_BIN" ]] || { echo "error: $TIME_BIN missing (apt-get install time)" >&2; exit 1; }

case "$WORK" in
  "$CORPUS"|"$CORPUS"/*) echo "error: WORK must not be inside the corpus" >&2; exit 2 ;;
esac
mkdir -p "$WORK/results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="${RESULTS:-$WORK/results/import-$stamp.md}"
LOGDIR="$WORK/logs/$stamp"
RAW="$LOGDIR/raw.tsv"
mkdir -p "$LOGDIR"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- tools ---
want() { [[ ",$TOOLS," == *",$1,"* ]]; }

SHOEBOX_STATUS=ok
if want shoebox; then
  if [[ ! -x "$SHOEBOX" ]]; then
    SHOEBOX_STATUS="pending (no binary at $SHOEBOX)"
  elif ! grep -qw import <<<"$("$SHOEBOX" --help 2>&1 || true)"; then
    SHOEBOX_STATUS="pending ($SHOEBOX has no import subcommand)"
  fi
else
  SHOEBOX_STATUS="skipped (-t)"
fi
[[ "$SHOEBOX_STATUS" == ok ]] || log "shoebox: $SHOEBOX_STATUS"
if want restic && ! command -v "$RESTIC" >/dev/null; then
  echo "error: restic not found ($RESTIC)" >&2; exit 1
fi

# ------------------------------------------------------------ page cache ---
if (sync && echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then
  COLD="yes (sync; echo 3 > /proc/sys/vm/drop_caches before every timed run)"
  drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
else
  COLD="NO: drop_caches not permitted here; runs are warm-cache (corpus may be cached)"
  drop_caches() { sync; }
  log "WARNING: cannot drop page cache; results are warm-cache"
fi

# -------------------------------------------------------------- helpers ---
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

# timed TOOL PHASE RUN STORE_DIR CMD... : cold cache, run CMD under
# /usr/bin/time -v, append a row to RAW.  STORE_DIR ("-" for none) is du'd
# after a trailing sync.
timed() {
  local tool="$1" phase="$2" run="$3" store="$4"; shift 4
  local tv="$LOGDIR/$tool-$phase-$run.time" out="$LOGDIR/$tool-$phase-$run.log"
  local t0 t1 s0 s1 rc=0 rss cpu stored=0
  drop_caches
  t0="$(now_ns)"
  "$TIME_BIN" -v -o "$tv" "$@" >"$out" 2>&1 || rc=$?
  t1="$(now_ns)"
  s0="$(now_ns)"; sync; s1="$(now_ns)"
  if [[ $rc -ne 0 ]]; then
    log "FAILED ($rc): $tool $phase run $run: $*  (see $out)"
    tail -n 5 "$out" >&2 || true
    return "$rc"
  fi
  rss="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")"
  cpu="$(awk -F': ' '/(User|System) time \(seconds\)/ { s += $2 } END { printf "%.2f", s }' "$tv")"
  if [[ "$store" != - ]]; then stored="$(du -sb "$store" | cut -f1)"; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$phase" "$run" \
    "$(secs "$t0" "$t1")" "${rss:-0}" "$stored" "$(secs "$s0" "$s1")" "${cpu:-0}" >>"$RAW"
  log "$tool $phase run $run: $(secs "$t0" "$t1") s, cpu ${cpu:-?} s, rss ${rss:-?} KiB, stored $stored B"
}

run_shoebox() {
  local run="$1" data="$WORK/sb"
  rm -rf "$data"
  timed shoebox import "$run" "$data" "$SHOEBOX" --data "$data" import "$CORPUS"
  timed shoebox reimport "$run" "$data" "$SHOEBOX" --data "$data" import "$CORPUS"
}

run_restic() {
  local run="$1" repo="$WORK/restic" cache="$WORK/restic-cache"
  rm -rf "$repo" "$cache"
  "$RESTIC" -r "$repo" --cache-dir "$cache" init >"$LOGDIR/restic-init-$run.log" 2>&1
  timed restic import "$run" "$repo" "$RESTIC" -r "$repo" --cache-dir "$cache" backup "$CORPUS"
  timed restic reimport "$run" "$repo" "$RESTIC" -r "$repo" --cache-dir "$cache" backup "$CORPUS"
}

run_cp() {
  local run="$1" dest="$WORK/cp"
  rm -rf "$dest"
  sync
  # shellcheck disable=SC2016  # $1/$2 are expanded by the inner sh
  timed cp import "$run" "$dest" sh -c 'cp -r "$1" "$2" && sync' sh "$CORPUS" "$dest"
}

run_read() {
  local run="$1"
  # shellcheck disable=SC2016  # $1 is expanded by the inner sh
  timed read import "$run" - sh -c 'find "$1" -type f -exec cat {} + >/dev/null' sh "$CORPUS"
}

# ------------------------------------------------------------- machine ---
src_files="$(find "$CORPUS" -type f | wc -l)"
src_bytes="$(find "$CORPUS" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')"
cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
mem_total="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
df_work="$(df -T "$WORK" | awk 'NR == 2 { print $1 " (" $2 "), " $7 }')"
df_corpus="$(df -T "$CORPUS" | awk 'NR == 2 { print $1 " (" $2 "), " $7 }')"
restic_version="$("$RESTIC" version 2>/dev/null | head -n1 || echo n/a)"
if [[ "$SHOEBOX_STATUS" == ok ]]; then
  shoebox_version="$("$SHOEBOX" --version 2>/dev/null | head -n1 || echo unknown) ($SHOEBOX)"
else
  shoebox_version="$SHOEBOX_STATUS"
fi
{
  printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf 'host\t%s\n' "$(hostname)"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$cpu_model"
  printf 'ram\t%s\n' "$mem_total"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'os\t%s\n' "$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)"
  printf 'work_fs\t%s (%s)\n' "$df_work" "$WORK"
  printf 'corpus_fs\t%s (%s)\n' "$df_corpus" "$CORPUS"
  printf 'loadavg_start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'cold_cache\t%s\n' "$COLD"
  printf 'runs\t%s\n' "$N"
  printf 'corpus\t%s (%s files, %s bytes)\n' "$CORPUS" "$src_files" "$src_bytes"
  printf 'shoebox\t%s\n' "$shoebox_version"
  printf 'restic\t%s\n' "$restic_version"
  printf 'cp\t%s\n' "$(cp --version | head -n1)"
} >"$LOGDIR/machine.tsv"

# ---------------------------------------------------------------- runs ---
order=()
if [[ "$SHOEBOX_STATUS" == ok ]]; then order+=(shoebox); fi
if want restic; then order+=(restic); fi
if want cp; then order+=(cp); fi
if want read; then order+=(read); fi
[[ ${#order[@]} -gt 0 ]] || { echo "error: nothing to run" >&2; exit 1; }

free_kb="$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')"
need_kb=$(( src_bytes * 2 / 1024 + 1048576 ))
if (( free_kb < need_kb )); then
  echo "error: need ~$((need_kb / 1048576)) GiB free in $WORK, have $((free_kb / 1048576)) GiB" >&2
  exit 1
fi

log "corpus $CORPUS: $src_files files, $src_bytes bytes; tools: ${order[*]}; N=$N; logs: $LOGDIR"
: >"$RAW"
for ((run = 1; run <= N; run++)); do
  k=${#order[@]}
  for ((j = 0; j < k; j++)); do
    tool="${order[$(( (j + run - 1) % k ))]}"
    "run_$tool" "$run"
  done
done
rm -rf "$WORK/sb" "$WORK/restic" "$WORK/restic-cache" "$WORK/cp"

# ------------------------------------------------------------- report ---
python3 - "$RAW" "$LOGDIR/machine.tsv" "$src_bytes" "$SHOEBOX_STATUS" >"$RESULTS" <<'PY'
import statistics, sys

raw, machine, src_bytes, sb_status = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = {}
for line in open(raw):
    tool, phase, run, wall, rss, stored, tsync, cpu = line.rstrip("\n").split("\t")
    rows.setdefault((tool, phase), []).append(
        (float(wall), int(rss), int(stored), float(tsync), float(cpu)))

def med(tool, phase, i):
    v = [r[i] for r in rows.get((tool, phase), [])]
    return statistics.median(v) if v else None

def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)

mbps = {}
out = []
out.append("| tool | median wall (s) | runs (s) | MB/s | CPU user+sys (s) | peak RSS (MiB) "
           "| stored / source | trailing sync (s) | no-change re-run (s) "
           "| re-run CPU (s) | re-run peak RSS (MiB) |")
out.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
labels = {"shoebox": "shoebox import", "restic": "restic backup", "cp": "cp -r + sync",
          "read": "read only (cat, no write)"}
for tool in ("shoebox", "restic", "cp", "read"):
    if (tool, "import") not in rows:
        if tool == "shoebox":
            out.append(f"| {labels[tool]} | pending | | | | | | | | | |")
        continue
    wall = med(tool, "import", 0)
    mbps[tool] = src_bytes / 1e6 / wall
    runs = ", ".join(f"{r[0]:.2f}" for r in rows[(tool, "import")])
    re_wall = med(tool, "reimport", 0)
    re_rss = med(tool, "reimport", 1)
    stored = med(tool, "import", 2) / src_bytes if tool != "read" else None
    tsync = med(tool, "import", 3) if tool in ("shoebox", "restic") else None
    out.append(
        f"| {labels[tool]} | {wall:.2f} | {runs} | {mbps[tool]:.1f} "
        f"| {med(tool, 'import', 4):.2f} | {med(tool, 'import', 1) / 1024:.0f} "
        f"| {fmt(stored, '.3f')} | {fmt(tsync, '.2f')} "
        f"| {fmt(re_wall, '.2f')} | {fmt(med(tool, 'reimport', 4), '.2f')} "
        f"| {fmt(None if re_rss is None else re_rss / 1024, '.0f')} |")

print("## Import benchmark\n")
print("| machine | |\n|---|---|")
for line in open(machine):
    k, v = line.rstrip("\n").split("\t", 1)
    print(f"| {k} | {v.replace('|', '/')} |")
print()
print("\n".join(out))
print()
if "shoebox" in mbps and "restic" in mbps:
    print(f"- shoebox / restic throughput: **{mbps['shoebox'] / mbps['restic']:.2f}x**")
if "shoebox" in mbps and "cp" in mbps:
    print(f"- shoebox / (cp + sync) throughput: **{mbps['shoebox'] / mbps['cp']:.2f}x**")
if "restic" in mbps and "cp" in mbps:
    print(f"- restic / (cp + sync) throughput: {mbps['restic'] / mbps['cp']:.2f}x")
if "shoebox" in mbps and rows.get(("restic", "reimport")) and rows.get(("shoebox", "reimport")):
    print(f"- no-change re-run, shoebox / restic time: "
          f"{med('shoebox', 'reimport', 0) / med('restic', 'reimport', 0):.2f}x")
if "shoebox" not in mbps:
    print(f"- shoebox: {sb_status}")
print()
print("MB = 10^6 bytes of source file content; stored = `du -sb` of data dir / repo / copy;")
print("\"trailing sync\" = time of an untimed `sync` right after the command (dirty data it left);")
print("no-change re-run = same command again on the same data dir / repo, cold cache.")
PY
cp "$RAW" "$RESULTS.raw.tsv"
cat "$RESULTS"
log "results: $RESULTS (raw: $RESULTS.raw.tsv, logs: $LOGDIR)"
