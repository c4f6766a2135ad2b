#!/usr/bin/env bash
# Thumbnail benchmark: `shoebox thumbnails` vs `vipsthumbnail` on the same photos, one run.
#
#   scripts/bench-thumbs.sh [N_JPEG] [WORK]
#
# Makes N_JPEG (default 16) distinct 12 MP JPEGs (4032x3024, camera-like noise) with
# ImageMagick and copies the real iPhone/phone HEICs of ../shared/corpus. Then, for each tool,
# makes the two sizes shoebox makes (grid: 360 px short side; preview: 2048 px long side,
# JPEG q80) from every file, median of 3 runs, and reports files/s and peak RSS.
# shoebox's time includes reading the originals back from its store (they are imported once,
# untimed); vipsthumbnail reads plain files. Needs: libvips-tools, imagemagick, time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(dirname "$here")"
n="${1:-16}"
work="${2:-/work/bench-work/thumbs}"
shoebox="${SHOEBOX:-$top/target/x86_64-unknown-linux-gnu/release/shoebox}"
corpus="$top/../shared/corpus"
mkdir -p "$work/src"
if [ ! -f "$work/src/.ready" ]; then
  for i in $(seq 1 "$n"); do
    /usr/bin/convert -size 4032x3024 xc:gray -seed "$i" +noise Gaussian -quality 90 "$work/src/IMG_$i.jpg"
  done
  # real phone HEICs (iPhone 12 MP, Samsung, Xiaomi); copied under distinct names
  for f in exif-samples/heic/IMG_5195.HEIC exif-samples/heic/mobile/iphone_13_pro_max.HEIC \
           immich-test-assets/formats/heic/IMG_2682.heic immich-test-assets/formats/motionphoto/samsung-one-ui-6.heic \
           pillow-heif-testimages/tests/images/heif_special/xiaomi.heic; do
    [ -f "$corpus/$f" ] && cp "$corpus/$f" "$work/src/$(basename "$f")"
  done
  touch "$work/src/.ready"
fi
files=$(find "$work/src" -type f ! -name .ready | wc -l)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak() { awk '/Maximum resident/ {print $6}' "$1"; }

rm -rf "$work/lib"
"$shoebox" --data "$work/lib" import "$work/src" >/dev/null
sb=(); vt=()
for run in 1 2 3; do
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  t0=$(date +%s.%N)
  /usr/bin/time -v "$shoebox" --data "$work/lib" thumbnails --rebuild > "$work/sb.out" 2> "$work/sb.time"
  sb+=("$(echo "$(date +%s.%N) - $t0" | bc)")
  sb_rss=$(peak "$work/sb.time")
  rm -rf "$work/vips" && mkdir -p "$work/vips"
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  t0=$(date +%s.%N)
  /usr/bin/time -v sh -c "vipsthumbnail -s 480x360 -o '$work/vips/%s.grid.jpg[Q=80]' $work/src/* && vipsthumbnail -s 2048 -o '$work/vips/%s.preview.jpg[Q=80]' $work/src/*" 2> "$work/vt.time"
  vt+=("$(echo "$(date +%s.%N) - $t0" | bc)")
  vt_rss=$(peak "$work/vt.time")
done
sbm=$(printf '%s\n' "${sb[@]}" | median); vtm=$(printf '%s\n' "${vt[@]}" | median)
echo "files: $files ($n 12 MP JPEGs + $((files - n)) phone HEICs); $(nproc) cores; shoebox workers: see its log"
head -1 "$work/sb.out"
printf '| tool | median s (runs) | files/s | peak RSS |\n|---|---:|---:|---:|\n'
printf '| shoebox thumbnails | %.2f (%s) | %.1f | %d MiB |\n' "$sbm" "${sb[*]}" "$(echo "$files / $sbm" | bc -l)" $((sb_rss / 1024))
printf '| vipsthumbnail (2 passes) | %.2f (%s) | %.1f | %d MiB |\n' "$vtm" "${vt[*]}" "$(echo "$files / $vtm" | bc -l)" $((vt_rss / 1024))
printf 'shoebox / vipsthumbnail throughput: %.2fx\n' "$(echo "$vtm / $sbm" | bc -l)"
