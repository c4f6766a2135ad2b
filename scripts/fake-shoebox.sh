#!/usr/bin/env bash
# Stand-in for the shoebox binary, only for testing scripts/bench-import.sh
# before a real build exists:
#   SHOEBOX=scripts/fake-shoebox.sh scripts/bench-import.sh CORPUS
# Implements `fake-shoebox.sh [--data DIR] import PATH...` as `cp -r --update`
# into DIR/files (a no-change re-import copies nothing).
set -euo pipefail
data="${SHOEBOX_DATA:-$HOME/.local/share/shoebox}"
if [[ "${1:-}" == --data ]]; then data="$2"; shift 2; fi
case "${1:-}" in
  --help|-h|"") echo "usage: fake-shoebox.sh [--data DIR] import PATH..."; exit 0 ;;
  --version) echo "fake-shoebox 0 (cp -r --update wrapper)"; exit 0 ;;
  import) shift ;;
  *) echo "fake-shoebox: unknown command $1" >&2; exit 2 ;;
esac
mkdir -p "$data/files"
for p in "$@"; do cp -r --update "$p" "$data/files/"; done
