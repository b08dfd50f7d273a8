"""Giving freed memory back to the system after a request that grew the worker.

A page that reads a large design allocates hundreds of thousands of small objects and frees
them when it answers; glibc keeps the freed pages in its arenas (one per thread that
allocated) rather than returning them, so a worker's RSS stays at its largest request's
high-water mark. After a request that left the worker's RSS more than
settings.malloc_trim_after_bytes above where the last trim left it, malloc_trim(0) returns
the free pages at the top and in the middle of every arena. A trim costs a few milliseconds
per hundred megabytes, so it runs only after such growth, not after every request.
Without glibc (another C library) nothing is done.
"""

import ctypes
import ctypes.util
import os
import threading

from designer.settings import settings

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def load_trim():
    """libc's malloc_trim, or None where there is none (not glibc)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


malloc_trim = load_trim()
lock = threading.Lock()
# The RSS the last trim left (or the first request found), in bytes.
state = {"baseline": None, "trims": 0}


def rss_bytes():
    """The process's resident set, in bytes (None where /proc has none)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return None


def trim_if_grown():
    """malloc_trim(0) when RSS grew by more than the setting since the last trim."""
    threshold = settings.malloc_trim_after_bytes
    if malloc_trim is None or threshold <= 0:
        return False
    now = rss_bytes()
    if now is None:
        return False
    if state["baseline"] is None:
        state["baseline"] = now
        return False
    if now - state["baseline"] <= threshold or not lock.acquire(blocking=False):
        return False
    try:
        malloc_trim(0)
        state["baseline"] = rss_bytes() or now
        state["trims"] += 1
        return True
    finally:
        lock.release()


def init_app(app):
    @app.teardown_request
    def trim_after_request(exc=None):
        trim_if_grown()
