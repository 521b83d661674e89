"""The live dashboard's cache: reused while the views stand still, recomputed once they move
or the answer is older than its time to live."""

from __future__ import annotations

import time

from interfaces.asof import LiveCache


def test_an_answer_is_reused_at_the_same_position_and_recomputed_after_a_move() -> None:
    cache: LiveCache[str] = LiveCache(seconds=60)
    computed: list[int] = []

    def at(position: int) -> tuple[str, int]:
        computed.append(position)
        return f"figures@{position}", position

    assert cache.get("k", 7, lambda: at(7)) == "figures@7"
    assert cache.get("k", 7, lambda: at(7)) == "figures@7"
    assert computed == [7]
    assert cache.get("k", 8, lambda: at(8)) == "figures@8"
    assert cache.get("other", 8, lambda: at(8)) == "figures@8"
    assert computed == [7, 8, 8]


def test_an_old_answer_or_a_zero_lifetime_is_never_reused() -> None:
    never: LiveCache[int] = LiveCache(seconds=0)
    calls = iter(range(10))
    assert never.get("k", 1, lambda: (next(calls), 1)) == 0
    assert never.get("k", 1, lambda: (next(calls), 1)) == 1
    brief: LiveCache[int] = LiveCache(seconds=0.01)
    assert brief.get("k", 1, lambda: (next(calls), 1)) == 2
    time.sleep(0.02)
    assert brief.get("k", 1, lambda: (next(calls), 1)) == 3


def test_the_cache_is_bounded() -> None:
    cache: LiveCache[int] = LiveCache(seconds=60, size=2)
    for key in range(3):
        cache.get(key, 1, lambda key=key: (key, 1))  # type: ignore[misc]
    assert cache.get(0, 1, lambda: (99, 1)) == 99  # the oldest was dropped
