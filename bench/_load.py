"""Closed-loop HTTP load for the bench scripts, and the CPU each side spent per request.

Each client is a thread sending its request back to back on its own http.client connection;
the threads run in forked processes. Only requests finishing inside the measured window count.
"""

import contextlib
import http.client
import multiprocessing
import threading
import time
from dataclasses import dataclass
from dataclasses import field

import psutil
import psycopg2

CPU_GROUPS = ("gunicorn", "postgres", "load", "other")


@dataclass(frozen=True)
class Request:
    """What one client POSTs, again and again."""

    path: str
    body: bytes
    headers: dict


@dataclass(frozen=True)
class Server:
    pid: int  # gunicorn's master; its children are the workers
    port: int


@dataclass
class Round:
    server: str
    clients: int
    seconds: float
    latencies: list = field(default_factory=list)  # of the 200s finished inside the window
    errors: list = field(default_factory=list)  # statuses or exceptions, warm-up included
    cpu: dict = field(default_factory=dict)  # CPU seconds inside the window, by CPU_GROUPS


def send(conn, request):
    """The response's status, or the exception's repr when there was no response."""
    try:
        conn.request("POST", request.path, request.body, request.headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException) as exc:
        conn.close()  # the next request opens a new connection
        return repr(exc)


def keep_sending(port, request, window, latencies, errors):
    """One client: `request` back to back on one connection until the window closes."""
    measure_from, stop_at = window
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop_at:
        started = time.monotonic()
        status = send(conn, request)
        done = time.monotonic()
        if status != 200:
            errors.append(status)
        elif measure_from <= done < stop_at:
            latencies.append(done - started)
    conn.close()


def load_process(port, requests, window, results):
    """A thread per client; puts (latencies, errors, CPU seconds inside the window)."""
    latencies, errors = [], []
    threads = [
        threading.Thread(target=keep_sending, args=(port, request, window, latencies, errors))
        for request in requests
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, window[0] - time.monotonic()))
    cpu_from = time.process_time()
    time.sleep(max(0.0, window[1] - time.monotonic()))
    cpu = time.process_time() - cpu_from
    for thread in threads:
        thread.join()
    results.put((latencies, errors, cpu))


def server_processes(server, db_url):
    """The processes a round charges: the gunicorn's workers, and the PostgreSQL server's."""
    groups = {"gunicorn": psutil.Process(server.pid).children()}
    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = psutil.Process(cursor.fetchone()[0])
            # On a server elsewhere the pid may name some unrelated local process.
            postmaster = backend.parent() if backend.name().startswith("postgres") else None
            groups["postgres"] = [postmaster, *postmaster.children()] if postmaster else []
    except psutil.Error:
        groups["postgres"] = []  # a server on another machine, or one we may not inspect
    finally:
        conn.close()
    return groups


def cpu_by_group(server, db_url):
    """CPU seconds used so far by each server process alive now, by group and pid."""
    used = {}
    for group, processes in server_processes(server, db_url).items():
        used[group] = {}
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                used[group][process.pid] = times.user + times.system
    return used


def machine_busy_seconds():
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def run_round(name, server, requests, processes, warmup, seconds, db_url):
    """A client per request on `server`, for `warmup` then `seconds` measured: a Round."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start = time.monotonic() + 0.2  # time to fork the load processes
    window = (start + warmup, start + warmup + seconds)
    loaders = [
        context.Process(
            target=load_process, args=(server.port, requests[i::processes], window, results)
        )
        for i in range(processes)
    ]
    for loader in loaders:
        loader.start()
    time.sleep(max(0.0, window[0] - time.monotonic()))
    before = cpu_by_group(server, db_url)
    busy_before = machine_busy_seconds()
    time.sleep(max(0.0, window[1] - time.monotonic()))
    after = cpu_by_group(server, db_url)
    busy = machine_busy_seconds() - busy_before
    result = Round(name, len(requests), seconds)
    for group, used in after.items():
        # A process started inside the window (a new connection's backend) counts in full.
        result.cpu[group] = sum(cpu - before[group].get(pid, 0.0) for pid, cpu in used.items())
    result.cpu["load"] = 0.0
    for _ in loaders:
        latencies, errors, cpu = results.get()
        result.latencies += latencies
        result.errors += errors
        result.cpu["load"] += cpu
    for loader in loaders:
        loader.join()
    result.cpu["other"] = busy - sum(result.cpu.values())
    return result
