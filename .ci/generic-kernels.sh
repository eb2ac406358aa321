#!/usr/bin/env bash
# The solutions' stored outputs must hold on any CPU (issue 10): run their strict nbval again, and the lessons, with
# torch forced onto its generic kernels (no vector extensions: the path furthest from the AVX2/AVX-512 one the main
# run takes). An AVX2 pass on AVX-512 machines was dropped to keep CI within its 30 minutes: generic and native are
# the two ends, and every stored claim is also pinned by a tolerance test. Needs the .venv that the README's test
# command creates. Two workers: a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== solutions' and lessons' nbval with ATEN_CPU_CAPABILITY=default"
ATEN_CPU_CAPABILITY=default .venv/bin/python -m pytest -q solutions lessons  # pyproject: -n 2
