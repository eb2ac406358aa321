"""The shared pieces: break-even arithmetic, FLOP counts, the training loop, the explorer pattern."""

import math

import ipywidgets as W
import numpy as np
import pytest
import torch

from simplex_edu import compute, nn, training, widgets


def test_break_even_arithmetic():
    assert compute.break_even(100.0, 1.0, 0.0, 2.0) == 100
    assert compute.break_even(100.0, 1.0, 0.0, 4.0) == 34  # 33.3… rounds up
    assert compute.break_even(100.0, 2.0, 0.0, 2.0) == math.inf  # no saving per query: never pays
    assert compute.break_even(100.0, 3.0, 0.0, 2.0) == math.inf
    assert compute.break_even(0.0, 1.0, 5.0, 2.0) == 0


def test_cumulative_cost_and_ledger():
    np.testing.assert_allclose(compute.cumulative_cost(10.0, 2.0, 3), [12.0, 14.0, 16.0])
    ledger = compute.CostLedger().add("00", "fast", 10.0, 1e-6).add("00", "slow", 0.0, 1e-3)
    assert ledger.total("fast", 1000) == pytest.approx(10.001)
    assert "1 µs" in ledger.table() and "1 ms" in ledger.table()


def test_mlp_flops_against_a_hand_count():
    # 3→4: 2·3·4 + 4 = 28; 4→2: 2·4·2 + 2 = 18
    assert compute.mlp_flops([3, 4, 2]) == 46
    assert compute.mlp_flops([3, 4, 2], batch=10) == 460
    assert nn.count_parameters(nn.MLP([3, 4, 2])) == 3 * 4 + 4 + 4 * 2 + 2


def test_time_call_measures_something():
    assert 0 < compute.time_call(lambda: sum(range(1000)), repeat=3) < 0.1


def _fit_line(seed: int):
    training.seed_everything(seed)  # before building the model: its initial weights are drawn too
    model = nn.MLP([1, 16, 1])

    def batch(size, gen):
        x = torch.rand(size, 1, generator=gen)
        return x, 3 * x - 1

    history = training.train(model, batch, lambda m, x, y: ((m(x) - y) ** 2).mean(),
                             training.TrainConfig(steps=300, lr=1e-2, batch_size=64, seed=seed, progress=False))
    return model, history


def test_training_learns_and_is_reproducible():
    model_a, history_a = _fit_line(0)
    model_b, history_b = _fit_line(0)
    assert history_a.final_loss < 1e-2 < history_a.losses[0]
    assert history_a.losses == history_b.losses
    assert history_a.seconds > 0
    assert training.default_device().type in ("cpu", "cuda")


def test_explorer_recomputes_and_redraws_when_a_control_moves():
    seen = []

    def compute_view(slope):
        seen.append(slope)
        return np.linspace(0, 1, 5) * slope

    def draw(fig, ys):
        fig.axes[0].clear()
        fig.axes[0].plot(ys)

    explorer = widgets.Explorer(compute_view, draw, {"slope": W.FloatSlider(value=1.0, min=0.0, max=2.0)})
    first_png = explorer.image.value
    explorer.controls["slope"].value = 2.0
    assert seen == [1.0, 2.0] and explorer.image.value != first_png
    assert widgets.time_explorer_updates(explorer, moves=3) < 1.0
    assert explorer in set(widgets.EXPLORERS)


def test_training_callback_and_learning_rate_drop():
    def run(drop):
        training.seed_everything(0)
        model, seen = nn.MLP([1, 8, 1]), []

        def batch(size, gen):
            x = torch.rand(size, 1, generator=gen)
            return x, 3 * x

        config = training.TrainConfig(steps=40, lr=1e-2, batch_size=16, lr_drop_at=drop, progress=False)
        history = training.train(model, batch, lambda m, x, y: ((m(x) - y) ** 2).mean(), config,
                                 on_step=lambda step, m: seen.append(step))
        return history.losses, seen

    constant, seen = run(None)
    dropped, _ = run(0.5)
    assert seen == list(range(40))
    assert dropped[:21] == constant[:21] and dropped[21:] != constant[21:]  # identical until the drop at step 20


def test_explorer_timing_types_a_text_box_a_character_at_a_time():
    seen = []
    explorer = widgets.Explorer(lambda text: seen.append(text) or len(text), lambda fig, n: fig.axes[0].plot([n]),
                                {"text": W.Text(value="0120")})
    widgets.time_explorer_updates(explorer, moves=4)
    assert seen[1:] == ["0", "01", "012", "0120"]  # four prefixes, the last one the value it started from
