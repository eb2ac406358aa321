"""Lesson 03's mistake catalogue: plausible wrong answers each check must reject (naming the mistake where it can),
and right answers written differently that it must accept."""

import math

import numpy as np
import torch
from mistakes import Alternative, Mistake, catalogue_tests

from simplex_edu import chain_of_thought as C
from simplex_edu.chain_of_thought import token_flops
from simplex_edu.checks import chain_of_thought as checks

# --- Exercise 1.1: running_states -------------------------------------------------------------------------------


def states_without_mod(x, k=2):
    return torch.cumsum(x, dim=-1)


def states_exclusive(x, k=2):
    return (torch.cumsum(x, dim=-1) - x) % k


def states_parity_only(x, k=2):
    return torch.cumsum(x, dim=-1) % 2


def states_down_the_batch(x, k=2):
    return torch.cumsum(x, dim=0) % k


def states_by_loop(x, k=2):
    states, state = torch.empty_like(x), torch.zeros_like(x[:, 0])
    for i in range(x.shape[1]):
        state = (state + x[:, i]) % k  # s_i = s_(i-1) + x_i, the recurrence the lesson describes
        states[:, i] = state
    return states


def states_remainder(x, k=2):
    return torch.remainder(x.cumsum(1), k)


# --- Exercise 1.2: cot_tokens -----------------------------------------------------------------------------------

def tokens_unshifted(x, k=2):
    return torch.stack([x, C.running_states(x, k)], dim=-1).flatten(-2)


def tokens_concatenated(x, k=2):
    return torch.cat([x, C.running_states(x, k) + k], dim=-1)


def tokens_states_first(x, k=2):
    return torch.stack([C.running_states(x, k) + k, x], dim=-1).flatten(-2)


def tokens_shifted_by_two(x, k=2):
    return torch.stack([x, C.running_states(x, k) + 2], dim=-1).flatten(-2)


def tokens_by_slices(x, k=2):
    tokens = torch.empty(x.shape[0], 2 * x.shape[1], dtype=x.dtype)
    tokens[:, 0::2], tokens[:, 1::2] = x, C.running_states(x, k) + k
    return tokens


def running_states(x, k=2):
    raise NotImplementedError("Exercise 1.1")  # the learner's Exercise 1.1, not done yet


def tokens_with_stub_states(x, k=2):
    return torch.stack([x, running_states(x, k) + k], dim=-1).flatten(-2)


# --- Exercise 2.1: accuracy_by_length -------------------------------------------------------------------------

def accuracy_column_n(answers, truth, lengths):
    columns = torch.as_tensor(np.asarray(lengths))
    return (answers[:, columns] == truth[:, columns]).double().mean(0).numpy()


def accuracy_over_lengths(answers, truth, lengths):
    columns = torch.as_tensor(np.asarray(lengths) - 1)
    return (answers[:, columns] == truth[:, columns]).double().mean(1).numpy()


def accuracy_counts(answers, truth, lengths):
    columns = torch.as_tensor(np.asarray(lengths) - 1)
    return (answers[:, columns] == truth[:, columns]).sum(0).numpy()


def accuracy_whole_prefix(answers, truth, lengths):
    return np.array([(answers[:, :n] == truth[:, :n]).all(dim=1).double().mean().item() for n in lengths])


def accuracy_one_number(answers, truth, lengths):
    columns = torch.as_tensor(np.asarray(lengths) - 1)
    return (answers[:, columns] == truth[:, columns]).double().mean().numpy()


def accuracy_by_loop(answers, truth, lengths):
    right = (answers == truth).numpy()
    return np.array([right[:, n - 1].mean() for n in lengths])


# --- Exercise 3.1: cot_query_flops ------------------------------------------------------------------------------

def flops_ignoring_k(n, spec, k=2, kv_cache=True):
    if kv_cache:
        return sum(token_flops(spec, t) for t in range(1, 2 * n))
    return sum(token_flops(spec, t) for i in range(1, n + 1) for t in range(1, 2 * i))


def flops_changing_spec(n, spec, k=2, kv_cache=True):
    layers = spec.n_layers
    spec.n_layers = 0                      # with no layers, only the readout is left ...
    readout = token_flops(spec, 1, k)
    spec.n_layers = 1                      # ... and one layer's cost is the difference (spec never restored)
    per_layer = [token_flops(spec, t, k) - readout for t in range(2 * n)]
    contexts = range(1, 2 * n) if kv_cache else [t for i in range(1, n + 1) for t in range(1, 2 * i)]
    return sum(layers * per_layer[t] + readout for t in contexts)


def flops_two_n_tokens(n, spec, k=2, kv_cache=True):
    if kv_cache:
        return sum(token_flops(spec, t, k) for t in range(1, 2 * n + 1))
    return sum(token_flops(spec, t, k) for i in range(1, n + 1) for t in range(1, 2 * i + 1))


def flops_from_zero(n, spec, k=2, kv_cache=True):
    if kv_cache:
        return sum(token_flops(spec, t, k) for t in range(2 * n - 1))
    return sum(token_flops(spec, t, k) for i in range(1, n + 1) for t in range(2 * i - 1))


def flops_prefix_of_two_i(n, spec, k=2, kv_cache=True):
    if kv_cache:
        return sum(token_flops(spec, t, k) for t in range(1, 2 * n))
    return sum(token_flops(spec, t, k) for i in range(1, n + 1) for t in range(1, 2 * i + 1))


def flops_whole_chain_every_step(n, spec, k=2, kv_cache=True):
    cached = sum(token_flops(spec, t, k) for t in range(1, 2 * n))
    return cached if kv_cache else n * cached


def flops_ignoring_cache(n, spec, k=2, kv_cache=True):
    return sum(token_flops(spec, t, k) for t in range(1, 2 * n))


def flops_closed_form(n, spec, k=2, kv_cache=True):
    base = token_flops(spec, 0, k)
    slope = token_flops(spec, 1, k) - base  # token_flops is linear in the context length
    if kv_cache:
        tokens = 2 * n - 1
        return tokens * base + slope * tokens * (tokens + 1) // 2
    return sum((2 * i - 1) * base + slope * (2 * i - 1) * (2 * i) // 2 for i in range(1, n + 1))


def flops_with_numpy(n, spec, k=2, kv_cache=True):
    prefixes = [2 * n - 1] if kv_cache else [2 * i - 1 for i in range(1, n + 1)]
    return int(np.sum([token_flops(spec, t, k) for p in prefixes for t in np.arange(1, p + 1)]))


# --- Exercise 4.1: compounded_accuracy --------------------------------------------------------------------------

def compounded_difference(eps, n):
    return (1 - 2 * np.asarray(eps, dtype=float)) ** np.asarray(n)


def compounded_no_error(eps, n):
    return (1 - np.asarray(eps, dtype=float)) ** np.asarray(n)


def compounded_odd(eps, n):
    return 0.5 - 0.5 * (1 - 2 * np.asarray(eps, dtype=float)) ** np.asarray(n)


def compounded_linear(eps, n):
    return 1 - np.asarray(n) * np.asarray(eps, dtype=float)


def compounded_binomial(eps, n):
    def even_errors(e, m):
        return sum(math.comb(m, j) * e ** j * (1 - e) ** (m - j) for j in range(0, m + 1, 2))
    return np.vectorize(even_errors, otypes=[float])(eps, n)


def compounded_rearranged(eps, n):
    return (1 + np.power(1.0 - 2.0 * np.asarray(eps), n)) / 2


M = Mistake
MISTAKES = [
    M("check_running_states", "forgets the mod k", states_without_mod, "not taken mod k"),
    M("check_running_states", "an exclusive running sum (the state before x_i)", states_exclusive,
      "must include x_i itself"),
    M("check_running_states", "hard-codes parity (% 2): k only matters off its default", states_parity_only,
      "k is ignored"),
    M("check_running_states", "sums down the batch (dim 0)", states_down_the_batch, "(dim 0)"),
    M("check_cot_tokens", "forgets the + k shift of the states", tokens_unshifted, "not shifted by k"),
    M("check_cot_tokens", "concatenates instead of interleaving", tokens_concatenated, "not interleaved"),
    M("check_cot_tokens", "puts each state before its input", tokens_states_first, "each state comes before"),
    M("check_cot_tokens", "shifts by 2, not k (only matters off k = 2)", tokens_shifted_by_two,
      "shifted by 2 instead of k"),
    M("check_cot_tokens", "right, but calls running_states while Exercise 1.1 is still a stub",
      tokens_with_stub_states, "this uses your `running_states` from an earlier exercise, which is still a stub"),
    M("check_accuracy_by_length", "reads column N instead of N − 1 (off by one)", accuracy_column_n,
      "column N is read"),
    M("check_accuracy_by_length", "averages over the lengths (dim 1), not the problems", accuracy_over_lengths,
      "over the lengths (dim 1)"),
    M("check_accuracy_by_length", "counts right answers instead of averaging", accuracy_counts,
      "counted, not averaged"),
    M("check_accuracy_by_length", "requires every state up to N to be right", accuracy_whole_prefix,
      "every state up to N"),
    M("check_accuracy_by_length", "averages everything into one number", accuracy_one_number, "has shape ()"),
    M("check_cot_query_flops", "ignores k (token_flops(spec, t))", flops_ignoring_k, "k is ignored"),
    M("check_cot_query_flops", "changes the ModelSpec it was given", flops_changing_spec,
      "changed its input `spec.n_layers` in place"),
    M("check_cot_query_flops", "counts 2n tokens instead of 2n − 1", flops_two_n_tokens, "2n tokens are counted"),
    M("check_cot_query_flops", "starts the positions at 0", flops_from_zero, "the positions start at 0"),
    M("check_cot_query_flops", "re-runs 2i tokens at step i without a cache", flops_prefix_of_two_i,
      "step i re-runs 2i tokens"),
    M("check_cot_query_flops", "re-runs the whole chain at every step without a cache", flops_whole_chain_every_step,
      "every step re-runs the whole chain"),
    M("check_cot_query_flops", "ignores kv_cache", flops_ignoring_cache, "kv_cache is ignored"),
    M("check_compounded_accuracy", "returns P(even) − P(odd) = (1 − 2ε)^n", compounded_difference,
      "this is P(even) − P(odd)"),
    M("check_compounded_accuracy", "returns (1 − ε)^n, the chance of no error", compounded_no_error,
      "the chance that no step errs"),
    M("check_compounded_accuracy", "returns P(odd)", compounded_odd, "this is P(odd)"),
    M("check_compounded_accuracy", "adds the errors up (1 − nε)", compounded_linear, "two errors cancel"),
]

A = Alternative
ALTERNATIVES = [
    A("check_running_states", "the recurrence s_i = (s_(i−1) + x_i) mod k, column by column", states_by_loop),
    A("check_running_states", "torch.remainder of x.cumsum(1)", states_remainder),
    A("check_cot_tokens", "fill even and odd columns of an empty tensor", tokens_by_slices),
    A("check_accuracy_by_length", "numpy, one length at a time", accuracy_by_loop),
    A("check_cot_query_flops", "closed form: token_flops is linear in the context", flops_closed_form),
    A("check_cot_query_flops", "numpy sum over the prefixes, numpy integer positions", flops_with_numpy),
    A("check_compounded_accuracy", "the binomial sum over even numbers of errors", compounded_binomial),
    A("check_compounded_accuracy", "(1 + (1 − 2ε)^n) / 2 with np.power", compounded_rearranged),
]

(test_mistake_is_rejected, test_alternative_is_accepted, test_alternative_is_accepted_under_grading,
 test_every_check_is_covered) = catalogue_tests(checks, MISTAKES, ALTERNATIVES)
