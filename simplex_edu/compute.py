"""Counting what an answer costs: FLOPs, measured seconds, and the break-even between paying now and later."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


def linear_flops(fan_in: int, fan_out: int, batch: int = 1) -> int:
    """FLOPs of one dense layer y = Wx + b: a multiply and an add per weight, plus the bias add."""
    return batch * (2 * fan_in * fan_out + fan_out)


def mlp_flops(sizes: list[int], batch: int = 1) -> int:
    """FLOPs of one forward pass through an MLP with layer sizes ``sizes`` (activations not counted)."""
    return sum(linear_flops(a, b, batch) for a, b in zip(sizes[:-1], sizes[1:]))


def time_call(fn: Callable[[], object], repeat: int = 7, min_seconds: float = 0.02) -> float:
    """Median wall time of one call to ``fn`` in seconds, looping short calls so the clock can resolve them."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-9)
    loops = max(1, int(min_seconds / once))
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - start) / loops)
    return float(np.median(samples))


def cumulative_cost(setup_cost: float, per_query_cost: float, n_queries: np.ndarray | int) -> np.ndarray:
    """Total cost after answering 1..n queries (or each count in an array): setup + per-query × count."""
    counts = np.arange(1, n_queries + 1) if np.ndim(n_queries) == 0 else np.asarray(n_queries)
    return setup_cost + per_query_cost * counts.astype(float)


def break_even(setup_a: float, per_query_a: float, setup_b: float, per_query_b: float) -> float:
    """Smallest whole number of queries Q ≥ 0 at which strategy A's total is no more than B's; inf if never.

    0 when A is not behind before any query (setup_a ≤ setup_b), even if it falls behind later; inf when A starts
    behind and is not cheaper per query. A typically pays more up front (training) and less per query.
    """
    if setup_a <= setup_b:
        return 0.0
    if per_query_a >= per_query_b:
        return math.inf
    return float(math.ceil((setup_a - setup_b) / (per_query_b - per_query_a)))


@dataclass
class LedgerRow:
    """One way of getting answers: what it pays up front, what it pays per query, in the same unit."""

    lesson: str
    strategy: str
    up_front: float
    per_query: float
    unit: str = "s"
    note: str = ""


@dataclass
class CostLedger:
    """The course's running answer to 'where do you pay for an answer?': one row per strategy measured."""

    rows: list[LedgerRow] = field(default_factory=list)

    def add(self, lesson: str, strategy: str, up_front: float, per_query: float, unit: str = "s",
            note: str = "") -> "CostLedger":
        """Add a measured row and return the ledger (so calls can chain)."""
        self.rows.append(LedgerRow(lesson, strategy, up_front, per_query, unit, note))
        return self

    def total(self, strategy: str, n_queries: int) -> float:
        """Total cost of a strategy after ``n_queries`` queries."""
        row = next(r for r in self.rows if r.strategy == strategy)
        return row.up_front + row.per_query * n_queries

    def table(self) -> str:
        """The ledger as a text table, columns as wide as their longest entry."""
        header = ("lesson", "strategy", "up front", "per query", "note")
        rows = [(r.lesson, r.strategy, _fmt(r.up_front, r.unit), _fmt(r.per_query, r.unit), r.note) for r in self.rows]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
        lines = []
        for row in [header, *rows]:
            lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  "
                         f"{row[3]:>{widths[3]}}  {row[4]}".rstrip())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def _fmt(value: float, unit: str) -> str:
    """A value with 3 significant figures, seconds scaled to s/ms/µs/ns."""
    if value == 0:
        return f"0 {unit}"
    if unit != "s":
        return f"{value:.3g} {unit}"
    for scale, name in ((1, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if abs(value) >= scale or scale == 1e-9:
            return f"{value / scale:.3g} {name}"
    return f"{value:.3g} s"
