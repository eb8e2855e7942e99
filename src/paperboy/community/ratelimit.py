"""Sliding-window rate limits, per key (an IP address, an account, a user id).

Limits are kept in the memory of the serving process: with several workers behind a proxy each
worker counts on its own, so the effective limit is (limit x workers). That bounds brute force
and spam well enough for a self-hosted instance without another service to run.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    limit: int
    window_s: float


#: Default rules per action. Keys are "<action>:<ip|account|user>".
DEFAULT_RULES: dict[str, Rule] = {
    "login:ip": Rule(20, 300),          # 20 attempts / 5 min from one address
    "login:account": Rule(5, 300),      # 5 failed attempts / 5 min on one account
    "signup:ip": Rule(5, 3600),         # 5 new accounts / hour from one address
    "signup-attempt:ip": Rule(30, 3600),  # 30 sign-up form posts / hour from one address
    "signup:account": Rule(5, 3600),    # 5 sign-up attempts / hour for one e-mail or username
    "reset:ip": Rule(5, 3600),
    "reset:account": Rule(3, 3600),
    "vote:user": Rule(120, 60),
    "vote:ip": Rule(600, 60),
    "comment:user": Rule(10, 300),
    "comment:ip": Rule(60, 300),
    "submit:user": Rule(20, 3600),
    "write:user": Rule(120, 60),        # collections, tokens, edits
}


class RateLimited(Exception):
    def __init__(self, action: str, retry_after: float):
        self.action = action
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(f"too many {action.split(':')[0]} attempts; retry in {self.retry_after}s")


class RateLimiter:
    """Thread-safe sliding-window counters; ``hit`` records and raises when over the limit."""

    def __init__(self, rules: dict[str, Rule] | None = None, clock=time.monotonic):
        self.rules = dict(DEFAULT_RULES if rules is None else rules)
        self._clock = clock
        self._events: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def _window(self, rule_name: str, key: str, now: float) -> deque[float] | None:
        rule = self.rules.get(rule_name)
        if rule is None:
            return None
        events = self._events.setdefault((rule_name, key), deque())
        while events and events[0] <= now - rule.window_s:
            events.popleft()
        return events

    def check(self, rule_name: str, key: str) -> None:
        """Raise :class:`RateLimited` when ``key`` is at its limit, without recording."""
        with self._lock:
            now = self._clock()
            events = self._window(rule_name, key, now)
            if events is None:
                return
            rule = self.rules[rule_name]
            if len(events) >= rule.limit:
                raise RateLimited(rule_name, events[0] + rule.window_s - now)

    def hit(self, rule_name: str, key: str) -> None:
        """Record one event for ``key``; raise :class:`RateLimited` if that exceeds the limit."""
        with self._lock:
            now = self._clock()
            self._calls += 1
            if self._calls % 1000 == 0:
                self._sweep(now)
            events = self._window(rule_name, key, now)
            if events is None:
                return
            rule = self.rules[rule_name]
            if len(events) >= rule.limit:
                raise RateLimited(rule_name, events[0] + rule.window_s - now)
            events.append(now)

    def reset(self, rule_name: str, key: str) -> None:
        with self._lock:
            self._events.pop((rule_name, key), None)

    def _sweep(self, now: float) -> None:
        """Drop keys whose events all expired, so memory stays bounded."""
        for (rule_name, key), events in list(self._events.items()):
            rule = self.rules.get(rule_name)
            if rule is None or not events or events[-1] <= now - rule.window_s:
                del self._events[(rule_name, key)]
