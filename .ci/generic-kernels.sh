#!/usr/bin/env bash
# The solutions' stored outputs must hold on any CPU (issue 10): run their strict nbval again with torch forced
# onto its generic kernels, and onto AVX2 when this CPU has AVX-512 (as a second, different vector path).
# Generic kernels run the lessons too, so .ci/run uses this as its offline run. Needs the .venv that the README's
# test command creates. Two workers: a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

capabilities=(default)
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  capabilities+=(avx2)
fi
for capability in "${capabilities[@]}"; do
  echo "== solutions' nbval with ATEN_CPU_CAPABILITY=$capability"
  folders=(solutions)
  [ "$capability" = default ] && folders+=(lessons)
  ATEN_CPU_CAPABILITY="$capability" .venv/bin/python -m pytest -q "${folders[@]}"  # pyproject: -n 2
done
