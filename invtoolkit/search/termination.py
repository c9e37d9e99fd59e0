"""When a search stops: a time limit, an evaluation budget, or whichever comes first.

The chain gives every stage a :class:`TimeLimit` built from the stage's deadline;
optimizers combine it with their own budgets (``any_of``) instead of passing bare
deadline floats around.
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

    def done(self, evaluations: int = 0) -> bool:
        return self.time_left() <= 0 or self.evaluations_left(evaluations) <= 0


NoTermination = Termination


class TimeLimit(Termination):
    """Stop at a ``time.monotonic()`` deadline: ``TimeLimit(seconds)`` or ``TimeLimit(deadline=t)``."""

    def __init__(self, seconds: float | None = None, *, deadline: float | None = None):
        if (seconds is None) == (deadline is None):
            raise ValueError("TimeLimit needs exactly one of seconds and deadline")
        self.deadline = time.monotonic() + float(seconds) if deadline is None else float(deadline)

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
