"""Lesson 08's mistake catalogue: plausible wrong answers the check rejects by name, and right answers it accepts."""

from __future__ import annotations

import numpy as np
import pytest

from simplex_edu import beliefs
from simplex_edu.checks import beliefs_beyond as checks
from simplex_edu.checks.core import CheckFailed
from mistakes import Alternative, Mistake, catalogue_tests  # tests/ is on sys.path (pytest puts it there)


def _learner(p_one, *, xnor=False, transpose=False, token_last=False, fair=False, as_zero=False, first_only=False,
             emit_swap=False, half_certain=False, back_to_zero=False, first_swap=False, stop_early=False):
    """RRXOR as a learner writes it, entry by entry, with a switch for each slip (all off: right)."""
    S, Z, O, T, F = range(5)
    p = 0.5 if fair else (1 - p_one if as_zero else p_one)
    q = 0.5 if first_only else p
    t = np.zeros((2, 5, 5))
    t[0, S, O if first_swap else Z] = 1 - p
    t[1, S, Z if first_swap else O] = p
    t[0, Z, T if xnor else F] = 1 - q
    t[1, Z, F if xnor else T] = q
    if not stop_early:  # a loop over the memory states that stops one short would leave "1" empty
        t[0, O, F if xnor else T] = 1 - q
        t[1, O, T if xnor else F] = q
    certain = 0.5 if half_certain else 1.0
    home = Z if back_to_zero else S
    t[0 if emit_swap else 1, T, home] = certain
    t[1 if emit_swap else 0, F, home] = certain
    if transpose:
        t = t.transpose(0, 2, 1)
    if token_last:
        t = t.transpose(1, 2, 0)
    return t


def _by_rule(p_one):
    """Right, by another route: one rule per state, (token, next state, probability), written into the tensor."""
    rules = {"S": [(0, "0", 1 - p_one), (1, "1", p_one)],
             "0": [(0, "F", 1 - p_one), (1, "T", p_one)],
             "1": [(0, "T", 1 - p_one), (1, "F", p_one)],
             "T": [(1, "S", 1.0)], "F": [(0, "S", 1.0)]}
    index = {name: k for k, name in enumerate(beliefs.RRXOR_STATES)}
    tensor = np.zeros((2, 5, 5))
    for state, moves in rules.items():
        for token, target, probability in moves:
            tensor[token, index[state], index[target]] += probability
    return tensor


def _by_joint_table(p_one):
    """Right, as a list: P(token, next | state) built from the emission of each state and where each token leads."""
    emit = np.array([[1 - p_one, p_one]] * 3 + [[0, 1], [1, 0]])
    goes_to = np.array([[1, 2], [4, 3], [3, 4], [0, 0], [0, 0]])  # next state after token 0, token 1
    tensor = np.zeros((2, 5, 5))
    for state in range(5):
        for token in range(2):
            tensor[token, state, goes_to[state, token]] = emit[state, token]
    return tensor


def _learner_guess(fit_predictions, fit_beliefs, test_predictions, *, no_rounding=False, all_mean=False,
                   unseen_zeros=False, first_only=False, summed=False, first_column=False, stop_early=False):
    """The best guess from the prediction as a learner writes it, with a switch for each slip (all off: right)."""
    def key(row):
        row = row if no_rounding else np.round(row, 6)
        return tuple(row[:1]) if first_column else tuple(row)

    groups = {}
    for row, belief in zip(fit_predictions, fit_beliefs):
        groups.setdefault(key(row), []).append(belief)
    names = sorted(groups)
    means = {}
    for name in names[:-1] if stop_early else names:
        members = np.array(groups[name])
        means[name] = members[0] if first_only else members.sum(axis=0) if summed else members.mean(axis=0)
    fallback = np.zeros(fit_beliefs.shape[1]) if unseen_zeros else fit_beliefs.mean(axis=0)
    if all_mean:
        return np.tile(fit_beliefs.mean(axis=0), (len(test_predictions), 1))
    return np.array([means.get(key(row), fallback) for row in test_predictions])


def _guess_by_unique(fit_predictions, fit_beliefs, test_predictions):
    """Right, vectorised: np.unique's inverse indices as group labels, np.add.at for the sums."""
    fit_rounded, test_rounded = np.round(fit_predictions, 6), np.round(test_predictions, 6)
    rows, label = np.unique(fit_rounded, axis=0, return_inverse=True)
    label = label.reshape(-1)
    sums = np.zeros((len(rows), fit_beliefs.shape[1]))
    np.add.at(sums, label, fit_beliefs)
    means = sums / np.bincount(label)[:, None]
    out = np.tile(fit_beliefs.mean(axis=0), (len(test_predictions), 1))
    for k, row in enumerate(test_rounded):
        same = np.flatnonzero(np.all(rows == row, axis=1))
        if len(same):
            out[k] = means[same[0]]
    return out


def _guess_by_masks(fit_predictions, fit_beliefs, test_predictions):
    """Right, directly: for each asked prediction, a mask of the fit contexts within 1e-9 of it."""
    out = []
    for row in test_predictions:
        same = np.all(np.abs(fit_predictions - row) < 1e-9, axis=1)
        out.append(fit_beliefs[same].mean(axis=0) if same.any() else fit_beliefs.mean(axis=0))
    return np.array(out)


MISTAKES = [
    Mistake("check_rrxor_transitions", "computes XNOR instead of XOR (T and F swapped)",
            lambda p: _learner(p, xnor=True), "T and F are swapped"),
    Mistake("check_rrxor_transitions", "writes T[a, to, from] (state axes swapped)",
            lambda p: _learner(p, transpose=True), "state axes are swapped"),
    Mistake("check_rrxor_transitions", "puts the token on the last axis, shape (5, 5, 2)",
            lambda p: _learner(p, token_last=True), "token is the last axis"),
    Mistake("check_rrxor_transitions", "ignores p_one (fair bits always)",
            lambda p: _learner(p, fair=True), "p_one is ignored"),
    Mistake("check_rrxor_transitions", "reads p_one as the probability of a 0",
            lambda p: _learner(p, as_zero=True), "probability of a 0"),
    Mistake("check_rrxor_transitions", "uses p_one for the first bit only",
            lambda p: _learner(p, first_only=True), "only the first bit uses p_one"),
    Mistake("check_rrxor_transitions", "lets T emit 0 and F emit 1",
            lambda p: _learner(p, emit_swap=True), "T emits 0 and F emits 1"),
    Mistake("check_rrxor_transitions", "gives T's and F's determined bit probability ½",
            lambda p: _learner(p, half_certain=True), "probability 1"),
    Mistake("check_rrxor_transitions", "sends T and F back to state \"0\"",
            lambda p: _learner(p, back_to_zero=True), "back to state \"0\""),
    Mistake("check_rrxor_transitions", "sends the first bit to the wrong memory state",
            lambda p: _learner(p, first_swap=True), "wrong memory state"),
    Mistake("check_rrxor_transitions", "a loop over the memory states stops early, leaving \"1\" empty",
            lambda p: _learner(p, stop_early=True), "has no moves"),
    Mistake("check_best_guess_from_prediction", "groups the predictions without rounding them",
            lambda *a: _learner_guess(*a, no_rounding=True), "differ by rounding error only"),
    Mistake("check_best_guess_from_prediction", "answers the mean of all fit beliefs for every context",
            lambda *a: _learner_guess(*a, all_mean=True), "mean of all fit beliefs: average only"),
    Mistake("check_best_guess_from_prediction", "answers zeros for a prediction never seen",
            lambda *a: _learner_guess(*a, unseen_zeros=True), "never seen in the fit set gets zeros"),
    Mistake("check_best_guess_from_prediction", "takes the first fit belief of each group",
            lambda *a: _learner_guess(*a, first_only=True), "the first fit belief"),
    Mistake("check_best_guess_from_prediction", "sums each group's beliefs instead of averaging",
            lambda *a: _learner_guess(*a, summed=True), "summed, not averaged"),
    Mistake("check_best_guess_from_prediction", "groups by P(token 0) alone",
            lambda *a: _learner_guess(*a, first_column=True), "P(token 0) alone"),
    Mistake("check_best_guess_from_prediction", "a loop over the groups stops one short",
            lambda *a: _learner_guess(*a, stop_early=True), "stops one short"),
    Mistake("check_best_guess_from_prediction", "sorts the fit beliefs in place to group them",
            lambda fp, fb, tp: (fb.sort(axis=0), _learner_guess(fp, fb, tp))[1], "changed its input"),
]

ALTERNATIVES = [
    Alternative("check_best_guess_from_prediction", "a dict of groups (the learner's layout, every switch off)",
                _learner_guess),
    Alternative("check_best_guess_from_prediction", "np.unique's inverse indices and np.add.at", _guess_by_unique),
    Alternative("check_best_guess_from_prediction", "a mask per asked prediction, within 1e-9", _guess_by_masks),
    Alternative("check_rrxor_transitions", "entry by entry (the learner's layout, every switch off)", _learner),
    Alternative("check_rrxor_transitions", "one rule per state, by name", _by_rule),
    Alternative("check_rrxor_transitions", "an emission table and a next-state table",
                _by_joint_table),
]

(test_mistake_is_rejected, test_alternative_is_accepted, test_alternative_is_accepted_under_grading,
 test_every_check_is_covered) = catalogue_tests(checks, MISTAKES, ALTERNATIVES)


def test_a_stub_is_not_attempted(capsys) -> None:
    def rrxor_transitions(p_one):
        raise NotImplementedError("Exercise 1.1: write rrxor_transitions")
    assert not checks.check_rrxor_transitions(rrxor_transitions)
    assert "not attempted" in capsys.readouterr().out


def test_under_grading_the_course_reference_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")
    with pytest.raises(CheckFailed, match="course's own `rrxor`"):
        checks.check_rrxor_transitions(beliefs.rrxor)
