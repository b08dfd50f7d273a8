"""A worker gives freed memory back after a request that grew it (designer/memory.py)."""

import threading

import pytest

from designer import memory
from designer.settings import settings

MB = 1024 * 1024


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(memory, "state", {"baseline": None, "trims": 0})
    monkeypatch.setattr(settings, "malloc_trim_after_bytes", 32 * MB)


def test_a_trim_follows_growth_beyond_the_setting_only(fresh, monkeypatch):
    sizes = iter([100 * MB, 120 * MB, 140 * MB, 90 * MB, 100 * MB])
    trimmed = []
    monkeypatch.setattr(memory, "rss_bytes", lambda: next(sizes))
    monkeypatch.setattr(memory, "malloc_trim", trimmed.append)
    assert not memory.trim_if_grown()  # the first request sets where it started
    assert not memory.trim_if_grown()  # 20 MB more: within the setting
    assert memory.trim_if_grown()  # 40 MB more: trimmed, and the baseline is what it left
    assert trimmed == [0]
    assert memory.state["baseline"] == 90 * MB
    assert not memory.trim_if_grown()  # 10 MB above the new baseline


def test_no_trim_when_the_setting_is_zero(fresh, monkeypatch):
    monkeypatch.setattr(settings, "malloc_trim_after_bytes", 0)
    monkeypatch.setattr(memory, "malloc_trim", lambda pad: pytest.fail("trimmed"))
    memory.trim_if_grown()
    assert not memory.trim_if_grown()


@pytest.mark.skipif(memory.malloc_trim is None, reason="not glibc")
def test_memory_a_thread_freed_goes_back_to_the_system(fresh):
    """A request's thread reads 200 MB of texts (a large design's JSON, a response body) and
    frees them: glibc keeps them in the thread's arena until the trim returns them."""
    memory.trim_if_grown()
    before = memory.rss_bytes()

    def request():
        held = ["x" * 1000 + str(i) for i in range(200_000)]
        del held

    thread = threading.Thread(target=request)
    thread.start()
    thread.join()
    kept = memory.rss_bytes()
    assert kept - before > 64 * MB, "freed memory was returned without a trim"
    assert memory.trim_if_grown()
    assert memory.rss_bytes() - before < (kept - before) / 2
