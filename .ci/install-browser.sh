#!/bin/sh
# Install Debian's Chromium for the browser tests (tests/test_browser.py). Idempotent and quiet: it does
# nothing when chromium is already on PATH, and prints apt's output only when the installation fails.
# The tests drive it with the Python `playwright` package (a test dependency); no browser is ever downloaded.
set -eu

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $SUDO apt-get update -qq \
       && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-browser: apt-get could not install chromium" >&2
    exit 1
fi
command -v chromium >/dev/null 2>&1 || { echo "install-browser: chromium installed but not on PATH" >&2; exit 1; }
