"""A small in-process store of answers, for keys whose answer never changes.

Callers key it by something the database vouches for (a content hash, a
change stamp read on each call), so an entry never goes stale and several
app servers may each keep their own.
"""

import threading
from collections import OrderedDict


class KeptAnswers:
    """The last `limit` answers by key, least recently used dropped first.

    One thread computes a missing answer; others asking for the same key meanwhile wait
    for it rather than compute it too: after an edit, every open page of the project asks
    at once, and a 3,000-table answer computed by each of them at once took each of them
    several times as long."""

    def __init__(self, limit):
        self.limit = limit
        self.entries = OrderedDict()
        self.computing = {}  # key -> Event set when its answer is kept (or failed)
        self.lock = threading.Lock()

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
            with self.lock:
                self.entries[key] = answer
                while len(self.entries) > self.limit:
                    self.entries.popitem(last=False)
            return answer
        finally:
            with self.lock:
                self.computing.pop(key, None)
            underway.set()

    def clear(self):
        with self.lock:
            self.entries.clear()
