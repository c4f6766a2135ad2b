#!/usr/bin/env bash
# WebDAV ingest benchmarks (issue 7), side by side in one run:
#   1. rclone upload of CORPUS into shoebox's /dav/<user>/ vs into `rclone serve webdav`
#      (a plain file server, no dedup) on the same disk; N rounds, order alternating,
#      median wall time and MB/s; ratio shoebox/plain (target >= 0.8).
#   2. peak RSS of `shoebox serve` during one 4 GiB single-file upload (a sparse source
#      file of zeros: the client reads nothing from disk; target < 64 MiB).
#   3. PROPFIND Depth 1 of a folder holding 10 000 uploads (median of 5; target < 200 ms).
#
#   scripts/bench-dav.sh [CORPUS]      (default /work/bench-corpus)
#
# Environment: N (rounds, default 3), WORK (default /work/bench-work/dav), SHOEBOX (binary,
# default <repo>/target/release/shoebox), BIG_GIB (default 4), PROPFIND_FILES (default 10000),
# PARTS (which of the three to run, default "1 2 3"; part 3 alone needs no corpus).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(dirname "$here")"
CORPUS="${1:-/work/bench-corpus}"
N="${N:-3}"
WORK="${WORK:-/work/bench-work/dav}"
SHOEBOX="${SHOEBOX:-$top/target/release/shoebox}"
BIG_GIB="${BIG_GIB:-4}"
PROPFIND_FILES="${PROPFIND_FILES:-10000}"
PARTS="${PARTS:-1 2 3}"
part() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
PW="correct horse battery staple"

command -v rclone >/dev/null || { echo "rclone is needed" >&2; exit 1; }
[ -x "$SHOEBOX" ] || { echo "build first: cargo build --release" >&2; exit 1; }
mkdir -p "$WORK"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
stop() { kill "$1" 2>/dev/null || true; while kill -0 "$1" 2>/dev/null; do sleep 0.1; done; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# A fresh shoebox with owner anna; prints "PID PORT APP_PASSWORD".
start_shoebox() {
  local data="$1" port
  rm -rf "$data"
  echo "$PW" | "$SHOEBOX" --data "$data" setup --owner anna >/dev/null
  local app; app="$("$SHOEBOX" --data "$data" user app-password anna)"
  port="$(free_port)"
  SHOEBOX_DAV_RESERVE_MB="${SHOEBOX_DAV_RESERVE_MB:-0}" RUST_LOG=warn \
    "$SHOEBOX" --data "$data" serve --listen "127.0.0.1:$port" --no-mdns >"$data.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_port "$port"
  echo "$pid $port $app"
}

# rclone remote env for URL USER PASS
remote() {
  export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_SB_TYPE=webdav RCLONE_CONFIG_SB_VENDOR=other
  export RCLONE_CONFIG_SB_URL="$1" RCLONE_CONFIG_SB_USER="$2"
  RCLONE_CONFIG_SB_PASS="$(rclone obscure "$3")"; export RCLONE_CONFIG_SB_PASS
}

if part 1; then
bytes=$(du -sb "$CORPUS" | cut -f1)
files=$(find "$CORPUS" -type f | wc -l)
echo "## corpus: $CORPUS, $files files, $((bytes / 1048576)) MiB; $N rounds"

# 1. Throughput.
: >"$WORK/shoebox.times"; : >"$WORK/plain.times"
for round in $(seq "$N"); do
  for tool in $( ((round % 2)) && echo "shoebox plain" || echo "plain shoebox"); do
    sync
    if [ "$tool" = shoebox ]; then
      read -r pid port app < <(start_shoebox "$WORK/sb")
      remote "http://127.0.0.1:$port/dav/anna/" anna "$app"
    else
      rm -rf "$WORK/plain"; mkdir -p "$WORK/plain"
      port="$(free_port)"
      rclone serve webdav "$WORK/plain" --addr "127.0.0.1:$port" --user anna --pass "$PW" \
        >"$WORK/plain.log" 2>&1 &
      pid=$!; pids+=("$pid"); wait_port "$port"
      remote "http://127.0.0.1:$port/" anna "$PW"
    fi
    t0=$(now_ns)
    rclone copy "$CORPUS" sb: --transfers 4 --checkers 8
    sync
    t1=$(now_ns)
    echo $(( (t1 - t0) / 1000000 )) >>"$WORK/$tool.times"
    stop "$pid"
    echo "round $round $tool: $(( (t1 - t0) / 1000000 )) ms"
  done
done
sb=$(median <"$WORK/shoebox.times"); pl=$(median <"$WORK/plain.times")
echo "| upload of the corpus with rclone (median of $N, incl. final sync) | shoebox ${sb} ms ($(awk -v b="$bytes" -v t="$sb" 'BEGIN{printf "%.1f", b/1048576/(t/1000)}') MiB/s) | rclone serve webdav ${pl} ms ($(awk -v b="$bytes" -v t="$pl" 'BEGIN{printf "%.1f", b/1048576/(t/1000)}') MiB/s) | ratio $(awk -v a="$sb" -v b="$pl" 'BEGIN{printf "%.2f", b/a}')x |"

fi

# 2. Peak RSS during one big upload.
read -r pid port app < <(start_shoebox "$WORK/sb")
if part 2; then
big="$WORK/big.bin"; rm -f "$big"; truncate -s "${BIG_GIB}G" "$big"
t0=$(now_ns)
code=$(curl -s -o /dev/null -w '%{http_code}' -u "anna:$app" -T "$big" "http://127.0.0.1:$port/dav/anna/big.mov")
t1=$(now_ns)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "| ${BIG_GIB} GiB single-file upload (curl, HTTP $code) | $(( (t1 - t0) / 1000000 )) ms | peak RSS of shoebox serve: $((hwm / 1024)) MiB |"
rm -f "$big"
fi

if part 3; then
# 3. PROPFIND of a folder with many uploads (tiny distinct files, sent with rclone).
src="$WORK/many"; rm -rf "$src"; mkdir -p "$src/f"
python3 - "$src/f" "$PROPFIND_FILES" <<'EOF'
import sys, os
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(d, f"note_{i:05}.txt"), "w") as f:
        f.write(f"upload {i}\n")
EOF
remote "http://127.0.0.1:$port/dav/anna/" anna "$app"
rclone copy "$src" sb: --transfers 16 --checkers 16
: >"$WORK/propfind.times"
for _ in 1 2 3 4 5; do
  t=$(curl -s -o "$WORK/propfind.xml" -w '%{time_total}' -u "anna:$app" -X PROPFIND -H 'Depth: 1' \
    "http://127.0.0.1:$port/dav/anna/f/")
  awk -v t="$t" 'BEGIN{print int(t*1000)}' >>"$WORK/propfind.times"
done
listed=$(grep -o '<D:response>' "$WORK/propfind.xml" | wc -l)
echo "| PROPFIND Depth 1 (allprop) of a folder of $PROPFIND_FILES uploads ($((listed - 1)) listed) | median $(median <"$WORK/propfind.times") ms of 5 |"
# What the Nextcloud apps ask for: named DAV:, oc: and nc: properties.
body='<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns"><d:prop><d:getlastmodified/><d:getcontentlength/><d:getetag/><d:resourcetype/><oc:id/><oc:fileid/><oc:permissions/><oc:size/><nc:has-preview/></d:prop></d:propfind>'
: >"$WORK/propfind-nc.times"
for _ in 1 2 3 4 5; do
  t=$(curl -s -o "$WORK/propfind-nc.xml" -w '%{time_total}' -u "anna:$app" -X PROPFIND -H 'Depth: 1' \
    -H 'Content-Type: application/xml' --data "$body" "http://127.0.0.1:$port/remote.php/dav/files/anna/f/")
  awk -v t="$t" 'BEGIN{print int(t*1000)}' >>"$WORK/propfind-nc.times"
done
listed=$(grep -o '<d:response>\|<D:response>' "$WORK/propfind-nc.xml" | wc -l)
echo "| PROPFIND Depth 1 (Nextcloud's properties) of the same folder ($((listed - 1)) listed) | median $(median <"$WORK/propfind-nc.times") ms of 5 |"
fi
stop "$pid"
rm -rf "$WORK/sb" "$WORK/plain" "$src"
