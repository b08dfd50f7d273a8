"""A small in-process store of answers, for keys whose answer never changes.

Callers key it by something the database vouches for (a content hash, a
change stamp read on each call), so an entry never goes stale and several
app servers may each keep their own. Each store is bounded by a count and by bytes
(the answers' estimated size): one 30,000-table snapshot outweighs thousands of small
answers, and a count alone let a few of them fill a worker's memory. The stores given no
budget of their own share one, settings.cache_bytes: eleven stores of 48 MB each let a
worker grow past 512 MB, so the budget is the worker's, not each store's.
"""

import sys
import threading
import weakref
from collections import OrderedDict

from designer.settings import settings

# Items of a long list or dict weighed one by one; the rest are taken to weigh the same.
SAMPLED = 32


def weight(value, depth=0):
    """An estimate of what `value` holds, in bytes, quick whatever its size: texts by their
    length, containers by a sample of their items, anything registered by its own measure
    (see measures)."""
    for measure in measures:
        found = measure(value)
        if found is not None:
            return found
    if isinstance(value, (str, bytes, bytearray)):
        return len(value) + 49
    if depth > 6:
        return sys.getsizeof(value)
    if isinstance(value, dict):
        items = list(value.items())
        sample = items[:SAMPLED]
        each = sum(weight(k, depth + 1) + weight(v, depth + 1) for k, v in sample)
        return sys.getsizeof(value) + (each * len(items) // len(sample) if sample else 0)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)[:SAMPLED] if not isinstance(value, list) else value[:SAMPLED]
        each = sum(weight(item, depth + 1) for item in items)
        return sys.getsizeof(value) + (each * len(value) // len(items) if items else 0)
    return sys.getsizeof(value)


# Functions value -> bytes or None, asked first (designer.history.snapshot registers one
# that knows a built snapshot's size from the texts it was read from).
measures = []


# The stores sharing settings.cache_bytes (those made without a budget of their own).
pooled = weakref.WeakSet()


def pool_used():
    return sum(store.used for store in list(pooled))


def trim_pool():
    """Drop the oldest answers of the largest stores until the pool fits its budget."""
    while pool_used() > settings.cache_bytes:
        largest = max(list(pooled), key=lambda store: store.used, default=None)
        if largest is None or not largest.drop_oldest():
            return


class KeptAnswers:
    """The last `limit` answers by key, least recently used dropped first.

    One thread computes a missing answer; others asking for the same key meanwhile wait
    for it rather than compute it too: after an edit, every open page of the project asks
    at once, and a 3,000-table answer computed by each of them at once took each of them
    several times as long."""

    def __init__(self, limit, budget=None, weigh=weight):
        """At most `limit` answers, and `budget` bytes of them (default: settings.cache_bytes,
        read on every insertion, so a configuration applies to stores made before it), each
        weighed by `weigh` (answer -> bytes)."""
        self.limit = limit
        self.budget = budget
        self.weigh = weigh
        self.used = 0
        self.sizes = {}
        self.entries = OrderedDict()
        self.computing = {}  # key -> Event set when its answer is kept (or failed)
        self.lock = threading.Lock()
        if budget is None:
            pooled.add(self)

    def get(self, key, compute):
        """The answer kept for `key`, or `compute()`'s, kept from now on."""
        while True:
            with self.lock:
                if key in self.entries:
                    self.entries.move_to_end(key)
                    return self.entries[key]
                underway = self.computing.get(key)
                if underway is None:
                    underway = self.computing[key] = threading.Event()
                    break
            # Another thread computes it: wait, then look again (computing it ourselves if
            # theirs failed, or was already dropped).
            underway.wait()
        try:
            answer = compute()
            size = self.weigh(answer)
            budget = self.budget if self.budget is not None else settings.cache_bytes
            with self.lock:
                if size <= budget:
                    self.entries[key] = answer
                    self.sizes[key] = size
                    self.used += size
                while self.entries and (len(self.entries) > self.limit or self.used > budget):
                    dropped, _ = self.entries.popitem(last=False)
                    self.used -= self.sizes.pop(dropped)
            if self.budget is None:
                trim_pool()
            return answer
        finally:
            with self.lock:
                self.computing.pop(key, None)
            underway.set()

    def peek(self, key):
        """The answer kept for `key` (now the most recently used), or None."""
        with self.lock:
            if key not in self.entries:
                return None
            self.entries.move_to_end(key)
            return self.entries[key]

    def drop_oldest(self):
        """Drop the least recently used answer; False when there is none."""
        with self.lock:
            if not self.entries:
                return False
            dropped, _ = self.entries.popitem(last=False)
            self.used -= self.sizes.pop(dropped)
            return True

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.sizes.clear()
            self.used = 0
