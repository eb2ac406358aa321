#!/usr/bin/env bash
# The oldest versions pyproject allows are versions we test (constraints-min.txt):
#  1. Python 3.11 with those floors: every solution notebook through strict nbval.
#  2. Python 3.10 (the oldest Python pyproject allows): torch has no CPU wheel for it on this machine, so it runs
#     what needs no torch: the whole package byte-compiles, and lesson 00 (solution strict, lesson lax) runs.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv-min
.venv-min/bin/pip install -q -c constraints.txt -c constraints-min.txt -e ".[test]"
.venv-min/bin/python -m pytest -q solutions

# pyenv's shim answers for python3.10 only when that version is selected: ask it, or find the interpreter.
py310=""
if python3.10 --version >/dev/null 2>&1; then py310=python3.10
elif command -v pyenv >/dev/null 2>&1; then
  py310=$(ls -d "$(pyenv root)"/versions/3.10*/bin/python3.10 2>/dev/null | tail -n 1)
fi
if [ -n "$py310" ]; then
  "$py310" -m venv .venv-py310
  # The course's own runtime dependencies except torch, at their floors, plus what runs notebooks.
  .venv-py310/bin/pip install -q -c constraints-min.txt numpy matplotlib ipywidgets tqdm jupyterlab \
      pytest pytest-xdist nbval ipykernel
  .venv-py310/bin/pip install -q --no-deps -e .
  .venv-py310/bin/python -m compileall -q simplex_edu
  .venv-py310/bin/python -m pytest -q solutions/00_welcome.ipynb lessons/00_welcome.ipynb
else
  echo "python3.10 is not on this machine: skipped the Python 3.10 run" >&2
  exit 1
fi
