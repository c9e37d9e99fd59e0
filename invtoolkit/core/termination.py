"""When a search stops: an evaluation budget, a time limit, or whichever comes first.

The chain gives every stage a :class:`MaxEvaluations` share of the run's budget (work
done, so the same seed gives the same result under any load) and, when the user set a
wall-clock cap, a :class:`TimeLimit` built from the cap's deadline; optimizers combine
them with their own limits (``any_of``). A TimeLimit remembers whether it stopped a
search (:attr:`TimeLimit.hit`), so a report can admit that the cap cut it short.
"""

from __future__ import annotations

import math
import time


class Termination:
    """No limit at all; subclasses bound time and/or evaluations."""

    def time_left(self) -> float:
        """Seconds left (inf without a time limit)."""
        return math.inf

    def evaluations_left(self, evaluations: int) -> float:
        """Evaluations left after ``evaluations`` were spent (inf without a budget)."""
        return math.inf

    @property
    def has_time_limit(self) -> bool:
        return math.isfinite(self.time_left())

    @property
    def has_budget(self) -> bool:
        return math.isfinite(self.evaluations_left(0))

    @property
    def bounded(self) -> bool:
        """A time limit or a budget will stop the search (open-ended loops may run)."""
        return self.has_time_limit or self.has_budget

    def done(self, evaluations: int = 0) -> bool:
        if self.time_left() <= 0:
            self.note_time_stop()
            return True
        return self.evaluations_left(evaluations) <= 0

    def note_time_stop(self) -> None:
        """Called when the clock (not the budget) stops a search; TimeLimit records it."""


NoTermination = Termination


class TimeLimit(Termination):
    """Stop at a ``time.monotonic()`` deadline: ``TimeLimit(seconds)`` or ``TimeLimit(deadline=t)``."""

    def __init__(self, seconds: float | None = None, *, deadline: float | None = None):
        if (seconds is None) == (deadline is None):
            raise ValueError("TimeLimit needs exactly one of seconds and deadline")
        self.deadline = time.monotonic() + float(seconds) if deadline is None else float(deadline)
        self.hit = False  # set once the deadline stopped (or refused) some work

    def note_time_stop(self) -> None:
        self.hit = True

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def __repr__(self):
        return f"TimeLimit({self.time_left():.3f} s left)"


class MaxEvaluations(Termination):
    """Stop after ``n`` evaluations (new grids the evaluator actually simulated)."""

    def __init__(self, n: int):
        self.n = int(n)

    def evaluations_left(self, evaluations: int) -> float:
        return self.n - evaluations

    def __repr__(self):
        return f"MaxEvaluations({self.n})"


class AnyOf(Termination):
    """Stops as soon as any part would: the least time and the least budget left."""

    def __init__(self, *parts: Termination):
        self.parts = parts

    def time_left(self) -> float:
        return min((p.time_left() for p in self.parts), default=math.inf)

    def evaluations_left(self, evaluations: int) -> float:
        return min((p.evaluations_left(evaluations) for p in self.parts), default=math.inf)

    def note_time_stop(self) -> None:
        for part in self.parts:
            part.note_time_stop()

    def __repr__(self):
        return f"any_of{self.parts}"


def any_of(*parts: Termination | None) -> Termination:
    """Combine terminations (None parts are ignored; nested combinations flattened)."""
    flat = []
    for part in parts:
        if part is None:
            continue
        flat.extend(part.parts if isinstance(part, AnyOf) else [part])
    if not flat:
        return Termination()
    return flat[0] if len(flat) == 1 else AnyOf(*flat)


def as_termination(value) -> Termination:
    """None -> no limit; a Termination as it is."""
    if value is None:
        return Termination()
    if not isinstance(value, Termination):
        raise TypeError(f"expected a Termination, got {value!r}")
    return value
