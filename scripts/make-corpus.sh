#!/usr/bin/env bash
# Generate the deterministic benchmark photo corpus (see docs/BENCHMARKS.md).
#
#   scripts/make-corpus.sh [--small] [--seed N] [--seeds DIR] [--force] TARGET
#
# Full mode writes ~1.75 GB, --small ~150 MB.  Seeds default to
# $(git rev-parse --show-toplevel)/../shared/corpus (override with --seeds or
# CORPUS_SEEDS).  The generator itself is scripts/make_corpus.py (python3
# standard library; uses /usr/bin/convert and ffmpeg when available).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/make_corpus.py" "$@"
