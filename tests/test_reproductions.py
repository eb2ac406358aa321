"""Pins for the README's reproductions table that no topic test pins yet.

The other rows are pinned where their lessons are tested: belief geometry in a transformer
(tests/test_beliefs_transformer.py), the amortization gap (tests/test_amortized.py), SINDy on Lorenz and
Lorenz's λ₁ (tests/test_dynamics.py).
"""

from __future__ import annotations

import numpy as np

from simplex_edu import chain_of_thought as C

BEYOND = [32, 48, 64]  # trained on lengths 1..16: these are 2–4× longer than any training problem


def test_chain_of_thought_generalises_in_length_and_direct_stays_at_chance():
    """Nye et al. 2021 / Feng et al. 2023 on parity: with the running state written out, a fixed-depth transformer
    answers problems far longer than it was trained on; trained on the answer alone it does not."""
    settings = C.SWEEP_SETTINGS
    runs = {kind: C.train_transformer(kind, settings["k"], steps=settings["steps"], seed=0, progress=False)[0]
            for kind in ("cot", "direct")}
    cot = C.evaluate(runs["cot"], "cot", lengths=BEYOND, n_problems=300)["accuracy"]
    direct = C.evaluate(runs["direct"], "direct", lengths=BEYOND, n_problems=300)["accuracy"]
    assert np.all(cot >= 0.95), cot
    assert np.all(np.abs(direct - 0.5) < 0.1), direct  # chance for parity; 300 problems: standard error ≈ 0.03


def test_the_shipped_sweep_shows_it_for_every_seed():
    """The lesson's figure (every seed of the shipped sweep, itself checked against the code in lesson 03's tests)."""
    sweep = C.load_sweep()
    at = [list(C.EVAL_LENGTHS).index(n) for n in BEYOND]
    for curve in C.sweep_curves(sweep, "cot", steps=sweep["settings"]["steps"]):
        assert np.all(curve[at] >= 0.85), curve  # seed 1 falls to 0.87 at N = 64; seeds 0 and 2 stay at 1.00
    for curve in C.sweep_curves(sweep, "direct", steps=sweep["settings"]["steps"]):
        assert np.all(curve[at] < 0.65), curve
