"""Regenerate lesson 06's checkpoint (simplex_edu/data/mess3_transformer.pt, .json) and its measured record (.measured.json).

Takes about ten minutes on one quiet CPU core (578 s recorded): `.venv/bin/python scripts/make_mess3_checkpoint.py`.
"""

import torch

from simplex_edu.beliefs.transformer import make_checkpoint, measure_checkpoint

if __name__ == "__main__":
    torch.set_num_threads(1)  # the recorded losses were made with one thread, as the notebooks run
    print(make_checkpoint())
    print(measure_checkpoint())  # 20,000 fresh sequences: the numbers the README's table quotes
