# Shared by the backup benchmarks (sourced, not run): starts one s3s-fs on 127.0.0.1:$PORT
# serving $WORK/s3 (bucket "bench"), stops it and removes $WORK on exit, and times commands.
# Needs WORK, PORT, S3S, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set.
rm -rf "$WORK"; mkdir -p "$WORK/s3/bench"
# s3s::service logs one "req:" line per request: the request counts below.
RUST_LOG=s3s::service=debug "$S3S" --host 127.0.0.1 --port "$PORT" --access-key "$AWS_ACCESS_KEY_ID" \
  --secret-key "$AWS_SECRET_ACCESS_KEY" "$WORK/s3" >"$WORK/s3s.log" 2>&1 &
s3pid=$!
trap 'kill $s3pid 2>/dev/null || true; rm -rf "$WORK"' EXIT
sleep 1

requests() { grep -c 's3s::service: req:' "$WORK/s3s.log" || true; }

# timed LABEL CMD...: runs CMD, prints "LABEL wall_s rss_kib cpu_s requests"
timed() {
  local label=$1; shift
  local t0 t1 r0 rss cpu
  r0=$(requests)
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>&1 || { cat "$WORK/out.txt" >&2; exit 1; }
  t1=$(date +%s%N)
  rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$WORK/time.txt")
  cpu=$(awk -F: '/User time|System time/ {s+=$2} END {printf "%.1f", s}' "$WORK/time.txt")
  sleep 0.2
  printf '%s %.2f %s %s %s\n' "$label" "$(echo "($t1-$t0)/1000000000" | bc -l)" "$rss" "$cpu" "$(( $(requests) - r0 ))"
}
