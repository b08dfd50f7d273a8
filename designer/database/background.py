"""Work that outlasts a request, on a thread of its own: one job per project (#27).

A cold drift check at 3,000 deployed tables builds their expected catalog for minutes. Each of
a page's requests used to build for a while and answer with its progress, so every poll held
a request for seconds. Now the first request starts the work here and waits for it a while;
the requests after it answer at once with the progress the job reports, until it is done.

A job runs with a connection of its own to the designer's database (peewee's connections are
per thread), acting for the user who started it (row-level security), and gives it back to
the pool when done. At most one job per project runs in a process, and at most MOST in all:
a request that finds no room does the work itself, as before. What a job found is kept on
the job until a request collects it, so an answer too large for its cache is not lost.
"""

import threading
import time

from designer import rls
from designer.db import database

# Jobs running at once in a process.
MOST = 4
# How long a finished job's answer waits for a request to collect it.
UNCOLLECTED_SECONDS = 300


class Job:
    """One project's work under `key`: `progress` (set by the work), then `answer` or
    `error` once `done`."""

    def __init__(self, key):
        self.key = key
        self.began = time.monotonic()
        self.built = 0
        self.total = 0
        self.answer = None
        self.error = None
        self.done = threading.Event()
        # Set once the work has gone past its first step (or is done): a request that started
        # it waits at least that long, as a request building on its own always built a batch.
        self.under_way = threading.Event()
        self.finished_at = None

    def progress(self, built, total, going_on=False):
        self.built, self.total = built, total
        if going_on:
            self.under_way.set()


class Jobs:
    """The jobs of one kind of work, by project."""

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.running = {}  # project id -> Job

    def current(self, project_id):
        """The project's job, running or finished and not collected yet; or None."""
        with self.lock:
            return self.running.get(str(project_id))

    def collect(self, project_id, job):
        """Forget a finished job (its answer is taken)."""
        with self.lock:
            if self.running.get(str(project_id)) is job:
                del self.running[str(project_id)]

    def start(self, project_id, key, work, user_id):
        """(the project's Job, whether it was started here): a new one running `work(job)`
        (its return value is the job's answer) acting for `user_id`, unless the project has
        one already; (None, False) when there is no room for another."""
        job = Job(key)
        with self.lock:
            now = time.monotonic()
            for pid, other in list(self.running.items()):
                if other.done.is_set() and now - other.finished_at > UNCOLLECTED_SECONDS:
                    del self.running[pid]
            if str(project_id) in self.running:
                return self.running[str(project_id)], False
            if sum(1 for other in self.running.values() if not other.done.is_set()) >= MOST:
                return None, False
            self.running[str(project_id)] = job
        thread = threading.Thread(
            target=run, args=(job, work, user_id), name=f"{self.name}-{project_id}", daemon=True
        )
        thread.start()
        return job, True

    def wait_all(self, timeout=60):
        """Wait for every running job (tests: no job may outlive the test that started it)."""
        with self.lock:
            jobs = list(self.running.values())
        for job in jobs:
            job.done.wait(timeout)

    def clear(self):
        self.wait_all()
        with self.lock:
            self.running.clear()


def run(job, work, user_id):
    try:
        database.connect(reuse_if_open=True)
        rls.act_for(user_id)
        job.answer = work(job)
    except BaseException as exc:  # carried over to the request that collects the job
        job.error = exc
    finally:
        try:
            release()
        finally:
            job.finished_at = time.monotonic()
            job.done.set()
            job.under_way.set()


def release():
    """Give the thread's connection back to the pool, acting for nobody."""
    if database.is_closed():
        return
    try:
        rls.act_for(None)
    except Exception:
        # Not fit to go back to the pool acting for someone (the database went away, say).
        database.manual_close()
    else:
        database.close()
