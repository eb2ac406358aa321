"""Lesson 07's mistake catalogue: plausible wrong answers each check rejects by name, and right answers it accepts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simplex_edu.checks import hidden as checks
from simplex_edu.checks.core import CheckFailed
from mistakes import Alternative, Mistake, catalogue_tests  # tests/ is on sys.path (pytest puts it there)


def _by_counting(p: float, confidence: float) -> int:
    """Right, by another route: grow N until the miss probability is small enough (doubling, then bisection)."""
    if confidence <= 0:
        return 0
    miss = lambda n: math.exp(n * math.log1p(-p)) if p < 1 else 0.0  # noqa: E731
    high = 1
    while 1 - miss(high) < confidence:
        high *= 2
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if 1 - miss(middle) < confidence else (low, middle)
    return high


def _closed_form(p: float, confidence: float) -> int:
    """Right: the logarithm formula, with log1p and the two edge cases, as a float (math.ceil of floats)."""
    if confidence == 0:
        return 0
    if p == 1:
        return 1
    return float(math.ceil(np.log1p(-confidence) / np.log1p(-p)))


def _rate_loop(wrong: np.ndarray, draws: np.ndarray) -> float:
    """Right: a plain loop over audits."""
    found = 0
    for audit in draws:
        found += any(bool(wrong[i]) for i in audit)
    return found / len(draws)


def _rate_sets(wrong: np.ndarray, draws: np.ndarray) -> float:
    """Right: set intersection with the wrong inputs."""
    bad = set(np.flatnonzero(wrong).tolist())
    return float(np.mean([bool(bad & set(audit.tolist())) for audit in draws]))


def _span(data: np.ndarray, cutoff: float | None = 1e-8, side: str = "right") -> np.ndarray:
    u, s, vt = np.linalg.svd(data, full_matrices=False)
    keep = s > cutoff * s[0] if cutoff is not None else s >= 0
    return vt[keep] if side == "right" else u[:, keep].T


def _outside_lstsq(matrix: np.ndarray, data: np.ndarray) -> float:
    """Right: project with least squares onto the data rows (numerically rank-aware through rcond)."""
    coef = np.linalg.lstsq(data.T, matrix.T, rcond=1e-8)[0]
    rest = matrix - (data.T @ coef).T
    return float((rest ** 2).sum() / (matrix ** 2).sum())


def _outside_qr(matrix: np.ndarray, data: np.ndarray) -> float:
    """Right: the inside part's energy from an orthonormal basis, 1 − ‖M B̂ᵀ‖² / ‖M‖² (Pythagoras)."""
    basis = _span(data)
    return float(1 - np.sum((matrix @ basis.T) ** 2) / np.sum(matrix ** 2))


def _residual(data: np.ndarray, h: np.ndarray, basis: np.ndarray | None = None, relative: bool = True,
              centred: bool = False) -> np.ndarray:
    data = data - data.mean(0) if centred else data
    basis = _span(data) if basis is None else basis
    h = np.atleast_2d(h)
    rest = np.linalg.norm(h - h @ basis.T @ basis, axis=1)
    norms = np.linalg.norm(h, axis=1)
    if not relative:
        return rest
    return np.divide(rest, norms, out=np.zeros(len(h)), where=norms > 0)


def _residual_nan(data: np.ndarray, h: np.ndarray) -> np.ndarray:
    h = np.atleast_2d(h)
    with np.errstate(invalid="ignore"):
        return np.linalg.norm(h - h @ _span(data).T @ _span(data), axis=1) / np.linalg.norm(h, axis=1)


def _residual_projector(data: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Right: a projector from the pseudo-inverse, P = pinv(data) @ data."""
    projector = np.linalg.pinv(data, rcond=1e-8) @ data
    h = np.atleast_2d(h)
    norms = np.linalg.norm(h, axis=1)
    return np.where(norms > 0, np.linalg.norm(h - h @ projector, axis=1) / np.where(norms > 0, norms, 1), 0.0)


MISTAKES = [
    Mistake("check_queries_needed", "treats detection as linear: N = confidence / p",
            lambda p, c: math.ceil(c / p), "growing linearly"),
    Mistake("check_queries_needed", "rounds down", lambda p, c: math.floor(math.log1p(-c) / math.log1p(-p))
            if 0 < p < 1 else int(p >= 1 and c > 0), "rounded down"),
    Mistake("check_queries_needed", "uses math.log(1 − p), which rounds away a tiny p",
            lambda p, c: 0 if c == 0 else 1 if p == 1 else math.ceil(math.log(1 - c) / math.log(1 - p)), "log1p"),
    Mistake("check_queries_needed", "solves (1 − p)ᴺ = confidence (the chance of missing)",
            lambda p, c: math.ceil(math.log(c) / math.log1p(-p)) if 0 < c and p < 1 else 1, "misses"),
    Mistake("check_queries_needed", "answers 1/p, the expected wait", lambda p, c: math.ceil(1 / p), "expected wait"),
    Mistake("check_queries_needed", "forgets that p = 1 makes log1p(-p) = −inf (returns 0)",
            lambda p, c: 0 if c == 0 or p == 1 else math.ceil(math.log1p(-c) / math.log1p(-p)),
            "p = 1 (every query hits it: answer 1)"),
    Mistake("check_detection_rate", "averages over queries, not audits", lambda w, d: float(np.mean(w[d])),
            "fraction of *queries*"),
    Mistake("check_detection_rate", "takes .any along the wrong axis", lambda w, d: float(np.mean(w[d].any(axis=0))),
            "axis=1"),
    Mistake("check_detection_rate", "asks that every query hit (.all)", lambda w, d: float(np.mean(w[d].all(axis=1))),
            ".all asks"),
    Mistake("check_detection_rate", "one .any over all audits", lambda w, d: float(w[d].any()),
            "not what fraction"),
    Mistake("check_detection_rate", "counts queries that hit, divided by audits",
            lambda w, d: float(w[d].sum() / len(d)), "expected"),
    Mistake("check_fraction_outside", "keeps every singular vector (no rank cut-off)",
            lambda m, d: float(np.sum((m - m @ _span(d, None).T @ _span(d, None)) ** 2) / np.sum(m ** 2)),
            "rounding noise"),
    Mistake("check_fraction_outside", "returns the ratio of norms, not squared norms",
            lambda m, d: float(np.linalg.norm(m - m @ _span(d).T @ _span(d)) / np.linalg.norm(m)), "ratio of norms"),
    Mistake("check_fraction_outside", "returns the fraction inside",
            lambda m, d: float(np.sum((m @ _span(d).T @ _span(d)) ** 2) / np.sum(m ** 2)), "*inside*"),
    Mistake("check_fraction_outside", "projects onto the left singular vectors (the wrong side)",
            lambda m, d: float(np.sum((m - m @ _span(d, side="left").T @ _span(d, side="left")) ** 2) / np.sum(m ** 2)),
            "left singular vectors"),
    Mistake("check_outside_residual", "centres the data first", lambda d, h: _residual(d, h, centred=True),
            "centred"),
    Mistake("check_outside_residual", "forgets to divide by ‖h‖", lambda d, h: _residual(d, h, relative=False),
            "not divided by ‖h‖"),
    Mistake("check_outside_residual", "divides by ‖h‖ even when it is 0 (nan)", _residual_nan, "nan"),
    Mistake("check_outside_residual", "returns the inside part's relative size",
            lambda d, h: np.sqrt(np.clip(1 - _residual(d, h) ** 2, 0, 1)), "Exercise 3.2 (outside_residual)"),
]

ALTERNATIVES = [
    Alternative("check_queries_needed", "counts up by doubling and bisection", _by_counting),
    Alternative("check_queries_needed", "the closed form, returned as a whole float", _closed_form),
    Alternative("check_detection_rate", "a plain loop over audits", _rate_loop),
    Alternative("check_detection_rate", "set intersection", _rate_sets),
    Alternative("check_fraction_outside", "least-squares projection", _outside_lstsq),
    Alternative("check_fraction_outside", "Pythagoras: one minus the inside energy", _outside_qr),
    Alternative("check_outside_residual", "a projector from the pseudo-inverse", _residual_projector),
]

(test_mistake_is_rejected, test_alternative_is_accepted, test_alternative_is_accepted_under_grading,
 test_every_check_is_covered) = catalogue_tests(checks, MISTAKES, ALTERNATIVES)


def test_unattempted_stubs_are_reported_not_raised(capsys) -> None:
    def stub(*args):
        raise NotImplementedError("replace this line with your code")
    for name in ("check_queries_needed", "check_detection_rate", "check_fraction_outside", "check_outside_residual"):
        assert not getattr(checks, name)(stub)
    assert "not attempted" in capsys.readouterr().out


def test_under_grading_the_course_reference_is_refused(monkeypatch) -> None:
    from simplex_edu import hidden
    monkeypatch.setenv("SIMPLEX_EDU_GRADING", "1")
    with pytest.raises(CheckFailed, match="course's own `queries_needed`"):
        checks.check_queries_needed(hidden.queries_needed)
