#!/usr/bin/env bash
# CI (issue 12): the classroom kit graded end to end with real nbgrader: `simplex-edu classroom`, generate,
# three students per lesson for lessons 00 and 04, autograde with no grading variable set, validate, feedback.
# Needs the .venv that the README's test command creates; installs the `teach` extra (nbgrader) into it.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install -q -c constraints.txt -e ".[test,teach]"
SIMPLEX_EDU_CLASSROOM=1 .venv/bin/python -m pytest tests/test_classroom.py -n 0 -q -s  # with nbgrader: none skipped
