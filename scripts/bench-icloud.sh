#!/usr/bin/env bash
# iCloud pull benchmark against the fake iCloud (examples/fake_icloud.rs): first sync of an
# ASSETS-asset library through a per-connection bandwidth cap (Apple serves one stream at a
# few MB/s), then no-change syncs. Prints wall time, peak RSS and request counts.
#   ASSETS=10000 BLOB=49152 BW=4000000 RUNS=5 scripts/bench-icloud.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ASSETS=${ASSETS:-10000}; BLOB=${BLOB:-49152}; BW=${BW:-4000000}; RUNS=${RUNS:-5}
cargo build --release --quiet --bin shoebox --example fake_icloud
bin=target/release/shoebox
work=$(mktemp -d); trap 'kill $fake_pid 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/examples/fake_icloud "$ASSETS" "$BLOB" "$BW" >"$work/fake.out" &
fake_pid=$!
for _ in $(seq 100); do grep -q READY "$work/fake.out" 2>/dev/null && break; sleep 0.1; done
read -r _ url apple_id _ < <(grep READY "$work/fake.out")
export SHOEBOX_ICLOUD_AUTH_URL=$url/appleauth/auth SHOEBOX_ICLOUD_SETUP_URL=$url/setup/ws/1 SHOEBOX_ICLOUD_HOME_URL=$url
export SHOEBOX_DATA=$work/data
echo 424242 | SHOEBOX_ICLOUD_PASSWORD="bench password" $bin icloud login --apple-id "$apple_id" >/dev/null
curl -s "$url/_fake/requests?clear=1" >/dev/null
/usr/bin/time -f '%e %M' -o "$work/first.time" $bin icloud sync >"$work/first.out" 2>/dev/null
read -r wall rss <"$work/first.time"
reqs=$(curl -s "$url/_fake/requests?clear=1" | tr -dc '0-9')
bytes=$(grep -o '[0-9]* bytes' "$work/first.out" | tr -dc '0-9')
echo "first sync: $ASSETS assets, $bytes bytes, cap $BW B/s per connection"
echo "  wall ${wall}s, peak RSS $((rss / 1024)) MiB, $reqs requests, $(python3 -c "print(round($bytes/$wall/1e6,2))") MB/s"
times=()
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f '%e' -o "$work/nc.time" $bin icloud sync >"$work/nc.out" 2>/dev/null
  times+=("$(cat "$work/nc.time")")
  nreqs=$(curl -s "$url/_fake/requests?clear=1" | tr -dc '0-9')
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "no-change sync: median ${median}s over $RUNS runs (${times[*]}), $nreqs requests"
du -sh "$work/data" | awk '{print "data dir: " $1}'
