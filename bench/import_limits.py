"""Import caps: one preview of the largest file each format may be, and of a 3,000-table design.

Each preview is one `POST /api/v1/projects/import?format=…` (a preview: parse, plan, the
JSON answer) in a child process of its own, which prints its seconds (by the clock, and
of CPU: on a shared machine the clock counts waiting for a core too) and the growth of
its peak RSS over what it held before the request (the file's text included). The
goal: within 10 s (judged on CPU seconds) and 512 MB each. Then DBML's reading time at
growing sizes, which grows linearly. Prints figures; never asserts. Runs on a fresh database on
TEST_DATABASE_URL's (or BENCH_DATABASE_URL's) server, else embedded.

    .venv/bin/python bench/import_limits.py
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import uuid

from _setup import fresh_database
from _setup import postgres_server
from versions import PASSWORD

from designer import accounts
from designer import create_app
from designer import settings_from_environment
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.design.field_types import SYSTEM_FIELD
from designer.interchange import export_formats
from designer.interchange.import_dbml import read_dbml
from designer.settings import configure
from designer.settings import settings

GOAL_SECONDS, GOAL_MB = 10, 512
BODY_LIMIT = 16 * 1024 * 1024 - 1024  # create_app's MAX_CONTENT_LENGTH, less the rest
LINK_EVERY = 10
DBML_SIZES = ((20, (100, 200, 400)), (1, (1000, 2000, 4000)))


def snapshot_of(count, columns=20):
    """A design of `count` tables of `columns` fields of every kind (as bench/_setup's),
    every LINK_EVERY-th table referring to the one before it."""
    from _setup import field_values

    values = field_values()[:columns]
    tables, relationships, previous = {}, {}, None
    for n in range(count):
        fields = {}
        for order, value in enumerate([{**SYSTEM_FIELD, "default_value": None}, *values]):
            fid = str(uuid.uuid4())
            fields[fid] = {"id": fid, **value, "sort_order": order}
        tid = str(uuid.uuid4())
        name = f"table_{n:05d}"
        tables[tid] = {"id": tid, "name": name.title(), "table_name": name,
                       "description": "", "status": "draft", "fields": fields}  # fmt: skip
        if previous and n % LINK_EVERY == 0:
            link(relationships, tables[previous], tables[tid])
        previous = tid
    return {"format": 1, "tables": tables, "relationships": relationships}


def link(relationships, source, target):
    fid, rid = str(uuid.uuid4()), str(uuid.uuid4())
    key = next(iter(source["fields"]))
    target["fields"][fid] = {
        "id": fid, "name": f"{source['name']} ID", "field_name": f"{source['table_name']}_id",
        "data_type": "number", "is_required": False, "default_value": None,
        "field_config": {"number_type": "bigint"}, "sort_order": len(target["fields"]),
    }  # fmt: skip
    relationships[rid] = {
        "id": rid, "relationship_name": f"{target['table_name']}_fkey",
        "relationship_type": "one_to_many", "source_table_id": source["id"],
        "source_field_id": key, "target_table_id": target["id"], "target_field_id": fid,
        "cascade_config": {"on_delete": "no_action", "on_update": "no_action"},
        "status": "draft",
    }  # fmt: skip


def exported(fmt, count, columns=20):
    return export_formats.full_text(snapshot_of(count, columns), fmt, "bench")


def fits(text, limit):
    """Whether `text` is at most `limit` bytes and its request body within the body cap."""
    return len(text.encode()) <= limit and len(json.dumps({"source": text})) <= BODY_LIMIT


def largest(fmt, limit, columns=20):
    """The export of as many tables as fit (the byte caps, the tables cap)."""
    per_table = len(json.dumps(exported(fmt, 20, columns))) / 20
    count = min(int(min(limit, BODY_LIMIT) / per_table), settings.import_max_tables)
    text = exported(fmt, count, columns)
    while not fits(text, limit):
        count = int(count * 0.98)
        text = exported(fmt, count, columns)
    return count, text


def padded_sql(text, limit):
    """`text`, then views of nested sub-selects (heavy trees, no table) up to `limit` bytes."""
    view = "CREATE VIEW v{n} AS SELECT * FROM (" + "SELECT * FROM (" * 40 + "SELECT 1"
    view += ") s" * 41 + ";\n"
    parts, size, n = [text], len(text.encode()), 0
    statements = text.count(";")
    while size + len(view) + 8 < limit * 0.9 and statements < settings.import_max_statements:
        parts.append(view.format(n=n))
        size, n, statements = size + len(parts[-1]), n + 1, statements + 1
    return "".join(parts)


def files():
    """(label, format, text) of each file previewed: the largest that fit the caps and the
    request body (16 MB, the escapes of quotes and newlines included)."""
    limit = min(settings.import_max_bytes, BODY_LIMIT)
    mb = limit / 1024 / 1024
    count, sql = largest("sql", limit)
    yield "SQL, 3,000 tables of 21 columns", "sql", exported("sql", 3000)
    yield f"SQL, {count:,} tables (the cap {settings.import_max_tables:,})", "sql", sql
    yield (
        f"SQL, {count:,} tables, then views to {mb:.0f} MB",
        "sql",
        padded_sql(sql, limit),
    )
    rows = ",".join(f"({n}, 'row {n}', {n}.5)" for n in range(limit // 16))
    rows = rows[: rows.rfind("),(", 0, int(limit * 0.9)) + 1]
    inserts = f"CREATE TABLE t (a int, b text, c numeric);\nINSERT INTO t VALUES {rows};"
    yield f"SQL, {mb:.0f} MB of INSERT constants", "sql", inserts
    chains = ("SELECT " + "1+" * 2000 + "1;\n") * int(limit * 0.9 / 4010)
    yield f"SQL, {mb:.0f} MB of SELECT 1+1+… (deep trees)", "sql", chains
    wide = ("SELECT " + "1," * 85_000 + "1;\n") * int(limit * 0.9 / 170_010)  # trees under the cap
    yield f"SQL, {mb:.0f} MB of SELECT 1,1,… (wide trees)", "sql", wide
    sets = "SET a = 1;\n" * settings.import_max_statements
    yield f"SQL, {settings.import_max_statements:,} statements", "sql", sets
    count, text = largest("json", limit)
    yield f"JSON, {count:,} tables ({mb:.0f} MB cap)", "json", text
    count, text = largest("dbml", settings.import_max_dbml_bytes)
    kb = settings.import_max_dbml_bytes / 1024
    yield f"DBML, {count:,} tables ({kb:.0f} KB cap)", "dbml", text
    count, text = largest("dbml", settings.import_max_dbml_bytes, columns=1)
    yield f"DBML, {count:,} tables of 2 columns", "dbml", text


def memory(name):
    """A figure of /proc/self/status in KB: VmRSS now, VmHWM the peak since reset."""
    status = pathlib.Path("/proc/self/status").read_text()
    return int(status.split(f"{name}:")[1].split()[0])


def child(fmt, path, url, token):
    """One preview, in this process: prints seconds, RSS growth and the answer's status."""
    app = create_app({"DATABASE_URL": url, "ALLOW_RLS_BYPASS": True, "TESTING": True})
    client = app.test_client()
    text = pathlib.Path(path).read_text()
    body = json.dumps({"source": text})
    del text
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    client.get("/api/v1/projects", headers=headers)  # connections, caches: not the file's
    before = memory("VmRSS")
    pathlib.Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
    started, cpu = time.perf_counter(), time.process_time()
    response = client.post(f"/api/v1/projects/import?format={fmt}", data=body, headers=headers)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = memory("VmHWM")
    answer = response.get_json()
    said = (
        answer["error"]["message"]
        if "error" in answer
        else f"{answer['creates']['tables']:,} tables"
    )  # noqa: E501
    print(json.dumps({"seconds": seconds, "cpu": cpu, "mb": (peak - before) / 1024,
                      "status": response.status_code, "said": said[:90]}))  # fmt: skip


def preview_in_child(fmt, text, url, token):
    with tempfile.NamedTemporaryFile("w", suffix=f".{fmt}", delete=False) as handle:
        handle.write(text)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", fmt, handle.name, url, token],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(handle.name)
    return json.loads(out.strip().splitlines()[-1])


def dbml_growth():
    """CPU seconds to read DBML of growing size: linear if the time per table holds (it was
    quadratic: 10,000 tables of one column, 349 KB, took 208 s)."""
    print("\nDBML read (pydbml, then our reader), CPU seconds; linear if ms/table holds:")
    for columns, counts in DBML_SIZES:
        for count in counts:
            text = exported("dbml", count, columns)
            started = time.process_time()
            read_dbml(text)
            seconds = time.process_time() - started
            print(f"  {count:>6,} tables of {columns + 1:>2} columns {len(text) / 1024:6.0f} KB"
                  f" {seconds:6.2f} s {seconds / count * 1000:6.2f} ms/table")  # fmt: skip


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    configure(settings_from_environment())  # the caps as the app would have them
    with postgres_server() as server_url, fresh_database(server_url) as url:
        database.initialize(open_database(url))
        upgrade(database.obj)
        accounts.set_hash_cost(1, 1024)
        user = accounts.create_user("bench", "bench@example.com", PASSWORD)
        token = accounts.issue_token(user)[0]
        database.obj.close_all()
        print(f"Import caps: {settings.import_max_bytes / 1024 / 1024:.0f} MB "
              f"({settings.import_max_dbml_bytes / 1024:.0f} KB of DBML), "
              f"{settings.import_max_statements:,} statements, "
              f"{settings.import_max_tables:,} tables, {settings.import_max_seconds:g} s; "
              f"goal ≤ {GOAL_SECONDS} s, ≤ {GOAL_MB} MB; load {os.getloadavg()[0]:.1f}"
              )  # fmt: skip
        for label, fmt, text in files():
            if os.environ.get("BENCH_ONLY", "") not in label:
                continue
            got = preview_in_child(fmt, text, url, token)
            verdict = "ok" if got["cpu"] <= GOAL_SECONDS and got["mb"] <= GOAL_MB else "OVER"
            print(f"  {label:<44} {len(text.encode()) / 1024 / 1024:5.1f} MB "
                  f"{got['seconds']:6.2f} s ({got['cpu']:5.2f} CPU) {got['mb']:+5.0f} MB RSS"
                  f"  {verdict}  "
                  f"{got['status']}: {got['said']}")  # fmt: skip
    dbml_growth()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:6])
    else:
        main()
