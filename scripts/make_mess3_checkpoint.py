"""Regenerate lesson 06's checkpoint (simplex_edu/data/mess3_transformer.pt and .json) from its recipe.

Takes a few minutes on a quiet CPU: `.venv/bin/python scripts/make_mess3_checkpoint.py`.
"""

import torch

from simplex_edu.beliefs.transformer import make_checkpoint

if __name__ == "__main__":
    torch.set_num_threads(1)  # the recorded losses were made with one thread, as the notebooks run
    print(make_checkpoint())
