"""Regenerate a transformer checkpoint (simplex_edu/data/<process>_transformer.pt, .json) and its measured record.

`.venv/bin/python scripts/make_checkpoint.py mess3` remakes lesson 06's (about ten minutes on one quiet CPU core,
578 s recorded); `... rrxor` remakes lesson 08's (the time is in its .json record).
"""

import sys

import torch

from simplex_edu.beliefs.transformer import PROCESSES, make_checkpoint, measure_checkpoint
from simplex_edu.beliefs.beyond import RRXOR_RECIPE, measure_rrxor

if __name__ == "__main__":
    process = sys.argv[1] if len(sys.argv) > 1 else ""
    if process not in PROCESSES:
        sys.exit(f"usage: make_checkpoint.py {{{'|'.join(PROCESSES)}}}")
    torch.set_num_threads(1)  # the recorded losses were made with one thread, as the notebooks run
    if process == "mess3":
        print(make_checkpoint())
        print(measure_checkpoint())  # 20,000 fresh sequences: the numbers the README's table quotes
    else:
        print(make_checkpoint(recipe=RRXOR_RECIPE))
        print(measure_rrxor())
