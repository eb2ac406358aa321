"""Checks for lesson 06 (belief geometry in a transformer): each compares the learner's function with
simplex_edu.beliefs.transformer, and names the mistake when a wrong answer matches a known one."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from simplex_edu import beliefs as B
from simplex_edu.beliefs import transformer as BT
from simplex_edu.checks.core import Case, CheckResult, check_function, compare
from simplex_edu.nn import TinyTransformer


def _random_hmm(n_states: int, n_tokens: int, seed: int) -> np.ndarray:
    """A random transition tensor T[a, i, j] whose (a, j) entries sum to 1 for every i: not Mess3, so no shortcuts."""
    tensor = np.random.default_rng(seed).random((n_tokens, n_states, n_states))
    return tensor / tensor.sum(axis=(0, 2), keepdims=True)


def _check_naming_mistakes(fn: Callable, reference: Callable, cases: list[tuple[Case, dict[str, Any]]], *,
                           exercise: str, hint: str, rtol: float, atol: float,
                           after: Callable[[Case], str | None] | None = None) -> CheckResult:
    """Like check_function, but each case carries known wrong answers, keyed by the sentence that explains them.

    References are computed before the learner's function runs. When the learner's result matches a known wrong
    answer (and not the reference), that sentence leads the message. ``after(case)``, if given, runs once a case's
    result is right and may report a problem of its own (e.g. hooks left behind).
    """
    expected = [(reference(*case.args, **case.kwargs), case, mistakes) for case, mistakes in cases]
    position = iter(range(len(cases)))
    current: list[tuple] = []

    def next_reference(*_args: Any, **_kwargs: Any) -> Any:
        current[:] = [expected[next(position)]]
        return current[0][0]

    def explain(right: Any, got: Any) -> str | None:
        _, case, mistakes = current[0]
        problem = compare(right, got, rtol=rtol, atol=atol)
        if problem is None:
            return after(case) if after else None
        for sentence, wrong in mistakes.items():
            if compare(wrong, got, rtol=rtol, atol=atol) is None:
                return f"{sentence}\n({problem})"
        return problem

    return check_function(fn, next_reference, [case for case, _ in cases], exercise=exercise, hint=hint,
                          compare_fn=explain)


# ---------------------------------------------------------------- Exercise 1.1

def _loss_variants(transitions: np.ndarray, length: int) -> dict[str, np.ndarray]:
    """The optimum as a learner might get it wrong: each a plausible slip, computed exactly."""
    right = BT.optimal_loss_per_position(transitions, length)
    forward = B.stationary_distribution(transitions)[None]
    unweighted, marginal = [], []
    for _ in range(length):
        forward = np.einsum("pi,aij->paj", forward, transitions).reshape(-1, transitions.shape[1])
        prefix_prob = forward.sum(axis=1)
        probs = B.next_token_probs(forward / prefix_prob[:, None], transitions)
        unweighted.append(float(np.mean(-np.sum(probs * np.log2(probs), axis=1))))
        average = prefix_prob @ probs
        marginal.append(float(-np.sum(average * np.log2(average))))
    prior_next = B.next_token_probs(B.stationary_distribution(transitions), transitions)
    shifted = np.concatenate([[-np.sum(prior_next * np.log2(prior_next))], right[:-1]])
    return {
        "Your numbers are the right ones times ln 2: that is nats. Use np.log2 for bits.": right * np.log(2),
        "Your entries are shifted by one: the first entry should be the loss after ONE token seen, not before any "
        "(update the forward vectors first, then take the entropy).": shifted,
        "Every prefix counted equally: weight each prefix's entropy by its probability (the sum of its forward "
        "vector), and sum rather than average.": np.array(unweighted),
        "You took the entropy of the AVERAGE next-token distribution; the optimum averages the entropy of each "
        "prefix's own prediction (the belief is known to the filter).": np.array(marginal),
    }


def check_optimal_loss_per_position(fn: Callable) -> CheckResult:
    """Exercise 1.1: H(next token | first k tokens) by enumeration, on Mess3, another Mess3 and a random HMM."""
    settings = [(B.mess3(), 6, "Mess3, length 6"), (B.mess3(), 1, "Mess3, length 1 (answer [1.2374])"),
                (B.mess3(0.15, 0.6), 4, "Mess3 with x = 0.15, α = 0.6, length 4"),
                (_random_hmm(4, 3, seed=0), 3, "a random 4-state HMM, length 3")]
    cases = [(Case((t, n), label=label), _loss_variants(t, n)) for t, n, label in settings]
    return _check_naming_mistakes(fn, BT.optimal_loss_per_position, cases,
                                  exercise="Exercise 1.1 (optimal_loss_per_position)", rtol=1e-7, atol=1e-9,
                                  hint="keep one unnormalised forward vector per prefix (start: the stationary "
                                       "distribution); extend every prefix by every token with "
                                       "np.einsum('pi,aij->paj', forward, T).reshape(-1, S); then P(prefix) = row "
                                       "sum, belief = row / sum, and the entry is Σ P(prefix) · "
                                       "H(next_token_probs(belief, T)) in bits.")


# ---------------------------------------------------------------- Exercise 3.1

def _small_transformer(d_model: int, n_layers: int, n_heads: int, seed: int) -> TinyTransformer:
    torch.manual_seed(seed)
    return TinyTransformer(B.N_TOKENS, d_model, n_layers, n_heads).eval()


@torch.no_grad()
def _hooked(model: TinyTransformer, tokens: torch.Tensor, modules: list[torch.nn.Module],
            take_input: bool = False) -> np.ndarray:
    """What hooks on ``modules`` record, stacked: the reference's way of producing plausible wrong answers."""
    seen: list[torch.Tensor] = []
    handles = [m.register_forward_hook(lambda _m, inputs, output: seen.append(inputs[0] if take_input else output))
               for m in modules]
    model(tokens)
    for handle in handles:
        handle.remove()
    return torch.stack(seen).double().numpy()


def _stream_variants(model: TinyTransformer, tokens: torch.Tensor) -> dict[str, np.ndarray]:
    blocks = list(model.blocks)
    return {
        "The embedding is missing: the residual stream starts as model.embed's output, so hook model.embed too "
        "(n_layers + 1 places in all).": _hooked(model, tokens, blocks),
        "You recorded each block's MLP output, which is what the block ADDS to the stream; hook the blocks "
        "themselves (model.blocks[i]) to get the stream after each block.":
            _hooked(model, tokens, [model.embed] + [b.mlp for b in blocks]),
        "You recorded what each block receives (its input) rather than what it returns, so the last block's "
        "output is missing: hook model.embed and the blocks, and keep the hook's output argument.":
            _hooked(model, tokens, blocks, take_input=True),
    }


def check_collect_residual_stream(fn: Callable) -> CheckResult:
    """Exercise 3.1: residual stream with forward hooks, on transformers of several sizes; hooks must be removed."""
    settings = [(8, 1, 2, 0, 2, 5), (16, 3, 4, 1, 3, 7), (12, 2, 1, 2, 1, 10)]
    cases = []
    for d_model, n_layers, n_heads, seed, n, length in settings:
        model = _small_transformer(d_model, n_layers, n_heads, seed)
        tokens = torch.as_tensor(np.random.default_rng(seed).integers(0, 3, (n, length)))
        cases.append((Case((model, tokens), label=f"a {n_layers}-block transformer (d_model={d_model}) on tokens "
                                                  f"of shape ({n}, {length})"), _stream_variants(model, tokens)))
    return _check_naming_mistakes(fn, lambda model, tokens: BT.residual_stream(model, tokens.numpy()), cases,
                                  exercise="Exercise 3.1 (collect_residual_stream)", rtol=1e-5, atol=1e-6,
                                  after=lambda case: _hooks_left(case.args[0]),
                                  hint="handles = [m.register_forward_hook(hook) for m in [model.embed, "
                                       "*model.blocks]], where hook(module, inputs, output) appends output; run "
                                       "model(tokens) under torch.no_grad(); remove every handle; then "
                                       "torch.stack(...).double().numpy().")


def _hooks_left(model: torch.nn.Module) -> str | None:
    """A hook left registered records again at every later forward pass, so the next call's list grows."""
    if any(module._forward_hooks for module in model.modules()):
        return ("The values are right, but your hooks are still registered on the model: every later forward pass "
                "will append to your list again. Keep the handles register_forward_hook returns and call "
                ".remove() on each (a try/finally makes sure).")
    return None


# ---------------------------------------------------------------- Exercise 4.1

def _flat(acts: np.ndarray) -> np.ndarray:
    return acts.reshape(-1, acts.shape[-1])


def _probe_variants(fit_acts: np.ndarray, fit_y: np.ndarray, test_acts: np.ndarray,
                    test_y: np.ndarray) -> dict[str, np.ndarray]:
    fy, ty = fit_y.reshape(-1, fit_y.shape[-1]), test_y.reshape(-1, test_y.shape[-1])
    layers = list(fit_acts) + [np.concatenate(list(fit_acts), -1)]
    tests = list(test_acts) + [np.concatenate(list(test_acts), -1)]

    def score(fit: np.ndarray, test: np.ndarray, target_fit: np.ndarray, target_test: np.ndarray,
              bias: bool = True, metric: Callable = B.simplex_rmse) -> float:
        if bias:
            weights = B.fit_linear_probe(_flat(fit), target_fit)
            return metric(B.apply_probe(_flat(test), weights), target_test)
        weights = np.linalg.lstsq(_flat(fit), target_fit, rcond=None)[0]
        return metric(_flat(test) @ weights, target_test)

    def mean_distance(predicted: np.ndarray, true: np.ndarray) -> float:
        return float(np.mean(np.linalg.norm(predicted - true, axis=-1)))

    def plane_rmse(predicted: np.ndarray, true: np.ndarray) -> float:
        return B.simplex_rmse(B.simplex_to_xy(predicted), B.simplex_to_xy(true))

    mixed = [fit_acts.reshape(-1, fit_acts.shape[0] * fit_acts.shape[-1]),
             test_acts.reshape(-1, test_acts.shape[0] * test_acts.shape[-1])]
    right_layers = [score(f, t, fy, ty) for f, t in zip(fit_acts, test_acts)]
    return {
        "You scored each probe on the data it was fitted on: score on the held-out test set (test_acts, "
        "test_beliefs), or the error flatters.": np.array([score(f, f, fy, fy) for f in layers]),
        "The probe has no bias: append a column of ones to the activations (fit_linear_probe from lesson 05 does).":
            np.array([score(f, t, fy, ty, bias=False) for f, t in zip(layers, tests)]),
        "Your errors are mean distances; RMSE is the square root of the mean SQUARED distance (simplex_rmse).":
            np.array([score(f, t, fy, ty, metric=mean_distance) for f, t in zip(layers, tests)]),
        "You measured the error between points of the drawn triangle (simplex_to_xy); measure it between the "
        "probability vectors themselves (simplex_rmse).":
            np.array([score(f, t, fy, ty, metric=plane_rmse) for f, t in zip(layers, tests)]),
        "Your array has one entry per layer and misses the last one: the probe on all layers concatenated "
        "(np.concatenate(list(fit_acts), axis=-1), and the same for test_acts), fitted and scored like the others.":
            np.array(right_layers),
        "Your concatenated entry reshapes (layers, n, L, d) straight to (n·L, layers·d), which mixes different "
        "contexts into one row: concatenate the layers along the LAST axis first.":
            np.array(right_layers + [score(mixed[0], mixed[1], fy, ty)]),
    }


def check_probe_rmse_per_layer(fn: Callable) -> CheckResult:
    """Exercise 4.1: held-out probe RMSE per layer and concatenated, on synthetic activations with a known answer."""
    cases = []
    for seed, (layers, n, length, d) in enumerate([(3, 40, 5, 6), (2, 30, 4, 3), (4, 25, 6, 5)]):
        rng = np.random.default_rng(seed)
        beliefs = rng.dirichlet(np.ones(3), size=(2 * n, length))
        # each layer holds the beliefs through its own linear map, plus noise that shrinks with depth
        acts = np.stack([beliefs @ rng.normal(size=(3, d)) + rng.normal(size=d) + rng.normal(size=(2 * n, length, d))
                         * 0.5 / (k + 1) for k in range(layers)])
        args = (acts[:, :n], beliefs[:n], acts[:, n:], beliefs[n:])
        cases.append((Case(args, label=f"{layers} layers of {d} features, fit and test sets of {n} sequences of "
                                       f"{length}"), _probe_variants(*args)))
    return _check_naming_mistakes(fn, BT.probe_rmse_per_layer, cases, exercise="Exercise 4.1 (probe_rmse_per_layer)",
                                  rtol=1e-6, atol=1e-9,
                                  hint="for each layer: W = fit_linear_probe(fit_layer.reshape(-1, d), "
                                       "fit_beliefs.reshape(-1, 3)), then simplex_rmse(apply_probe(test_layer.reshape"
                                       "(-1, d), W), test_beliefs.reshape(-1, 3)); last, the same with "
                                       "np.concatenate(list(acts), axis=-1) for fit and test.")
