#!/usr/bin/env bash
# The course website: install the docs extra into .venv (created by .ci/run's test command), build the site with
# the network cut off (every lesson executed afresh), then test it, in headless Chromium too. A few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export SIMPLEX_EDU_REQUIRE_BROWSER=1 SIMPLEX_EDU_REQUIRE_SITE=1

.venv/bin/pip install -q -c constraints.txt -e ".[docs]"
out="$(mktemp -d)/site"
build=(.venv/bin/simplex-edu site --out "$out" --no-cache)
if unshare -n true 2>/dev/null; then
  # A new network namespace with only loopback up (the kernels talk over it): the build must need nothing else.
  unshare -n sh -c 'ip link set lo up && exec "$@"' sh "${build[@]}"
else
  echo "unshare -n is not available here: built the site with the network up"
  "${build[@]}"
fi
du -sh "$out"
SIMPLEX_EDU_SITE_DIR="$out" .venv/bin/python -m pytest -n 0 -q tests/test_site.py tests/test_browser_accessibility.py -k "not keyboard"
