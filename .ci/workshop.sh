#!/usr/bin/env bash
# Workshop scale (issue 14; its unit tests run in the README's suite): a small real JupyterHub load
# test (2 users, lesson 00) and the six-lessons-in-one-Binder-session browser test. Run after the README's test
# command made .venv; installs the `hub` extra. A few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install -q -c constraints.txt -e ".[test,hub]"
.venv/bin/python scripts/workshop_load.py --users 2 --lesson 00
SIMPLEX_EDU_WORKSHOP_BROWSER=1 .venv/bin/python -m pytest -n 0 -q tests/test_browser_workshop.py
