"""A per-connection message budget, a token bucket: the live session's messages
(tracking/consumers.py) and every WebSocket's control frames (config/daphne.py, which loads before
Django is set up: this module is plain Python)."""


class MessageRate:
    """`per_second` messages a second on average, in bursts of up to two seconds' worth (a network
    hiccup delivers a backlog at once). 0: no limit."""

    def __init__(self, per_second: float, now: float):
        self.per_second = per_second
        self.capacity = 2 * per_second
        self.tokens = self.capacity
        self.updated = now

    def allows(self, now: float) -> bool:
        if not self.per_second:
            return True
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
