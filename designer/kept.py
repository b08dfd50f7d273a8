"""A small in-process store of answers, for keys whose answer never changes.

Callers key it by something the database vouches for (a content hash, a
change stamp read on each call), so an entry never goes stale and several
app servers may each keep their own.
"""

import threading
from collections import OrderedDict


class KeptAnswers:
    """The last `limit` answers by key, least recently used dropped first."""

    def __init__(self, limit):
        self.limit = limit
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, compute):
        """The answer kept for `key`, or `compute()`'s, kept from now on."""
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        answer = compute()
        with self.lock:
            self.entries[key] = answer
            while len(self.entries) > self.limit:
                self.entries.popitem(last=False)
        return answer

    def clear(self):
        with self.lock:
            self.entries.clear()
