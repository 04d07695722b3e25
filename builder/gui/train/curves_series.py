"""A growing (x, y) series in preallocated numpy arrays, for plots fed one point at a time.

Appending is amortised O(1) (the arrays double when full), and ``x``/``y`` are views, so a
plot's setData gets arrays without a copy per point. A resumed run replays the steps after its
checkpoint: ``append`` at an x at or before the last one first drops the points from there on,
as the run's metrics.csv drops the epochs it redoes, so the curve never doubles back.
"""

from __future__ import annotations

import numpy as np

INITIAL_CAPACITY = 1024


class Series:
    def __init__(self, capacity: int = INITIAL_CAPACITY):
        self._x = np.empty(capacity, dtype=float)
        self._y = np.empty(capacity, dtype=float)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    @property
    def last_x(self) -> float | None:
        return float(self._x[self._n - 1]) if self._n else None

    def append(self, x: float, y: float) -> None:
        if self._n and x <= self._x[self._n - 1]:
            self._n = int(np.searchsorted(self._x[: self._n], x, side="left"))
        if self._n == len(self._x):
            self._grow()
        self._x[self._n] = x
        self._y[self._n] = y
        self._n += 1

    def clear(self) -> None:
        self._n = 0

    def _grow(self) -> None:
        capacity = 2 * len(self._x)
        for name in ("_x", "_y"):
            grown = np.empty(capacity, dtype=float)
            grown[: self._n] = getattr(self, name)[: self._n]
            setattr(self, name, grown)
