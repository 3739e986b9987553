"""Back-off with full jitter (db/core/backoff.py): the waits, worked out by hand from a seeded
generator."""
from __future__ import annotations

import random
import threading

import pytest

from db.core.backoff import Backoff, pause

# The first draws of random.Random(0).random(), CPython's Mersenne Twister (stable across
# versions and platforms): the jitter fractions the waits below are made of.
DRAWS_SEED_0 = (0.8444218515250481, 0.7579544029403025, 0.420571580830845, 0.25891675029296335,
                0.5112747213686085, 0.4049341374504143)


def test_the_generator_gives_the_draws_the_hand_worked_figures_use():
    rng = random.Random(0)
    assert tuple(rng.random() for _ in DRAWS_SEED_0) == DRAWS_SEED_0


def test_full_jitter_doubles_the_ceiling_up_to_the_cap():
    backoff = Backoff(0.5, 4.0, rng=random.Random(0))
    # Ceilings 0.5·2^n capped at 4: 0.5, 1, 2, 4, 4, 4; each wait is its ceiling × the draw.
    # 0.5 × 0.84442185 = 0.42221093; 1 × 0.75795440 = 0.75795440; 2 × 0.42057158 = 0.84114316;
    # 4 × 0.25891675 = 1.03566700; 4 × 0.51127472 = 2.04509889; 4 × 0.40493414 = 1.61973655.
    expected = (0.42221093, 0.75795440, 0.84114316, 1.03566700, 2.04509889, 1.61973655)
    waits = [backoff.next_delay() for _ in expected]
    assert waits == pytest.approx(expected, abs=1e-8)
    assert backoff.attempts == 6 and backoff.failing
    assert backoff.last_delay == waits[-1]


def test_a_floor_keeps_the_shortest_wait_above_zero():
    backoff = Backoff(1.0, 8.0, floor=0.25, rng=random.Random(0))
    # floor + draw × (ceiling − floor): ceilings 1, 2, 4.
    # 0.25 + 0.84442185 × 0.75 = 0.88331639; 0.25 + 0.75795440 × 1.75 = 1.57642020;
    # 0.25 + 0.42057158 × 3.75 = 1.82714343.
    waits = [backoff.next_delay() for _ in range(3)]
    assert waits == pytest.approx((0.88331639, 1.57642020, 1.82714343), abs=1e-8)


def test_reset_starts_over_and_says_whether_anything_had_failed():
    backoff = Backoff(0.5, 30.0, rng=random.Random(0))
    assert backoff.reset() is None  # nothing had failed
    for _ in range(5):
        backoff.next_delay()
    assert backoff.ceiling() == 16.0  # 0.5 · 2^5
    down = backoff.reset()
    assert down is not None and down >= 0.0
    assert not backoff.failing and backoff.ceiling() == 0.5
    # The schedule starts over; the generator goes on: the sixth draw, times the first ceiling.
    assert backoff.next_delay() == pytest.approx(0.5 * DRAWS_SEED_0[5], abs=1e-12)


def test_a_thousand_failures_stay_at_the_cap():
    backoff = Backoff(0.5, 30.0, rng=random.Random(1))
    waits = [backoff.next_delay() for _ in range(1000)]
    assert backoff.ceiling() == 30.0
    assert all(0.0 <= w <= 30.0 for w in waits)


def test_a_set_stop_event_ends_the_wait_at_once():
    stop = threading.Event()
    stop.set()
    backoff = Backoff(10.0, 10.0, rng=random.Random(0))  # a wait of 8.4 s, were it slept
    assert backoff.wait(stop) is True
    assert backoff.attempts == 1
    assert pause(60.0, stop) is True
    assert pause(0.0) is False  # no stop event: plain sleep, never "stopped"


@pytest.mark.parametrize("args", [(1.0, 0.5), (-0.1, 1.0)])
def test_refuses_a_schedule_that_cannot_be(args):
    with pytest.raises(ValueError):
        Backoff(*args)


def test_refuses_a_floor_above_the_first_ceiling():
    with pytest.raises(ValueError):
        Backoff(1.0, 5.0, floor=2.0)
