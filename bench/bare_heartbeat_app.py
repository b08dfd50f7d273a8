"""The floor for bench/heartbeat.py: the heartbeat's UPDATE behind bare Flask and psycopg2.

No auth, no ORM, no hooks: what serving one heartbeat costs at the least. Served by gunicorn
(`bare_heartbeat_app:app`) with DATABASE_URL set; LOCK_LEASE_SECONDS as the app reads it.
"""

import os
import threading

import psycopg2
from flask import Flask
from flask import jsonify
from flask import request

HEARTBEAT = (
    "UPDATE table_lock SET expires_at = now() + make_interval(secs => %s), heartbeat_at = now()"
    " WHERE lock_token = %s AND released_at IS NULL AND expires_at > now()"
)

LEASE_SECONDS = int(os.environ.get("LOCK_LEASE_SECONDS", "3600"))

app = Flask(__name__)
# A connection per worker thread (a sync worker has one), opened on the thread's first
# request: gunicorn forks its workers after importing this module.
_local = threading.local()


def connection():
    if getattr(_local, "conn", None) is None:
        _local.conn = psycopg2.connect(os.environ["DATABASE_URL"])
        _local.conn.autocommit = True  # one statement, committed at once, as the app's is
    return _local.conn


@app.post("/api/v1/tables/<table_id>/lock/heartbeat")
def heartbeat(table_id):
    """Extend the lease of the lock whose token the JSON body names; 409 when it is gone."""
    token = (request.get_json(silent=True) or {}).get("lock_token")
    with connection().cursor() as cursor:
        cursor.execute(HEARTBEAT, (LEASE_SECONDS, token))
        extended = cursor.rowcount
    return jsonify({"extended": extended}), 200 if extended else 409
