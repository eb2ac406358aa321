"""Lesson 02 (amortized inference): the science against known figures, the explorers, and every check."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from simplex_edu import amortized as am
from simplex_edu.checks import amortized as checks
from simplex_edu.checks.core import CheckFailed
from simplex_edu.plots import new_figure


@pytest.fixture(scope="module")
def trained():
    """A briefly trained inference network (the lesson's own recipe), with its history and snapshots."""
    torch.set_num_threads(1)
    return am.train_posterior_net(steps=600, snapshot_steps=[50, 200, 600], progress=False)


@pytest.fixture(scope="module")
def lesson_run():
    """Exactly the lesson's network: 1000 steps, seed 0, snapshots at the explorer's budgets."""
    torch.set_num_threads(1)
    return am.train_posterior_net(steps=1000, snapshot_steps=[25, 50, 100, 200, 400, 1000], seed=0, progress=False)


# ---------------------------------------------------------------- exact posterior against the conjugate formulas
def test_exact_posterior_single_point():
    # n = 1 with a standard prior and unit noise: mean x/2, variance 1/2.
    mean, std = am.gaussian_posterior(np.array([2.0]))
    assert mean == pytest.approx(1.0, abs=1e-12)
    assert std == pytest.approx(1 / math.sqrt(2), abs=1e-12)


def test_exact_posterior_no_data_is_the_prior():
    assert am.gaussian_posterior(np.array([]), prior_mean=1.5, prior_std=0.7) == pytest.approx((1.5, 0.7))


def test_exact_posterior_large_n_forgets_the_prior():
    x = np.random.default_rng(0).normal(3.0, 2.0, 100_000)
    mean, std = am.gaussian_posterior(x, prior_mean=-5.0, prior_std=1.0, noise_std=2.0)
    assert mean == pytest.approx(x.mean(), abs=1e-3)  # prior weight is 1 in (1 + n/4): ~4e-5 of the mean
    assert std == pytest.approx(2.0 / math.sqrt(len(x)), rel=1e-4)


def test_exact_posterior_extreme_data_and_general_prior():
    x = np.array([1000.0, 1001.0])
    # precision 1/0.25 + 2/9; mean = (2/0.25 + 2001/9) / precision
    precision = 4 + 2 / 9
    mean, std = am.gaussian_posterior(x, prior_mean=2.0, prior_std=0.5, noise_std=3.0)
    assert mean == pytest.approx((8 + 2001 / 9) / precision, rel=1e-12)
    assert std == pytest.approx(precision ** -0.5, rel=1e-12)


def test_batch_posterior_matches_single():
    queries = am.make_queries(20, (1, 7), seed=3)
    means, stds = am.exact_posterior_batch(queries["x"], queries["mask"])
    for x, mask, mean, std in zip(queries["x"], queries["mask"], means, stds):
        assert (mean, std) == pytest.approx(am.gaussian_posterior(x[mask > 0]), abs=1e-12)


# ---------------------------------------------------------------- per-query methods agree with the truth
def test_grid_matches_exact():
    x = np.random.default_rng(1).normal(4.0, 1.0, 12)
    assert am.grid_posterior(x) == pytest.approx(am.gaussian_posterior(x), abs=1e-3)


def test_mcmc_agrees_with_exact_on_a_seeded_run():
    x = np.random.default_rng(2).normal(1.0, 1.0, 8)
    mean, std = am.gaussian_posterior(x)
    mcmc_mean, mcmc_std = am.mcmc_posterior(x, steps=20_000, seed=0)
    assert abs(mcmc_mean - mean) < 0.1 * std  # Monte Carlo error of ~20,000 correlated draws: ~0.03 std
    assert mcmc_std == pytest.approx(std, rel=0.1)


def test_batched_chains_agree_with_exact():
    queries = am.make_queries(50, (1, 20), seed=4)
    samples = am.metropolis_batch(queries["x"], queries["mask"], np.zeros(50), 0.5, 4000, seed=0)
    true_mean, true_std = am.exact_posterior_batch(queries["x"], queries["mask"])
    assert np.mean(np.abs(samples[400:].mean(axis=0) - true_mean) / true_std) < 0.1


def test_metropolis_rejections_repeat_the_state():
    samples = am.metropolis(lambda t: -0.5 * t ** 2, 0.0, np.full(10, 50.0), np.full(10, 0.5))
    np.testing.assert_array_equal(samples, np.zeros(10))  # a jump to θ = 50 is never accepted


# ---------------------------------------------------------------- the inference network and its gap
def test_network_accuracy_in_distribution(trained):
    net, history, _ = trained
    errors = am.posterior_errors(net, am.make_queries(500, (1, 20), seed=7))
    assert errors["mean_error"] < 0.15  # measured ~0.05 posterior stds after 600 steps
    assert errors["std_error"] < 0.1    # measured ~0.03 relative error in the width
    assert len(history.losses) == 600


def test_network_error_grows_off_the_prior(trained):
    net, _, _ = trained
    inside = am.gap_vs_distance(net, np.array([0.0, 1.0]))
    far = am.gap_vs_distance(net, np.array([8.0]))
    assert far[0] > 3 * inside.max()


def test_network_error_grows_for_unseen_sizes(trained):
    net, _, _ = trained
    seen, unseen = am.gap_vs_size(net, np.array([10, 160]))
    assert unseen > 3 * seen


def test_network_accepts_any_set_size_and_is_order_free(trained):
    net, _, _ = trained
    x = np.random.default_rng(5).normal(size=33)
    assert am.net_posterior(net, x) == pytest.approx(am.net_posterior(net, x[::-1]), abs=1e-5)
    padded = np.concatenate([x, np.zeros(7)])[None, :]
    mask = (np.arange(40) < 33).astype(float)[None, :]
    mean, std = am.net_posterior_batch(net, padded, mask)
    assert (mean[0], std[0]) == pytest.approx(am.net_posterior(net, x), abs=1e-5)


def test_training_is_reproducible(trained):
    _, history, _ = trained
    _, again, _ = am.train_posterior_net(steps=600, progress=False)
    assert again.losses == history.losses


def test_snapshots_improve_with_training(trained):
    _, _, snapshots = trained
    assert set(snapshots) == {50, 200, 600}
    assert snapshots[600] < snapshots[50]


def test_semi_amortization_needs_fewer_steps(trained):
    net, _, _ = trained
    lengths = np.unique(np.geomspace(10, 2000, 20).astype(int))
    result = am.semi_amortized_chains(net, am.make_queries(100, (1, 20), seed=8, theta=5.0), lengths)
    cold = am.steps_to_reach(lengths, result["cold"], 0.3)
    warm = am.steps_to_reach(lengths, result["warm"], 0.3)
    assert warm is not None and cold is not None and warm * 2 < cold


def test_steps_to_reach():
    lengths = np.array([10, 20, 40, 80])
    assert am.steps_to_reach(lengths, np.array([0.5, 0.1, 0.3, 0.1]), 0.2) == 80
    assert am.steps_to_reach(lengths, np.array([0.1, 0.1, 0.1, 0.1]), 0.2) == 10
    assert am.steps_to_reach(lengths, np.array([0.5, 0.5, 0.5, 0.5]), 0.2) is None


# ---------------------------------------------------------------- the cost ledger
def test_break_even_arithmetic():
    assert am.break_even_queries(3.0, 1e-4, 0.02) == math.ceil(3.0 / (0.02 - 1e-4))
    assert am.break_even_queries(1.0, 0.0, 0.5) == 2
    assert am.break_even_queries(3.0, 1e-4, 5e-5) == math.inf  # cheaper per query than the network: never
    assert am.break_even_queries(3.0, 1e-3, 1e-3) == math.inf
    assert am.break_even_queries(0.0, 1e-4, 1e-3) == 0


def test_flops_rank_the_methods():
    flops = am.query_flops(10)
    assert flops["exact formula"] < flops["network"] < flops["grid"] < flops["MCMC"]


def test_measured_costs_rank_the_methods(trained):
    net, _, _ = trained
    costs = am.measure_query_costs(net, np.random.default_rng(0).normal(size=10), mcmc_steps=500)
    assert costs["exact formula"] < costs["network"] < costs["MCMC"]
    assert costs["grid"] < costs["MCMC"]


def _curve() -> am.BudgetCurve:
    return am.BudgetCurve([100, 1000], [0.3, 3.0], [0.2, 0.05],
                          {"network": 1e-4, "MCMC": 0.01, "grid": 5e-5}, mcmc_error=0.05)


def test_ledger_view():
    data = am.ledger_view(_curve(), 1000, 5000)
    assert data["break_even_mcmc"] == math.ceil(3.0 / (0.01 - 1e-4))
    assert data["break_even_grid"] == math.inf
    assert data["queries"][0] == 1 and data["queries"][-1] == 5000
    network = data["costs"]["network (trained first)"]
    assert network[-1] == pytest.approx(3.0 + 5000 * 1e-4)
    assert data["error"] == 0.05


def test_explorers_draw_fast(trained):
    net, _, _ = trained
    fig, _ = new_figure()
    am.draw_ledger(fig, am.ledger_view(_curve(), 1000, 2000))
    fig.canvas.draw()  # the first draw loads fonts; time the next one, as a slider move would
    start = time.process_time()  # CPU time: wall time on a shared CI machine measures the neighbours too
    am.draw_ledger(fig, am.ledger_view(_curve(), 100, 2000))
    fig.canvas.draw()
    assert time.process_time() - start < 0.3  # budget 0.1 s per update; measured ~0.05 s CPU
    data = am.posterior_view(net, theta=6.0, n_points=40)
    assert len(data["x"]) == 40
    assert data["exact"] == pytest.approx(am.gaussian_posterior(data["x"]))
    spacing = data["grid"][1] - data["grid"][0]
    assert data["exact_density"].sum() * spacing == pytest.approx(1.0, abs=1e-3)
    fig, _ = new_figure()
    am.draw_posteriors(fig, data)
    assert fig.axes[0].get_title().startswith("n = 40:")
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), data["exact_density"])


# ---------------------------------------------------------------- every check: reference passes, stub, wrong answer
def _stub(*_args, **_kwargs):
    raise NotImplementedError


def _posterior_forgets_prior(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    return float(np.mean(x)), noise_std / math.sqrt(len(x))


def _posterior_variance(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    mean, std = am.gaussian_posterior(x, prior_mean, prior_std, noise_std)
    return mean, std ** 2


def _metropolis_always_accepts(log_density, start, noise, uniforms):
    return start + np.cumsum(noise)


def _metropolis_keeps_only_accepted(log_density, start, noise, uniforms):
    samples = am.metropolis(log_density, start, noise, uniforms)
    return samples[np.r_[True, np.diff(samples) != 0]]


def _nll_without_constant(mean, log_std, theta):
    return (0.5 * ((theta - mean) / torch.exp(log_std)) ** 2 + log_std).mean()


def _nll_numpy(mean, log_std, theta):
    return float(am.gaussian_nll(mean, log_std, theta).detach())


def _simulate_sizes_first(n_pairs, max_points, generator, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    n = torch.randint(1, max_points + 1, (n_pairs, 1), generator=generator)
    theta = prior_mean + prior_std * torch.randn(n_pairs, generator=generator)
    x = theta[:, None] + noise_std * torch.randn(n_pairs, max_points, generator=generator)
    mask = (torch.arange(max_points)[None, :] < n).float()
    return x * mask, mask, theta


def _simulate_unmasked(n_pairs, max_points, generator, **model):
    x, mask, theta = am.simulate_pairs(n_pairs, max_points, generator, **model)
    noise = torch.randn(n_pairs, max_points, generator=torch.Generator().manual_seed(9))
    return x + (1 - mask) * noise, mask, theta


CHECKS = [
    (checks.check_gaussian_posterior, am.gaussian_posterior, [_posterior_forgets_prior, _posterior_variance]),
    (checks.check_metropolis, am.metropolis, [_metropolis_always_accepts, _metropolis_keeps_only_accepted]),
    (checks.check_simulate_pairs, am.simulate_pairs, [_simulate_sizes_first, _simulate_unmasked]),
    (checks.check_gaussian_nll, am.gaussian_nll, [_nll_without_constant, _nll_numpy]),
]


@pytest.mark.parametrize("check, reference, wrongs", CHECKS, ids=[c[0].__name__ for c in CHECKS])
def test_check_accepts_reference_rejects_wrong_and_reports_stub(check, reference, wrongs, capsys):
    assert check(reference)
    assert "correct" in capsys.readouterr().out
    result = check(_stub)
    assert result is not None and not result
    assert "not attempted" in capsys.readouterr().out
    for wrong in wrongs:
        with pytest.raises(CheckFailed, match="Hint"):
            check(wrong)


# ---------------------------------------------------------------- the claims lesson 02's text makes (issue 10)
def test_lesson_claims_in_distribution_and_the_gap(lesson_run):
    """Stored outputs of these cells are not compared digit by digit; their claims are pinned here with margin.

    Measured: mean error 0.04 stds, width 2%; gap at 0/4/8 prior stds 0.02–0.03 / 0.64–0.66 / 2.16–2.23; at
    n = 10/40/160 0.03 / 0.15 / 0.97; at 8 stds the width is off by much less than the mean.
    """
    net, _, _ = lesson_run
    errors = am.posterior_errors(net, am.make_queries(300, (1, 20), seed=11))
    assert errors["mean_error"] < 0.1 and errors["std_error"] < 0.06  # "nearly the exact posterior"
    distance_gap = am.gap_vs_distance(net, np.array([0, 4, 5, 8]))
    assert distance_gap[0] < 0.1 and 0.3 < distance_gap[1] < 1.2 and distance_gap[3] > 1.5  # "two widths"
    assert 0.4 < distance_gap[2] < 2.0  # section 6: "at 5 prior stds the network alone is off by about one width"
    size_gap = am.gap_vs_size(net, np.array([10, 40, 160]))
    assert size_gap[0] < 0.1 and size_gap[1] < size_gap[2] and size_gap[2] > 0.5
    far = am.posterior_errors(net, am.make_queries(200, 10, seed=0, theta=8.0))
    assert far["std_error"] < 0.5 and far["std_error"] < far["mean_error"] / 3  # "reports nearly the same confidence"


def test_lesson_claims_cheap_training_and_semi_amortization(lesson_run):
    net, _, snapshots = lesson_run
    test = am.make_queries(300, (1, 20), seed=11)
    assert snapshots[100] > 2 * am.mcmc_error(test)  # "100 steps: several times worse than the sampler"
    lengths = np.unique(np.geomspace(10, 3000, 25).astype(int))
    familiar = am.semi_amortized_chains(net, am.make_queries(200, (1, 20), seed=12), lengths)
    surprising = am.semi_amortized_chains(net, am.make_queries(200, (1, 20), seed=12, theta=5.0), lengths)
    cold, warm = (am.steps_to_reach(lengths, familiar[k], 0.2) for k in ("cold", "warm"))
    assert warm <= cold  # "a little fewer on familiar queries"
    cold, warm = (am.steps_to_reach(lengths, surprising[k], 0.2) for k in ("cold", "warm"))
    assert cold >= 2 * warm and warm <= 150  # "about three times fewer"; "a hundred or so steps"


def test_grid_widens_to_far_data_and_refuses_what_it_cannot_resolve():
    rng = np.random.default_rng(3)
    far = 30.0 + rng.standard_normal(10)  # beyond the grid's default ±12 prior stds
    assert am.grid_posterior(far) == pytest.approx(am.gaussian_posterior(far), abs=1e-6)
    big = 0.5 + rng.standard_normal(160)
    assert am.grid_posterior(big) == pytest.approx(am.gaussian_posterior(big), abs=1e-6)
    many = rng.standard_normal(10_000)
    with pytest.raises(ValueError, match="cannot resolve"):  # width 0.01 < spacing 0.024
        am.grid_posterior(many)
    assert am.grid_posterior(many, points=20_000) == pytest.approx(am.gaussian_posterior(many), abs=1e-6)


@pytest.mark.parametrize("kwargs", [{"prior_std": -1.0}, {"noise_std": 0.0}, {"prior_std": float("nan")}])
def test_negative_or_zero_widths_are_refused(kwargs):
    with pytest.raises(ValueError, match="positive standard deviation"):
        am.gaussian_posterior(np.ones(3), **kwargs)
    with pytest.raises(ValueError, match="positive standard deviation"):
        am.GaussianMean(**kwargs)
