"""Checks for lesson 08 (beliefs beyond the next token): RRXOR's transition tensor, against simplex_edu.beliefs.rrxor."""

from __future__ import annotations

from typing import Callable

import numpy as np

from simplex_edu import beliefs as B
from simplex_edu.checks.core import Case, CheckResult, Diagnosis, check_function

START, ZERO, ONE, TRUE, FALSE = range(len(B.RRXOR_STATES))


def _variant(p_one: float, *, xor=lambda a, b: a ^ b, second: float | None = None, first_zero_to: int = ZERO,
             emits=(1, 0), returns_to: int = START, certain: float = 1.0, empty: int | None = None) -> np.ndarray:
    """RRXOR with one slip switched on: all defaults give the right tensor."""
    second = p_one if second is None else second
    tensor = np.zeros((2, 5, 5))
    tensor[0, START, first_zero_to], tensor[1, START, ONE if first_zero_to == ZERO else ZERO] = 1 - p_one, p_one
    for state, bit in ((ZERO, 0), (ONE, 1)):
        for token, weight in ((0, 1 - second), (1, second)):
            tensor[token, state, TRUE if xor(bit, token) else FALSE] = weight
    tensor[emits[0], TRUE, returns_to] = certain
    tensor[emits[1], FALSE, returns_to] = certain
    if empty is not None:
        tensor[:, empty] = 0
    return tensor


def _fresh_cases(rng: np.random.Generator) -> list[Case]:
    """A seeded bias of the random bits, for a grader."""
    return [Case((float(rng.uniform(0.05, 0.95)),), label="a fresh p_one (grading)")]


RRXOR_DIAGNOSES = [
    Diagnosis(lambda p: _variant(p, xor=lambda a, b: 1 - (a ^ b)),
              "T and F are swapped after the second bit: the XOR of two equal bits is 0, so \"0\" then 0 goes to F, "
              "and \"0\" then 1 goes to T"),
    Diagnosis(lambda p: _variant(p).transpose(0, 2, 1),
              "the state axes are swapped: T[a, i, j] is P(token a, NEXT state j | CURRENT state i), so the row is "
              "where the process is and the column where it goes"),
    Diagnosis(lambda p: _variant(p).transpose(1, 2, 0),
              "the token is the last axis: the tensor is indexed T[token, from, to], shape (2, 5, 5)"),
    Diagnosis(lambda p: _variant(0.5),
              "p_one is ignored: the random bits are 1 with probability p_one, not always ½"),
    Diagnosis(lambda p: _variant(1 - p),
              "p_one is used as the probability of a 0: it is the probability that a random bit is 1"),
    Diagnosis(lambda p: _variant(p, second=0.5),
              "only the first bit uses p_one: the second bit is random too, 1 with probability p_one"),
    Diagnosis(lambda p: _variant(p, emits=(0, 1)),
              "T emits 0 and F emits 1: T (the XOR is true) emits 1, F emits 0"),
    Diagnosis(lambda p: _variant(p, certain=0.5),
              "T and F emit with probability ½: their bit is determined, so each emits it with probability 1 (every "
              "state's row, summed over tokens and next states, must be 1)"),
    Diagnosis(lambda p: _variant(p, returns_to=ZERO),
              "T and F go back to state \"0\": after the XOR bit a new pair starts, from S"),
    Diagnosis(lambda p: _variant(p, first_zero_to=ONE),
              "the first bit goes to the wrong memory state: a 0 from S moves to \"0\", a 1 to \"1\""),
    *(Diagnosis(lambda p, state=state: _variant(p, empty=state),
                f"state \"{name}\" has no moves: its row is all zeros (a loop over the states that stops early?)")
      for state, name in enumerate(B.RRXOR_STATES)),
]


def check_rrxor_transitions(fn: Callable[[float], np.ndarray]) -> CheckResult:
    """Exercise 1.1: RRXOR's tensor for fair and biased random bits, and for bits that are always 0 or always 1."""
    cases = [Case((0.5,), label="p_one = 0.5 (the paper's RRXOR)"),
             Case((0.3,), label="p_one = 0.3 (random bits biased towards 0)"),
             Case((0.9,), label="p_one = 0.9"),
             Case((0.0,), label="p_one = 0 (every random bit is 0: the sequence is 000 000 …)")]
    return check_function(fn, B.rrxor, cases, diagnoses=RRXOR_DIAGNOSES, fresh_cases=_fresh_cases,
                          exercise="Exercise 1.1 (rrxor_transitions)", rtol=1e-9, atol=1e-12,
                          hint="start from np.zeros((2, 5, 5)) and fill T[token, from, to]: S emits each first bit "
                               "(1 with probability p_one) and moves to the state that remembers it; \"0\" and \"1\" "
                               "emit the second bit and move to T if the XOR is 1, F if it is 0; T emits 1 and F "
                               "emits 0 with probability 1, both back to S.")


# ---------------------------------------------------------------- Exercise 4.1: the best guess from the prediction

def _guess(fit_predictions: np.ndarray, fit_beliefs: np.ndarray, test_predictions: np.ndarray, *,
           decimals: int | None = 6, first_column: bool = False, unseen: str = "mean", pick: str = "mean",
           drop_last_group: bool = False) -> np.ndarray:
    """The best guess with one slip switched on: all defaults give the right answer."""
    def keys(rows: np.ndarray) -> list[tuple]:
        rows = rows if decimals is None else np.round(rows, decimals)
        return [tuple(row[:1] if first_column else row) for row in rows]

    groups: dict[tuple, list[np.ndarray]] = {}
    for key, belief in zip(keys(fit_predictions), fit_beliefs):
        groups.setdefault(key, []).append(belief)
    kept = sorted(groups)[:-1] if drop_last_group else sorted(groups)
    combine = {"mean": lambda m: np.mean(m, axis=0), "first": lambda m: m[0], "sum": lambda m: np.sum(m, axis=0)}
    means = {key: combine[pick](groups[key]) for key in kept}
    fallback = fit_beliefs.mean(axis=0) if unseen == "mean" else np.zeros(fit_beliefs.shape[1])
    return np.array([means.get(key, fallback) for key in keys(test_predictions)])


def _guess_cases() -> list[Case]:
    """A hand-sized case with rounding noise and an unseen prediction, three tokens, and RRXOR's own beliefs."""
    rng = np.random.default_rng(8)
    two = np.array([[0.5, 0.5], [0.5, 0.5], [0.25, 0.75], [0.5, 0.5], [0.25, 0.75]])
    asked = np.array([[0.5, 0.5], [0.25, 0.75], [0.5 + 1e-12, 0.5 - 1e-12], [0.9, 0.1]])
    three = np.array([[0.2, 0.3, 0.5], [0.2, 0.5, 0.3], [0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    transitions = B.rrxor()
    tokens, _ = B.sample_sequences(transitions, 60, 6, rng)
    beliefs = B.filter_beliefs(tokens, transitions).reshape(-1, 5)
    predictions = B.next_token_probs(beliefs, transitions)
    return [Case((two, rng.dirichlet(np.ones(5), 5), asked),
                 label="5 fit contexts with 2 predictions; asked: both, one of them off by 1e-12, one never seen"),
            Case((three, rng.dirichlet(np.ones(3), 4), three[[1, 0, 3]]),
                 label="3-token predictions, two of them with the same P(token 0)"),
            Case((predictions[:240], beliefs[:240], predictions[240:]),
                 label="RRXOR: 240 fit contexts' exact predictions and beliefs, 120 held out")]


GUESS_DIAGNOSES = [
    Diagnosis(lambda fp, fb, tp: _guess(fp, fb, tp, decimals=None),
              "a prediction 1e-12 away from a fit one is treated as never seen: predictions that differ by rounding "
              "error only are the same prediction, so round them (np.round(…, 6)) before grouping"),
    Diagnosis(lambda fp, fb, tp: np.broadcast_to(fb.mean(axis=0), (len(tp), fb.shape[1])),
              "every context gets the mean of all fit beliefs: average only the fit contexts whose prediction is the "
              "same as the one asked about"),
    Diagnosis(lambda fp, fb, tp: _guess(fp, fb, tp, unseen="zeros"),
              "a prediction never seen in the fit set gets zeros: give it the mean of all fit beliefs (the best "
              "guess when the prediction tells you nothing)"),
    Diagnosis(lambda fp, fb, tp: _guess(fp, fb, tp, pick="first"),
              "each prediction gets the first fit belief that has it, not the mean of all of them"),
    Diagnosis(lambda fp, fb, tp: _guess(fp, fb, tp, pick="sum"),
              "the group's beliefs are summed, not averaged: divide by how many fit contexts share the prediction"),
    Diagnosis(lambda fp, fb, tp: _guess(fp, fb, tp, first_column=True),
              "contexts are grouped by P(token 0) alone: with three tokens two different predictions can share it; "
              "group by the whole row"),
    Diagnosis(lambda fp, fb, tp: _guess(fp, fb, tp, drop_last_group=True),
              "the last group of predictions has no mean of its own (a loop over the groups that stops one short?)"),
]


def check_best_guess_from_prediction(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 4.1: the mean fit belief per exact prediction, the fit set's mean belief for one never seen."""
    from simplex_edu.beliefs.beyond import best_guess_from_prediction

    return check_function(fn, best_guess_from_prediction, _guess_cases(), diagnoses=GUESS_DIAGNOSES,
                          exercise="Exercise 4.1 (best_guess_from_prediction)", inputs_read_only=True,
                          hint="group the fit contexts by their prediction rounded to 6 places (a tuple of the row "
                               "is a dict key), average each group's beliefs, and answer each asked prediction with "
                               "its group's mean, or with fit_beliefs.mean(axis=0) if no fit context had it.")
