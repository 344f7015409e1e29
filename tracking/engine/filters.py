"""Signal smoothing, on plain Python floats: a NumPy call per sample costs more than the filter."""

import math

TWO_PI = 2.0 * math.pi


class OneEuroFilter:
    """One-Euro filter (Casiez et al., CHI 2012) on a scalar sampled at irregular times.

    A low-pass whose cutoff rises with speed: still poses are smoothed hard (jitter goes), fast
    movements pass with little lag (a 10 fps curl keeps its peak). Times are in milliseconds so the
    same filter behaves the same at 10, 30 or 60 fps.
    """

    __slots__ = ("min_cutoff", "beta", "d_cutoff", "_value", "_speed", "_t_ms")

    def __init__(self, min_cutoff: float = 1.2, beta: float = 1.5, d_cutoff: float = 1.0):
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self._value: float | None = None
        self._speed = 0.0
        self._t_ms = 0.0

    def reset(self) -> None:
        self._value = None
        self._speed = 0.0

    def __call__(self, value: float, t_ms: float) -> float:
        previous = self._value
        if previous is None:
            self._value = value
            self._t_ms = t_ms
            return value
        dt = (t_ms - self._t_ms) / 1000.0
        self._t_ms = t_ms
        if dt <= 0.0:
            return previous
        raw_speed = (value - previous) / dt
        speed_alpha = 1.0 / (1.0 + 1.0 / (TWO_PI * self.d_cutoff * dt))
        self._speed += speed_alpha * (raw_speed - self._speed)
        cutoff = self.min_cutoff + self.beta * abs(self._speed)
        alpha = 1.0 / (1.0 + 1.0 / (TWO_PI * cutoff * dt))
        smoothed = previous + alpha * (value - previous)
        self._value = smoothed
        return smoothed

    @property
    def speed(self) -> float:
        """Smoothed rate of change, in value units per second."""
        return self._speed
