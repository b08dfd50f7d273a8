"""Servers a test run leaves behind: PostgreSQL, Redis and gunicorn processes it started.

A server is the run's when it descends from the run's process, or when it carries RUN_MARK
in its environment, as every process the run starts inherits it: a daemon (pg_ctl's
postmaster) leaves the run's process tree but keeps its environment. (Redis and PostgreSQL's
backends write their process titles over their environment; they stay in the tree.)
"""

import os
import signal
import uuid

import psutil

RUN_MARK = ("DMD_TEST_RUN", uuid.uuid4().hex)


def mark_this_run():
    os.environ[RUN_MARK[0]] = RUN_MARK[1]


def is_server(process):
    """A PostgreSQL postmaster (not one of its backends), a redis-server or a gunicorn."""
    name, cmdline = process.info["name"], " ".join(process.info["cmdline"] or [])
    if name == "postgres":
        parent = process.parent()
        return parent is None or parent.name() != "postgres"
    return name == "redis-server" or "gunicorn" in cmdline


def left_behind():
    """This run's servers that still run."""
    descendants = {child.pid for child in psutil.Process().children(recursive=True)}
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            if process.status() == psutil.STATUS_ZOMBIE or not is_server(process):
                continue
            if process.pid in descendants or marked(process):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def marked(process):
    return process.environ().get(RUN_MARK[0]) == RUN_MARK[1]


def stop(processes):
    """End them (a postmaster by a fast shutdown) so the machine is left clean anyway."""
    for process in processes:
        try:
            is_postgres = process.name() == "postgres"
            process.send_signal(signal.SIGINT if is_postgres else signal.SIGTERM)
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(processes, timeout=20)
