"""Kept answers: computed once per key, even when many threads ask for it at once."""

import threading
from types import SimpleNamespace

import pytest

from designer import kept as kept_module
from designer.kept import KeptAnswers


def ask_in_threads(kept, key, compute, count):
    answers, errors = [], []

    def ask():
        try:
            answers.append(kept.get(key, compute))
        except RuntimeError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, answers, errors


@pytest.fixture
def waits(monkeypatch):
    """A semaphore released each time a thread starts waiting for another's answer."""
    waiting = threading.Semaphore(0)

    class Watched(threading.Event):
        def wait(self, timeout=None):
            waiting.release()
            return super().wait(timeout)

    monkeypatch.setattr(
        kept_module, "threading", SimpleNamespace(Event=Watched, Lock=threading.Lock)
    )
    return waiting


def test_threads_asking_for_a_missing_answer_at_once_compute_it_once(waits):
    kept = KeptAnswers(limit=2)
    started, release, calls = threading.Event(), threading.Event(), []

    def compute():
        calls.append(1)
        started.set()
        release.wait(timeout=10)
        return "answer"

    threads, answers, _ = ask_in_threads(kept, "k", compute, 1)
    assert started.wait(timeout=10)
    more, more_answers, _ = ask_in_threads(kept, "k", compute, 4)
    assert all(waits.acquire(timeout=10) for _ in more), "a thread did not wait"
    release.set()
    for thread in threads + more:
        thread.join(timeout=10)
    assert answers + more_answers == ["answer"] * 5
    assert len(calls) == 1


def test_a_failed_computation_is_not_kept_and_a_waiting_thread_computes_it_again():
    kept = KeptAnswers(limit=2)
    started, release, calls = threading.Event(), threading.Event(), []

    def fail_first():
        calls.append(1)
        if len(calls) == 1:
            started.set()
            release.wait(timeout=10)
            raise RuntimeError("database went away")
        return "second try"

    threads, _, errors = ask_in_threads(kept, "k", fail_first, 1)
    assert started.wait(timeout=10)
    waiting, answers, _ = ask_in_threads(kept, "k", fail_first, 1)
    release.set()
    for thread in threads + waiting:
        thread.join(timeout=10)
    assert [str(e) for e in errors] == ["database went away"]
    assert answers == ["second try"]
    assert kept.get("k", lambda: pytest.fail("kept answer recomputed")) == "second try"


def test_the_least_recently_used_answer_is_dropped():
    kept = KeptAnswers(limit=2)
    kept.get("a", lambda: 1)
    kept.get("b", lambda: 2)
    kept.get("a", lambda: pytest.fail("a was kept"))
    kept.get("c", lambda: 3)
    assert kept.get("b", lambda: "again") == "again"


def test_kept_answers_are_bounded_by_bytes_as_well_as_by_count():
    kept = KeptAnswers(limit=100, budget=10_000)
    for i in range(5):
        kept.get(i, lambda: "x" * 3_000)
    # Three 3,000-character answers fit in 10,000 bytes; the oldest went first.
    assert list(kept.entries) == [2, 3, 4]
    assert kept.used <= 10_000
    computed = []
    assert kept.get("big", lambda: computed.append(1) or "y" * 20_000) == "y" * 20_000
    assert "big" not in kept.entries and list(kept.entries) == [2, 3, 4]  # never kept
    kept.clear()
    assert kept.used == 0 and not kept.entries


def test_a_large_answer_weighs_by_a_sample_of_its_items_quickly():
    rows = [{"name": "n" * 100, "n": i} for i in range(200_000)]
    assert 200_000 * 100 < kept_module.weight(rows) < 200_000 * 1_000
    assert kept_module.weight({"t": "a" * 1_000_000}) > 1_000_000


def test_the_budget_follows_the_settings(monkeypatch):
    monkeypatch.setattr(kept_module.settings, "cache_bytes", 1_000)
    kept = KeptAnswers(limit=100)
    kept.get("small", lambda: "s" * 100)
    kept.get("large", lambda: "l" * 5_000)
    assert list(kept.entries) == ["small"]


def test_stores_without_a_budget_of_their_own_share_one(monkeypatch):
    monkeypatch.setattr(kept_module.settings, "cache_bytes", 10_000)
    monkeypatch.setattr(kept_module, "pooled", kept_module.weakref.WeakSet())
    plans, drawings = KeptAnswers(limit=100), KeptAnswers(limit=100)
    for i in range(3):
        plans.get(i, lambda: "p" * 3_000)
    drawings.get("a", lambda: "d" * 3_000)
    # Four 3,000-character answers do not fit in 10,000 bytes between them: the largest
    # store gave up its oldest.
    assert list(plans.entries) == [1, 2] and list(drawings.entries) == ["a"]
    assert kept_module.pool_used() <= 10_000
    own = KeptAnswers(limit=100, budget=10_000)
    own.get("b", lambda: "o" * 9_000)
    assert list(own.entries) == ["b"] and list(plans.entries) == [1, 2]  # not pooled
