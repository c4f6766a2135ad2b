#!/usr/bin/env bash
# shoebox vs icloudpd, side by side, against the same fake iCloud (examples/fake_icloud.rs)
# served over TLS under Apple's real host names (protocol notes §5.5): a first sync and a
# no-change sync of each tool, per round; the order alternates between rounds. Prints wall
# time, download rate, peak RSS and request counts (the fake counts them; it is cleared
# before each run so every count is one client's), the medians over the rounds, and a
# differential check of the first round: every file icloudpd wrote must be, byte for byte,
# among the files of `shoebox export`.
#   ASSETS=10000 BLOB=49152 BW=4000000 RUNS=3 scripts/bench-icloudpd.sh
# Needs root (port 443 and /etc/hosts, restored on exit), /usr/bin/time, and icloudpd
# (ICLOUDPD, default /tmp/icloudpd-venv/bin/icloudpd: python3 -m venv /tmp/icloudpd-venv &&
# /tmp/icloudpd-venv/bin/pip install icloudpd). Binaries: SHOEBOX and FAKE, by default the
# release builds (cargo build --release --example fake_icloud --bin shoebox).
set -euo pipefail
cd "$(dirname "$0")/.."
ASSETS=${ASSETS:-1000}; BLOB=${BLOB:-49152}; BW=${BW:-4000000}; RUNS=${RUNS:-3}
ICLOUDPD=${ICLOUDPD:-/tmp/icloudpd-venv/bin/icloudpd}
SHOEBOX=${SHOEBOX:-target/release/shoebox}; FAKE=${FAKE:-target/release/examples/fake_icloud}
HOSTS_LINE="127.0.0.1 idmsa.apple.com setup.icloud.com www.icloud.com p61-ckdatabasews.icloud.com cvws.icloud-content.com"
for tool in "$ICLOUDPD" "$SHOEBOX" "$FAKE" /usr/bin/time; do
  [ -x "$tool" ] || { echo "missing: $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "needs root: port 443 and /etc/hosts" >&2; exit 1; }

work=$(mktemp -d /work/bench-work/icloudpd.XXXXXX 2>/dev/null || mktemp -d)
cp /etc/hosts "$work/hosts.orig"
fake_pid=
cleanup() {
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
  # Written back in place: /etc/hosts may be a bind mount that cannot be replaced.
  cat "$work/hosts.orig" >/etc/hosts
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
[ -z "$(tail -c 1 /etc/hosts)" ] || echo >>/etc/hosts
echo "$HOSTS_LINE" >>/etc/hosts

"$FAKE" "$ASSETS" "$BLOB" "$BW" "$work/ca.pem" >"$work/fake.out" &
fake_pid=$!
for _ in $(seq 100); do grep -q READY "$work/fake.out" 2>/dev/null && break; sleep 0.1; done
read -r _ url apple_id _ _ trust < <(grep READY "$work/fake.out")
password="bench password"
requests() { curl -s --cacert "$work/ca.pem" "$url/_fake/requests?clear=1" | tr -dc '0-9'; }
# Which routes a no-change sync used (kept in the log: icloudpd re-lists, shoebox asks once).
routes() { curl -s --cacert "$work/ca.pem" "$url/_fake/requests?list=1" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("by_route", {}))'; }
# run NAME CMD...: wall seconds, peak RSS MiB and requests of one run into $work/NAME.row
run() {
  local name=$1; shift
  requests >/dev/null
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 || {
    echo "$name failed; log:" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
  t1=$(date +%s%N)
  local rss
  [[ $name != *-1 ]] || echo "$name: $(routes)" >>"$work/routes.txt"
  rss=$(awk -F': ' '/Maximum resident/ {print int($2 / 1024)}' "$work/$name.time")
  echo "$(( (t1 - t0) / 1000000 )) $rss $(requests)" >"$work/$name.row"
}
tree_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

icloudpd_round() {
  local r=$1 dir=$work/pd$r
  rm -rf "$dir"; mkdir -p "$dir/dl"; mkdir -m 700 "$dir/cookies"
  # A session that went through two-factor sign-in before (icloudpd's binary cannot reach
  # the code-entry endpoints through a test CA; see docs/BENCHMARKS.md).
  printf '{"client_id": "auth-bench", "trust_token": "%s"}\n' "$trust" \
    >"$dir/cookies/$(echo "$apple_id" | tr -dc 'a-zA-Z0-9_').session"
  local pd=("$ICLOUDPD" -u "$apple_id" -p "$password" --mfa-provider console
    --cookie-directory "$dir/cookies" -d "$dir/dl" --no-progress-bar --log-level info)
  pushd "$dir" >/dev/null   # icloudpd drops icloudpd-photo-error.json into its working dir
  REQUESTS_CA_BUNDLE=$work/ca.pem run "pd-first-$r" "${pd[@]}"
  echo "$(tree_bytes "$dir/dl") $(find "$dir/dl" -type f | wc -l)" >>"$work/pd-first-$r.row"
  REQUESTS_CA_BUNDLE=$work/ca.pem run "pd-nochange-$r" "${pd[@]}"
  popd >/dev/null
}

shoebox_round() {
  local r=$1
  export SHOEBOX_DATA=$work/sb$r SHOEBOX_EXTRA_CA_FILE=$work/ca.pem
  export SHOEBOX_ICLOUD_AUTH_URL=https://idmsa.apple.com/appleauth/auth
  export SHOEBOX_ICLOUD_SETUP_URL=https://setup.icloud.com/setup/ws/1
  export SHOEBOX_ICLOUD_HOME_URL=https://www.icloud.com
  rm -rf "$SHOEBOX_DATA"
  echo 424242 | SHOEBOX_ICLOUD_PASSWORD=$password "$SHOEBOX" icloud login --apple-id "$apple_id" >/dev/null 2>&1
  run "sb-first-$r" "$SHOEBOX" icloud sync
  local bytes files
  bytes=$(grep -o '[0-9]* bytes' "$work/sb-first-$r.log" | tr -dc '0-9')
  files=$(grep -o '[0-9]* new' "$work/sb-first-$r.log" | tr -dc '0-9')
  echo "${bytes:-0} ${files:-0}" >>"$work/sb-first-$r.row"
  run "sb-nochange-$r" "$SHOEBOX" icloud sync
}

# Differential check on round 1: content hashes, not names (the tools name files differently).
differential() {
  "$SHOEBOX" --data "$work/sb1" export "$work/export" >/dev/null
  (cd "$work/pd1/dl" && find . -type f -print0 | xargs -0 sha256sum | cut -d' ' -f1 | sort -u) >"$work/pd.sums"
  (cd "$work/export" && find . -type f -print0 | xargs -0 sha256sum | cut -d' ' -f1 | sort -u) >"$work/sb.sums"
  both=$(comm -12 "$work/pd.sums" "$work/sb.sums" | wc -l)
  only_pd=$(comm -23 "$work/pd.sums" "$work/sb.sums" | wc -l)
  only_sb=$(comm -13 "$work/pd.sums" "$work/sb.sums" | wc -l)
  pd_skipped=$(grep -c "downloadURL' attribute was not found" "$work/pd-first-1.log" || true)
}

for r in $(seq "$RUNS"); do
  if [ $((r % 2)) = 1 ]; then icloudpd_round "$r"; shoebox_round "$r"
  else shoebox_round "$r"; icloudpd_round "$r"; fi
  echo "round $r (ms RSS requests bytes files): icloudpd $(tr '\n' ' ' <"$work/pd-first-$r.row")| shoebox $(tr '\n' ' ' <"$work/sb-first-$r.row")" >&2
  [ "$r" != 1 ] || differential
  rm -rf "$work/pd$r" "$work/sb$r" "$work/export"   # a 10 000-asset round is ~3 GB of disk
done

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
col() { for r in $(seq "$RUNS"); do awk -v c="$2" 'NR == 1 {print $c}' "$work/$1-$r.row"; done | median; }
col2() { for r in $(seq "$RUNS"); do awk -v c="$2" 'NR == 2 {print $c}' "$work/$1-$r.row"; done | median; }
all() { for r in $(seq "$RUNS"); do awk -v c="$2" 'NR == 1 {printf "%s ", $c}' "$work/$1-$r.row"; done; }
mbps() { python3 -c "print(f'{$1 / ($2 / 1000) / 1e6:.2f}')"; }

pd_ms=$(col pd-first 1); sb_ms=$(col sb-first 1)
pd_bytes=$(col2 pd-first 1); sb_bytes=$(col2 sb-first 1)
pd_rate=$(mbps "$pd_bytes" "$pd_ms"); sb_rate=$(mbps "$sb_bytes" "$sb_ms")
pd_nc=$(col pd-nochange 3); sb_nc=$(col sb-nochange 3)
cat <<EOF
## shoebox vs icloudpd on the fake iCloud ($(date -u '+%Y-%m-%d %H:%M UTC'))
library: $ASSETS assets, originals from $BLOB bytes, cap $BW B/s per connection; $RUNS rounds
machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)
tools: $("$SHOEBOX" version 2>/dev/null | head -1), $("$ICLOUDPD" --version 2>/dev/null | head -1)

| measure (median of $RUNS) | icloudpd | shoebox | ratio |
|---|---:|---:|---:|
| first sync, wall | $(python3 -c "print(f'{$pd_ms/1000:.1f} s')") | $(python3 -c "print(f'{$sb_ms/1000:.1f} s')") | |
| first sync, files / bytes | $(col2 pd-first 2) / $pd_bytes | $(col2 sb-first 2) assets / $sb_bytes | |
| first sync, download rate | $pd_rate MB/s | $sb_rate MB/s | $(python3 -c "print(f'{$sb_rate / $pd_rate:.1f}x')") |
| first sync, peak RSS | $(col pd-first 2) MiB | $(col sb-first 2) MiB | |
| first sync, requests | $(col pd-first 3) | $(col sb-first 3) | |
| no-change sync, wall | $(python3 -c "print(f'{$(col pd-nochange 1)/1000:.2f} s')") | $(python3 -c "print(f'{$(col sb-nochange 1)/1000:.2f} s')") | |
| no-change sync, requests | $pd_nc | $sb_nc | $(python3 -c "print(f'{$pd_nc / max($sb_nc, 1):.0f}x fewer')") |
| no-change sync, peak RSS | $(col pd-nochange 2) MiB | $(col sb-nochange 2) MiB | |

$(cat "$work/routes.txt")
per round (ms): icloudpd first $(all pd-first 1)/ no-change $(all pd-nochange 1); shoebox first $(all sb-first 1)/ no-change $(all sb-nochange 1)
differential check (round 1, sha256 of file contents): $both in both, $only_pd only from icloudpd, $only_sb only in shoebox's export; icloudpd skipped $pd_skipped records without a downloadURL
EOF
[ "$only_pd" = 0 ] || { echo "DIFFERENTIAL CHECK FAILED: icloudpd has files shoebox lacks" >&2; exit 1; }
