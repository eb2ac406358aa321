"""Lesson 02's mistake catalogue: plausible wrong answers each check must reject (naming the mistake where it can),
and right answers written differently that it must accept."""

import math

import numpy as np
import torch
from mistakes import Alternative, Mistake, catalogue_tests

from simplex_edu import amortized as am
from simplex_edu.checks import amortized as checks


# --- Exercise 1.1: gaussian_posterior ------------------------------------------------------------------------

def posterior_variance(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    precision = 1 / prior_std ** 2 + len(x) / noise_std ** 2
    return float((prior_mean / prior_std ** 2 + np.sum(x) / noise_std ** 2) / precision), 1 / precision


def posterior_from_data_mean(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    precision = 1 / prior_std ** 2 + len(x) / noise_std ** 2
    return float((prior_mean / prior_std ** 2 + np.mean(x) / noise_std ** 2) / precision), 1 / math.sqrt(precision)


def posterior_standard_noise(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    precision = 1 / prior_std ** 2 + len(x)
    return float((prior_mean / prior_std ** 2 + np.sum(x)) / precision), 1 / math.sqrt(precision)


def posterior_prior_mean_zero(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    precision = 1 / prior_std ** 2 + len(x) / noise_std ** 2
    return float((np.sum(x) / noise_std ** 2) / precision), 1 / math.sqrt(precision)


def posterior_prior_std_not_squared(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    precision = 1 / prior_std + len(x) / noise_std ** 2
    return float((prior_mean / prior_std + np.sum(x) / noise_std ** 2) / precision), 1 / math.sqrt(precision)


def posterior_no_prior(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    return float(np.mean(x)), noise_std / math.sqrt(len(x))


def posterior_one_point_at_a_time(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    mean, var = prior_mean, prior_std ** 2
    for point in x:  # each measurement is a conjugate update of the previous posterior
        gain = var / (var + noise_std ** 2)
        mean, var = mean + gain * (point - mean), (1 - gain) * var
    return mean, math.sqrt(var)


def posterior_by_variances(x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    var = 1 / (1 / prior_std ** 2 + x.size / noise_std ** 2)
    return var * (prior_mean / prior_std ** 2 + x.sum() / noise_std ** 2), np.sqrt(var)


# --- Exercise 2.1: metropolis ---------------------------------------------------------------------------------

def metropolis_always_accepts(log_density, start, noise, uniforms):
    return start + np.cumsum(noise)


def metropolis_keeps_only_accepted(log_density, start, noise, uniforms):
    samples, theta = [], start
    for step, u in zip(noise, uniforms):
        if math.log(u) < log_density(theta + step) - log_density(theta):
            theta = theta + step
            samples.append(theta)
    return np.array(samples)


def metropolis_without_log(log_density, start, noise, uniforms):
    samples, theta = np.empty(len(noise)), start
    for t in range(len(noise)):
        if uniforms[t] < log_density(theta + noise[t]) - log_density(theta):
            theta = theta + noise[t]
        samples[t] = theta
    return samples


def metropolis_records_proposal(log_density, start, noise, uniforms):
    samples, theta = np.empty(len(noise)), start
    for t in range(len(noise)):
        proposal = theta + noise[t]
        samples[t] = proposal
        if math.log(uniforms[t]) < log_density(proposal) - log_density(theta):
            theta = proposal
    return samples


def metropolis_records_start(log_density, start, noise, uniforms):
    samples, theta = [start], start
    for t in range(len(noise)):
        if math.log(uniforms[t]) < log_density(theta + noise[t]) - log_density(theta):
            theta = theta + noise[t]
        samples.append(theta)
    return np.array(samples)


def metropolis_reversed_test(log_density, start, noise, uniforms):
    samples, theta = np.empty(len(noise)), start
    for t in range(len(noise)):
        if math.log(uniforms[t]) > log_density(theta + noise[t]) - log_density(theta):
            theta = theta + noise[t]
        samples[t] = theta
    return samples


def metropolis_by_probability(log_density, start, noise, uniforms):
    samples, theta = [], start
    for step, u in zip(noise, uniforms):
        ratio = math.exp(min(0.0, log_density(theta + step) - log_density(theta)))  # min(1, p'/p), no overflow
        theta = theta + step if u < ratio else theta
        samples.append(theta)
    return np.asarray(samples)


def metropolis_two_evaluations(log_density, start, noise, uniforms):
    chain, theta = np.zeros_like(noise), start
    for t in range(len(noise)):
        proposal = theta + noise[t]
        if np.log(uniforms[t]) < log_density(proposal) - log_density(theta):  # log p(θ) recomputed, not kept
            theta = proposal
        chain[t] = theta
    return chain


# --- Exercise 3.1: simulate_pairs ------------------------------------------------------------------------------

def simulate_sizes_first(n_pairs, max_points, generator, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    n = torch.randint(1, max_points + 1, (n_pairs, 1), generator=generator)
    theta = prior_mean + prior_std * torch.randn(n_pairs, generator=generator)
    x = theta[:, None] + noise_std * torch.randn(n_pairs, max_points, generator=generator)
    mask = (torch.arange(max_points)[None, :] < n).float()
    return x * mask, mask, theta


def simulate_unmasked(n_pairs, max_points, generator, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    theta = prior_mean + prior_std * torch.randn(n_pairs, generator=generator)
    x = theta[:, None] + noise_std * torch.randn(n_pairs, max_points, generator=generator)
    n = torch.randint(1, max_points + 1, (n_pairs, 1), generator=generator)
    return x, (torch.arange(max_points)[None, :] < n).float(), theta


def simulate_inclusive_mask(n_pairs, max_points, generator, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    theta = prior_mean + prior_std * torch.randn(n_pairs, generator=generator)
    x = theta[:, None] + noise_std * torch.randn(n_pairs, max_points, generator=generator)
    n = torch.randint(1, max_points + 1, (n_pairs, 1), generator=generator)
    mask = (torch.arange(max_points)[None, :] <= n).float()
    return x * mask, mask, theta


def simulate_sizes_from_zero(n_pairs, max_points, generator, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    theta = prior_mean + prior_std * torch.randn(n_pairs, generator=generator)
    x = theta[:, None] + noise_std * torch.randn(n_pairs, max_points, generator=generator)
    n = torch.randint(0, max_points, (n_pairs, 1), generator=generator)
    mask = (torch.arange(max_points)[None, :] < n).float()
    return x * mask, mask, theta


def simulate_unit_prior_std(n_pairs, max_points, generator, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    theta = prior_mean + torch.randn(n_pairs, generator=generator)
    x = theta[:, None] + noise_std * torch.randn(n_pairs, max_points, generator=generator)
    n = torch.randint(1, max_points + 1, (n_pairs, 1), generator=generator)
    mask = (torch.arange(max_points)[None, :] < n).float()
    return x * mask, mask, theta


def simulate_with_where(n_pairs, max_points, generator, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
    theta = torch.randn(n_pairs, generator=generator) * prior_std + prior_mean
    noise = torch.randn(n_pairs, max_points, generator=generator) * noise_std
    sizes = torch.randint(1, max_points + 1, (n_pairs,), generator=generator)
    keep = torch.arange(max_points).expand(n_pairs, -1) < sizes[:, None]
    return torch.where(keep, theta[:, None] + noise, torch.zeros(())), keep.to(torch.float32), theta


# --- Exercise 3.2: gaussian_nll --------------------------------------------------------------------------------

LOG_2PI = math.log(2 * math.pi)


def nll_log_std_detached(mean, log_std, theta):
    log_std = log_std.detach()
    return (0.5 * ((theta - mean) / torch.exp(log_std)) ** 2 + log_std + 0.5 * LOG_2PI).mean()


def nll_std_detached(mean, log_std, theta):
    std = torch.exp(log_std).detach()
    return (0.5 * ((theta - mean) / std) ** 2 + log_std + 0.5 * LOG_2PI).mean()


def nll_mean_detached(mean, log_std, theta):
    return (0.5 * ((theta - mean.detach()) / torch.exp(log_std)) ** 2 + log_std + 0.5 * LOG_2PI).mean()


def nll_without_constant(mean, log_std, theta):
    return (0.5 * ((theta - mean) / torch.exp(log_std)) ** 2 + log_std).mean()


def nll_summed(mean, log_std, theta):
    return (0.5 * ((theta - mean) / torch.exp(log_std)) ** 2 + log_std + 0.5 * LOG_2PI).sum()


def nll_without_log_std(mean, log_std, theta):
    return (0.5 * ((theta - mean) / torch.exp(log_std)) ** 2 + 0.5 * LOG_2PI).mean()


def nll_no_exp(mean, log_std, theta):
    return (0.5 * ((theta - mean) / log_std) ** 2 + log_std + 0.5 * LOG_2PI).mean()


def nll_float(mean, log_std, theta):
    return float(am.gaussian_nll(mean, log_std, theta).detach())


def nll_log_likelihood(mean, log_std, theta):
    return -(0.5 * ((theta - mean) / torch.exp(log_std)) ** 2 + log_std + 0.5 * LOG_2PI).mean()


def nll_torch_distributions(mean, log_std, theta):
    return -torch.distributions.Normal(mean, log_std.exp()).log_prob(theta).mean()


def nll_precision_form(mean, log_std, theta):
    precision = torch.exp(-2 * log_std)
    return torch.mean(0.5 * precision * (theta - mean) ** 2 - 0.5 * torch.log(precision) + 0.5 * LOG_2PI)


M = Mistake
MISTAKES = [
    M("check_gaussian_posterior", "returns the variance instead of the standard deviation", posterior_variance,
      "variance"),
    M("check_gaussian_posterior", "uses x.mean() where the sum belongs", posterior_from_data_mean,
      "the mean of x where its sum belongs"),
    M("check_gaussian_posterior", "ignores noise_std (only matters off its default 1)", posterior_standard_noise,
      "noise_std is ignored"),
    M("check_gaussian_posterior", "ignores prior_mean (only matters off its default 0)", posterior_prior_mean_zero,
      "prior_mean is ignored"),
    M("check_gaussian_posterior", "uses 1/prior_std instead of 1/prior_std² (only matters off prior_std = 1)",
      posterior_prior_std_not_squared, "prior_std is not squared"),
    M("check_gaussian_posterior", "leaves the prior out (the data's mean and σ/√n)", posterior_no_prior,
      "the prior is left out"),
    M("check_metropolis", "accepts every proposal", metropolis_always_accepts, "every proposal is accepted"),
    M("check_metropolis", "skips rejected steps instead of repeating the current state",
      metropolis_keeps_only_accepted, "a rejected proposal must still be recorded"),
    M("check_metropolis", "compares uniforms[t] (not its log) with the log-density difference",
      metropolis_without_log, "take log(uniforms[t]) first"),
    M("check_metropolis", "records the proposal even when it was rejected", metropolis_records_proposal,
      "the proposal is recorded even when it is rejected"),
    M("check_metropolis", "records start as a sample too (one entry too many)", metropolis_records_start,
      "do not include `start` itself"),
    M("check_metropolis", "reverses the acceptance test", metropolis_reversed_test,
      "the acceptance test is reversed"),
    M("check_simulate_pairs", "draws the sizes first (another random order)", simulate_sizes_first,
      "the random draws come in another order"),
    M("check_simulate_pairs", "leaves the padding unmasked", simulate_unmasked, "the padding is not zeroed"),
    M("check_simulate_pairs", "masks with j <= n (one point too many)", simulate_inclusive_mask,
      "one point too many"),
    M("check_simulate_pairs", "draws sizes from 0 … max_points − 1 (an off-by-one)", simulate_sizes_from_zero,
      "torch.randint(1, max_points + 1"),
    M("check_simulate_pairs", "ignores prior_std (only matters off its default 1)", simulate_unit_prior_std,
      "prior_std is ignored"),
    M("check_gaussian_nll", "detaches log_std: the width can never train", nll_log_std_detached,
      "log_std is detached: the width gets no gradient"),
    M("check_gaussian_nll", "detaches std = exp(log_std): the width trains with the wrong gradient",
      nll_std_detached, "std = exp(log_std) is detached"),
    M("check_gaussian_nll", "detaches mean: the posterior mean can never train", nll_mean_detached,
      "the mean gets no gradient"),
    M("check_gaussian_nll", "drops the constant ½ log 2π", nll_without_constant, "½ log 2π is missing"),
    M("check_gaussian_nll", "sums over the batch instead of averaging", nll_summed, "summed over the batch"),
    M("check_gaussian_nll", "drops the + log s term", nll_without_log_std, "the log s term (+ log_std) is missing"),
    M("check_gaussian_nll", "uses log_std as the standard deviation (no exp)", nll_no_exp,
      "log_std is used as the standard deviation itself"),
    M("check_gaussian_nll", "returns a Python float (no gradient at all)", nll_float,
      "not a torch tensor that remembers how it was computed"),
    M("check_gaussian_nll", "returns the log-likelihood (sign flipped)", nll_log_likelihood, "the sign is flipped"),
]

A = Alternative
ALTERNATIVES = [
    A("check_gaussian_posterior", "one conjugate (Kalman) update per data point", posterior_one_point_at_a_time),
    A("check_gaussian_posterior", "via the posterior variance, numpy scalars returned", posterior_by_variances),
    A("check_metropolis", "acceptance probability min(1, p'/p) compared with the uniform",
      metropolis_by_probability),
    A("check_metropolis", "evaluates both log densities at every step", metropolis_two_evaluations),
    A("check_simulate_pairs", "torch.where and a 1-d sizes vector, same draws", simulate_with_where),
    A("check_gaussian_nll", "torch.distributions.Normal(...).log_prob", nll_torch_distributions),
    A("check_gaussian_nll", "written with the precision exp(−2 log s)", nll_precision_form),
]

(test_mistake_is_rejected, test_alternative_is_accepted, test_alternative_is_accepted_under_grading,
 test_every_check_is_covered) = catalogue_tests(checks, MISTAKES, ALTERNATIVES)
