#!/usr/bin/env bash
# CI (issues 12, 20): the classroom kit graded end to end with real nbgrader: `simplex-edu classroom`, generate,
# seven students (lesson 00: right, blank, two who patch the checks, one who wraps the reference, one who edits
# and deletes check cells; lesson 04: one RK4 slip), autograde as a teacher runs it (no grading variable, the
# environment not activated), the classroom report, validate, offline feedback; each fair score asserted.
# Needs the .venv that the README's test command creates; installs the `teach` extra (nbgrader) into it.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install -q -c constraints.txt -e ".[test,teach]"
SIMPLEX_EDU_CLASSROOM=1 .venv/bin/python -m pytest tests/test_classroom.py -n 0 -q -s  # with nbgrader: none skipped
# every lesson's worked answers pass the grading judge (lessons 01–06 are not graded end to end above)
SIMPLEX_EDU_JUDGE_ALL=1 .venv/bin/python -m pytest tests/test_judge.py -n 0 -q -k every_lessons
