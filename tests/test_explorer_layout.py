"""Every explorer of every lesson, every control at each of its extremes: no text leaves the figure.

Explorers are built from briefly trained models (the layout depends on the controls, not on training quality).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from pathlib import Path
from typing import Callable

import ipywidgets as W
import numpy as np
import pytest
import torch

from simplex_edu.widgets import Explorer, texts_outside

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("error::UserWarning")  # a layout warning would print in the lesson


@pytest.fixture(autouse=True)
def kernel_images(monkeypatch: pytest.MonkeyPatch) -> None:
    """Explorers as a kernel draws them (1×), whatever an earlier test in this process set for the site."""
    from simplex_edu import plots
    monkeypatch.delenv(plots.RETINA, raising=False)


def _welcome() -> Explorer:
    from simplex_edu import welcome
    sizes = [10, 30, 100, 300, 1000, 3000, 10000]
    costs = {"bisection_per_query": 2.0e-5, "table_per_query": 2.0e-6}  # the lesson's ratio, about 10×
    errors = {n: welcome.max_table_error(welcome.build_table(n)) for n in sizes}
    return Explorer(functools.partial(welcome.ledger_view, costs=costs, errors=errors), welcome.draw_ledger, {
        "table_size": W.SelectionSlider(options=sizes, value=1000),
        "queries": W.IntSlider(value=100_000, min=1000, max=1_000_000, step=1000)})


def _levels() -> Explorer:
    from simplex_edu import levels
    networks = levels.trained_seeds((0, 1))
    return Explorer(functools.partial(levels.pair_view, networks=networks), levels.draw_pair, {
        "seed_a": W.Dropdown(options=[0, 1], value=0), "seed_b": W.Dropdown(options=[0, 1], value=1),
        "matched": W.ToggleButton(value=False)}, figsize=(9.6, 3.4), ncols=3)


@functools.cache
def _posterior_net():
    from simplex_edu import amortized as am
    return am.train_posterior_net(steps=20, snapshot_steps=[10, 20], seed=0, progress=False)


def _amortized_posteriors() -> Explorer:
    from simplex_edu import amortized as am
    net = _posterior_net()[0]
    return Explorer(functools.partial(am.posterior_view, net), am.draw_posteriors, {
        "theta": W.FloatSlider(value=1.0, min=-8, max=8, step=0.5), "n_points": W.IntSlider(value=10, min=1, max=160)})


def _amortized_ledger() -> Explorer:
    from simplex_edu import amortized as am
    _, history, snapshots = _posterior_net()
    costs = {"exact formula": 2e-6, "grid": 4e-5, "MCMC": 1e-2, "network": 1e-4}
    curve = am.budget_curve(history, snapshots, costs, mcmc_error=0.02)
    return Explorer(functools.partial(am.ledger_view, curve), am.draw_ledger, {
        "train_steps": W.SelectionSlider(options=[10, 20], value=20),
        "n_queries": W.IntSlider(value=1000, min=100, max=5000, step=100)}, figsize=(7, 3.6))


def _chain_of_thought() -> Explorer:
    from simplex_edu import chain_of_thought as cot
    models = {kind: cot.train_transformer(kind, steps=2, seed=0, progress=False)[0] for kind in ("cot", "direct")}
    table = cot.explorer_table(models["cot"], models["direct"])
    return Explorer(functools.partial(cot.explorer_view, table), cot.draw_explorer, {
        "n": W.IntSlider(value=16, min=1, max=64), "problem": W.IntSlider(value=0, min=0, max=len(table.x) - 1),
        "temperature": W.Dropdown(options=[("most likely state", 0.0), ("sampled at T = 2", 2.0)])},
        figsize=(9, 2.6))


def _dynamics() -> Explorer:
    from simplex_edu import dynamics as D
    explore = D.CouplingExplorer(dampings=(0.0, 0.2), springs=(0.0, 0.5), thetas=(0.3, 1.8))  # a small grid
    return Explorer(explore, D.draw_coupling, {
        "k": W.SelectionSlider(options=[float(v) for v in explore.springs], value=0.5),
        "damping": W.SelectionSlider(options=[float(v) for v in explore.dampings], value=0.0),
        "horizon": W.FloatSlider(value=40.0, min=10.0, max=40.0, step=5.0),
        "theta0": W.SelectionSlider(options=[float(v) for v in explore.thetas], value=1.8)}, figsize=(8.0, 3.2), ncols=2)


def _beliefs() -> Explorer:
    from simplex_edu import beliefs as B
    T = B.mess3(x=0.05, alpha=0.85)
    model = B.train_gru(T, hidden_size=32, steps=5, length=16, batch_size=16, seed=0, progress=False)[0]
    result = B.probe_comparison(T, model, B.make_gru(hidden_size=32, seed=0), length=16, n_fit=100, n_test=100)
    fractal = B.belief_fractal(T, n_sequences=100, length=16)
    return Explorer(functools.partial(B.belief_walk, transitions=T, model=model, probe=result["weights"]),
                    functools.partial(B.draw_belief_walk, background=fractal),
                    B.belief_walk_controls("0000111122220120120121100000"), figsize=(8.5, 3.6), ncols=2)


def _transformer() -> Explorer:
    from simplex_edu import beliefs as B
    from simplex_edu.beliefs import transformer as BT
    T = B.mess3(x=0.05, alpha=0.85)
    model, record = BT.load_checkpoint()
    recipe = BT.Recipe(**record["recipe"])
    study = BT.probe_study(T, model, BT.make_transformer(recipe, seed=0), recipe.context, n_fit=100, n_test=50)
    return Explorer(functools.partial(BT.transformer_walk, transitions=T, model=model, probes=study["probes"],
                                      context=recipe.context),
                    functools.partial(BT.draw_transformer_walk, background=study["true"]), {
        "step": W.IntSlider(value=10, min=0, max=recipe.context), "tokens": W.Text(value="0001112220"),
        "layer": W.Dropdown(options=[(n, i) for i, n in enumerate(BT.layer_names(recipe.n_layers)[:-1])],
                            value=recipe.n_layers)}, figsize=(8.5, 3.6), ncols=2)


def _hidden() -> Explorer:
    from simplex_edu import hidden
    return Explorer(hidden.detection_view, hidden.draw_detection, {
        "trigger_bits": W.IntSlider(value=11, min=1, max=16),
        "budget": W.SelectionSlider(options=[10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000], value=1000)},
        figsize=(6.4, 3.6))


def _readout() -> Explorer:
    from simplex_edu.beliefs import beyond as R
    from simplex_edu.beliefs import transformer as BT
    model, _ = BT.load_checkpoint(process="rrxor")
    study = R.rrxor_study(model, BT.make_transformer(R.RRXOR_RECIPE, seed=0), n_fit=100, n_test=50)
    return Explorer(functools.partial(R.readout_view, model=model, study=study), R.draw_readout, {
        "bits": W.Text(value="0110"), "readout": W.Dropdown(options=R.READOUTS, value="all layers")},
        figsize=(6.4, 3.4))


# (lesson, draw function the lesson's explorer uses, how to build it, extra control values worth a look)
EXPLORERS: list[tuple[str, str, Callable[[], Explorer], list[dict]]] = [
    ("00", "draw_ledger", _welcome, [{"table_size": 3000, "queries": 5000}]),
    ("01", "draw_pair", _levels, []),
    ("02", "draw_posteriors", _amortized_posteriors, []),
    ("02", "draw_ledger", _amortized_ledger, []),
    ("03", "draw_explorer", _chain_of_thought, []),
    ("04", "draw_coupling", _dynamics, []),
    ("05", "draw_belief_walk", _beliefs, [{"tokens": "2" * 60}, {"tokens": "0"}, {"tokens": "abcdefghijklmnopq012" * 3}]),
    ("06", "draw_transformer_walk", _transformer, [{"tokens": "abc0"}]),
    ("07", "draw_detection", _hidden, []),
    ("08", "draw_readout", _readout, [{"bits": "011" * 27}, {"bits": "abc 0x1"}]),
]


def _extremes(control: W.ValueWidget) -> list:
    if isinstance(control, W.ToggleButton):
        return [False, True]
    if getattr(control, "options", None):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return [options[0], options[-1]]
    if isinstance(control, (W.Text, W.Textarea)):
        return ["", control.value]
    return [control.min, control.max]


def _settings(explorer: Explorer, extra: list[dict]) -> list[dict]:
    """Each control alone at each extreme, then every control at its low ends and at its high ends together."""
    extremes = {name: _extremes(c) for name, c in explorer.controls.items()}
    alone = [{name: v} for name, values in extremes.items() for v in values]
    return alone + [{n: v[0] for n, v in extremes.items()}, {n: v[-1] for n, v in extremes.items()}] + extra


@pytest.mark.parametrize("lesson, draw, build, extra", EXPLORERS, ids=[f"{e[0]}-{e[1]}" for e in EXPLORERS])
def test_no_text_leaves_the_figure_at_any_extreme(lesson, draw, build, extra) -> None:
    torch.set_num_threads(1)
    explorer = build()
    start = explorer.values()
    for setting in _settings(explorer, extra):
        for name, value in {**start, **setting}.items():
            explorer.controls[name].value = value
        explorer.refresh()
        assert explorer.error is None, f"{setting}: {explorer.error}"
        assert not texts_outside(explorer.fig), f"lesson {lesson}, {setting}: {texts_outside(explorer.fig)} clipped"
        assert getattr(explorer.fig, "alt_text", ""), f"lesson {lesson}'s {draw} gives no describe() text"


def test_every_explorer_in_the_lessons_is_covered() -> None:
    used = set()
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for found in re.findall(r"Explorer\(.*?,\s*(?:functools\.partial\()?[\w.]*?(draw_\w+)", "".join(cell["source"]), re.S):
                used.add((path.name[:2], found))
    assert used and used <= {(lesson, draw) for lesson, draw, _, _ in EXPLORERS}, used
