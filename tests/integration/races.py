"""Real races: every contender in its own thread, all released at once at a barrier."""

import threading

from designer.db import database

TIMEOUT = 60


def race(contenders, timeout=TIMEOUT):
    """Run each callable in its own thread, started together; returns what each returned
    or raised, in order. A barrier or thread that hangs fails the race, never the suite."""
    barrier = threading.Barrier(len(contenders), timeout=timeout)
    outcomes = [None] * len(contenders)

    def run(index, contender):
        try:
            barrier.wait()
            outcomes[index] = contender()
        except Exception as exc:  # noqa: BLE001  (the outcome is what the test checks)
            outcomes[index] = exc
        finally:
            database.close()

    threads = [
        threading.Thread(target=run, args=item, daemon=True) for item in enumerate(contenders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a contender never finished"
    return outcomes
