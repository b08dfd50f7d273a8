"""Every GET route of the HTML app and the API at 300, 3,000 and 30,000 tables, over HTTP.

Seeds (by SQL) a project of 300 (then 3,000, 30,000) tables × 20 fields with one
relationship per table, three saved versions, a deployment and unsaved work; times saving a
first version and the next after a one-table change (and the bytes each adds); signs in;
then times each GET
route of `app.url_map` (path parameters filled from the seeded data) on a werkzeug server in
a thread, printing median, p95, bytes and queries per route next to the floor (GET /login,
anonymous, same server, same run); a drift route once its check has answered (its polls until
then are printed apart). A GET route the bench cannot fill fails the run. Prints,
never asserts times; prints the RSS of the process serving the pages after each size (a
process of its own, forked before the seeding, as a worker).
Every request says Accept-Encoding: gzip, deflate, as a browser does (only downloads are
sent packed; bytes are then the packed bytes); `--plain` asks without it.
Above 3,000 tables only the first DEPLOY_PART tables are deployed. Runs on a fresh
database on TEST_DATABASE_URL's (or BENCH_DATABASE_URL's) server, else embedded; the deploy
target is a schema of that same database. Pages are served
as the app role under row-level security, as `make run` serves them; `--rls-off` serves them
as the superuser, to show what the policies cost.

    .venv/bin/python bench/all_pages.py [--sizes 300,3000,30000] [--runs 20] [--only substring]
                                        [--rls-off]
"""

import argparse
import cProfile
import http.client
import json
import logging
import multiprocessing
import pathlib
import pstats
import re
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from urllib.parse import urlencode

from _setup import ADJECTIVES
from _setup import FIELDS_PER_TABLE
from _setup import NOUNS
from _setup import OUT
from _setup import field_values
from _setup import fresh_database
from _setup import postgres_server
from werkzeug.serving import make_server

from designer import accounts
from designer import api_tokens
from designer import branches
from designer import create_app
from designer import merge_requests
from designer import projects
from designer import web
from designer.database import deploy
from designer.db import counting_queries
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.design import enums
from designer.design import fields
from designer.design import page_stamps
from designer.design import table_structure
from designer.design import tables
from designer.design.field_types import SYSTEM_FIELD
from designer.design.field_types import pg_type
from designer.design.naming import generated_name
from designer.history import snapshot as snapshots
from designer.history import versions
from designer.models import DataField
from designer.models import DataTable
from designer.models import TableRelationship
from designer.settings import settings
from designer.views.assets import asset_url
from tests.rls_harness import route

TARGETS = {300: 50, 3000: 100, 30000: 100}  # tables: target server median in ms
PASSWORD = "bench password"
DEPLOY_PART = 500  # tables a deploy creates at once
QUERIES_HEADER = "X-Bench-Queries"
SKIP_DEPLOY = False  # --skip-deploy: no deployment (the routes naming one are not timed)
# Routes a bench GET may not fill: none today. Say why next to any you add.
SKIPPED = {}
# Partials the pages load with htmx (they answer a block to an htmx request).
HTMX = {
    "tables.table_rows", "tables.project_live", "tables.live", "tables.header",
    "tables.edit_header", "tables.new_table", "tables.suggest_table_name", "fields.rows",
    "fields.new", "fields.type_settings", "fields.show", "fields.edit", "locks.show",
    "projects.header", "projects.edit_header", "relationships.form", "relationships.show",
    "relationships.edit", "relationships.table_choices", "deployments.drift_report",
}  # fmt: skip


class QueryCounting:
    """WSGI middleware: runs the request in its own thread's counting_queries block and
    reports the count in a response header (the server's queries are not the client's)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, list(headers)
            return lambda data: None

        held = environ.get("HTTP_X_BENCH_MEMORY")
        if held and tracemalloc.is_tracing():
            # What the serving process holds, by the line that allocated it.
            top = tracemalloc.take_snapshot().statistics("lineno")[:30]
            pathlib.Path(held).write_text("\n".join(str(stat) for stat in top))
            start_response("204 No Content", [])
            return []
        profiled = environ.get("HTTP_X_BENCH_PROFILE")
        profiler = cProfile.Profile() if profiled else None
        with counting_queries() as counter:
            if profiler:
                profiler.enable()
            body = self.app(environ, capture)
            try:
                chunks = list(body)
            finally:
                if hasattr(body, "close"):
                    body.close()
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(profiled)
        start_response(
            captured["status"], [*captured["headers"], (QUERIES_HEADER, str(counter.count))]
        )
        return chunks


class Client:
    """HTTP/1.1 on one kept-alive connection, with the session cookie and CSRF token."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = None
        self.token = None
        self.bearer = None

    # What a browser sends (set to {} by --plain).
    ENCODINGS = {"Accept-Encoding": "gzip, deflate"}

    def send(self, method, path, body=None, headers=None):
        headers = {**self.ENCODINGS, **(headers or {})}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            body = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body, headers)
        response = self.conn.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response, data

    def sign_in(self, user):
        _, page = self.send("GET", "/login")
        token = csrf_token(page.decode())
        form = {"username": user.username, "password": PASSWORD, "csrf_token": token}
        response, data = self.send("POST", "/login", form)
        if response.status != 302:
            sys.exit(f"sign-in failed: {response.status}\n{data[:2000]}")
        _, page = self.send("GET", "/projects")
        self.token = csrf_token(page.decode())
        return self


def csrf_token(html):
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


# Tables i = 0..count-1, named as bench/_setup.design names them, each but the first with
# a bigint <previous table>_id column and a relationship to the previous table.
SEED_TABLES = """
INSERT INTO data_table (project_id, name, table_name, created_by_id, schema_definition, status)
SELECT %(project)s, upper(left(n, 1)) || substr(n, 2), replace(n, ' ', '_'), %(user)s, '{}',
       'active'
FROM (SELECT i, (%(adjectives)s::text[])[i %% 10 + 1] || ' '
             || (%(nouns)s::text[])[i / 10 %% 10 + 1] || ' ' || lpad(i::text, 5, '0') AS n
      FROM generate_series(0, %(count)s - 1) i) named
"""
SEED_FIELDS = """
INSERT INTO data_field (table_id, name, field_name, data_type, is_required, default_value,
                        field_config, sort_order)
SELECT t.id, f.name, f.field_name, f.data_type, f.is_required, f.default_value,
       f.field_config, f.sort_order
FROM data_table t
CROSS JOIN jsonb_to_recordset(%(fields)s::jsonb) AS f (name text, field_name text,
  data_type text, is_required boolean, default_value text, field_config jsonb, sort_order int)
WHERE t.project_id = %(project)s
"""
# The foreign key column of table i (i >= 1) and its relationship, by the tables' order.
SEED_LINKS = """
WITH ordered AS (
  SELECT id, table_name, name, row_number() OVER (ORDER BY table_name) - 1 AS i
  FROM data_table WHERE project_id = %(project)s),
pairs AS (
  SELECT s.id AS source, s.name AS source_name, s.table_name AS source_table,
         t.id AS target, t.i
  FROM ordered s JOIN ordered t ON t.i = s.i + 1),
keys AS (
  INSERT INTO data_field (table_id, name, field_name, data_type, field_config, sort_order)
  SELECT target, source_name || ' ID', source_table || '_id', 'number',
         '{"number_type": "bigint"}', %(sort_order)s
  FROM pairs RETURNING id, table_id)
INSERT INTO table_relationship (project_id, source_table_id, source_field_id, target_table_id,
  target_field_id, relationship_name, cascade_config, created_by_id)
SELECT %(project)s, p.source,
       (SELECT f.id FROM data_field f WHERE f.table_id = p.source AND f.sort_order = 0),
       p.target, k.id, (%(names)s::text[])[p.i], '{"on_delete": "no_action",
       "on_update": "no_action"}', %(user)s
FROM pairs p JOIN keys k ON k.table_id = p.target
"""
# schema_definition as tables.definition_of writes it; pg_type by field position.
SEED_DEFINITIONS = """
UPDATE data_table t SET schema_definition = jsonb_build_object(
  'table_name', t.table_name,
  'columns', (SELECT jsonb_agg(jsonb_build_object(
      'id', f.id, 'field_name', f.field_name, 'data_type', f.data_type,
      'pg_type', CASE WHEN f.sort_order < %(count)s THEN (%(types)s::text[])[f.sort_order + 1]
                 ELSE 'bigint' END,
      'nullable', NOT f.is_required, 'default', f.default_value,
      'primary_key', coalesce((f.field_config ->> 'primary_key')::boolean, false),
      'unique', coalesce((f.field_config ->> 'unique')::boolean, false),
      'indexed', coalesce((f.field_config ->> 'indexed')::boolean, false))
    ORDER BY f.sort_order) FROM data_field f WHERE f.table_id = t.id))
WHERE t.project_id = %(project)s
"""
# The working_part triggers (migration 0030) rewrite a table's part on every statement that
# touches it, at ~4-16 ms a table in PL/pgSQL: the seed's statements would write each of
# 30,000 parts three times (and marking them active a fourth), minutes each. They are off
# while the seed runs, in its transaction, and the parts are written once at its end as the
# save writes a part the triggers left unwritten (working.build_entries: the entry built by
# SQL, its canonical JSON and hash by Python), which tests/integration/test_working_parts.py
# holds equal to the triggers' rows; the seed checks a sample against the triggers' own
# function (working_table_json) too.
# The same for data_field's search_text trigger (migration 0013): each table's text reads its
# columns, which a fresh database without statistics does by scanning every column of the
# design, once per table: 30,000 x 630,000 rows. Written once after ANALYZE, by the same
# function.
SEED_TRIGGERS = [
    (table, f"{table}_working_part_{kind}")
    for table in ("data_table", "data_field", "table_relationship")
    for kind in ("added", "changed")
] + [("data_field", "data_field_search_text_added")]
SEED_SEARCH_TEXT = """
UPDATE data_table t SET search_text = search_text_of(t.id, t.name, t.table_name, t.description)
WHERE t.project_id = %(project)s
"""
WRITE_PART = """
INSERT INTO working_part (project_id, kind, entry_id, bucket, label, body, hash)
SELECT %(project)s, %(kind)s, p.entry_id, left(p.entry_id, 2), p.label, p.body::json, p.hash
FROM unnest(%(ids)s::text[], %(labels)s::text[], %(bodies)s::text[], %(hashes)s::text[])
  AS p (entry_id, label, body, hash)
"""
SAME_AS_TRIGGERS = """
SELECT t.id::text, working_table_json(t) FROM data_table t
WHERE t.project_id = %(project)s ORDER BY t.table_name LIMIT 20
"""
SEED_ACTIVITY = """
INSERT INTO activity_entry (project_id, user_id, action, summary, subject_id)
SELECT %(project)s, %(user)s, 'field.updated', 'edited ' || f.name || ' (' || f.field_name || ')',
       f.id
FROM data_field f WHERE f.project_id = %(project)s ORDER BY f.id LIMIT %(keep)s
"""


def linked(project, user, count):
    """`count` tables of FIELDS_PER_TABLE columns, each but the first holding a foreign key
    to the one before, inserted by SQL (30,000 tables as Python objects would crowd the very
    process whose memory the bench reports)."""
    columns = [SYSTEM_FIELD] + [{**f, "sort_order": n + 1} for n, f in enumerate(field_values())]
    template = [
        {
            "name": c["name"], "field_name": c["field_name"], "data_type": c["data_type"],
            "is_required": bool(c.get("is_required")), "default_value": c.get("default_value"),
            "field_config": c.get("field_config") or {}, "sort_order": c.get("sort_order", 0),
        }
        for c in columns
    ]  # fmt: skip
    names = [
        f"{ADJECTIVES[i % 10]} {NOUNS[i // 10 % 10]} {i:05d}".replace(" ", "_")
        for i in range(count)
    ]
    # Relationship i (to table i from table i-1): named as relationships.py names it.
    rel_names = [
        generated_name(names[i], f"{names[i - 1]}_id", suffix="fkey") for i in range(1, count)
    ]
    values = {
        "project": str(project.id), "user": str(user.id), "count": count,
        "adjectives": list(ADJECTIVES), "nouns": list(NOUNS), "fields": json.dumps(template),
        "sort_order": len(template), "names": rel_names, "keep": settings.activity_keep,
    }  # fmt: skip
    types = [pg_type(c["data_type"], c["field_config"]) for c in template]
    steps = [
        ("tables", SEED_TABLES, values),
        ("fields", SEED_FIELDS, values),
        ("relationships", SEED_LINKS, values),
        ("statistics", "ANALYZE data_table, data_field, table_relationship", values),
        ("search text", SEED_SEARCH_TEXT, values),
        ("definitions", SEED_DEFINITIONS, {**values, "count": len(types), "types": types}),
        ("activity", SEED_ACTIVITY, values),
    ]
    with database.atomic():
        switch_seed_triggers("DISABLE")
        for label, statement, params in steps:
            timed_step(label, statement, params)
        # (A table with trigger events pending cannot be altered: project_change's deferred
        # ones run now rather than at commit.)
        timed_step("deferred triggers", "SET CONSTRAINTS ALL IMMEDIATE", values)
        switch_seed_triggers("ENABLE")
        started = time.perf_counter()
        write_working_parts(project.id)
        print(f"  seed: working parts in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    database.execute_sql("ANALYZE")
    print(f"  seed: ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)


def write_working_parts(project_id, chunk=2000):
    """Every table's and relationship's working_part row, as working.build_entries makes a
    part the triggers left unwritten, `chunk` entries a statement."""
    project = str(project_id)
    for kind, query, label_key in (
        ("tables", snapshots.SOME_TABLES, "table_name"),
        ("relationships", snapshots.SOME_RELATIONSHIPS, "relationship_name"),
    ):
        model = DataTable if kind == "tables" else TableRelationship
        ids = [
            str(i) for (i,) in model.select(model.id).where(model.project == project_id).tuples()
        ]
        for start in range(0, len(ids), chunk):
            rows = database.execute_sql(
                f"SELECT id, part::text FROM ({query}) built (id, part)",
                {"project": project, "ids": ids[start : start + chunk]},
            ).fetchall()
            bodies = [snapshots.canonical_json(json.loads(text)) for _, text in rows]
            database.execute_sql(
                WRITE_PART,
                {
                    "project": project,
                    "kind": kind,
                    "ids": [i for i, _ in rows],
                    "labels": [json.loads(b)[label_key] for b in bodies],
                    "bodies": bodies,
                    "hashes": [snapshots.digest(b) for b in bodies],
                },  # fmt: skip
            )
    for entry_id, body in database.execute_sql(SAME_AS_TRIGGERS, {"project": project}):
        kept = database.execute_sql(
            "SELECT body::text FROM working_part WHERE project_id = %s AND entry_id = %s",
            (project, entry_id),
        ).fetchone()[0]
        if kept != body:
            sys.exit(f"the seed's part of table {entry_id} is not the triggers':\n{kept}\n{body}")


def switch_seed_triggers(how):
    for table, trigger in SEED_TRIGGERS:
        database.execute_sql(f"ALTER TABLE {table} {how} TRIGGER {trigger}")


def timed_step(label, statement, params):
    started = time.perf_counter()
    database.execute_sql(statement, params)
    print(f"  seed: {label} in {time.perf_counter() - started:.1f} s", flush=True)


def part_bytes(project_id):
    return database.execute_sql(
        "SELECT coalesce(sum(pg_column_size(body)), 0), coalesce(sum(octet_length(body::text)), 0)"
        " FROM schema_part WHERE project_id = %s",
        (str(project_id),),
    ).fetchone()


def timed_save(owner, project, message):
    """(seconds, stored bytes added, text bytes added) of saving a version."""
    before = part_bytes(project.id)
    started = time.perf_counter()
    version = versions.save_version(owner, project.id, message)
    seconds = time.perf_counter() - started
    after = part_bytes(project.id)
    row = database.execute_sql(
        "SELECT pg_column_size(manifest) + pg_column_size(changes),"
        " octet_length(manifest::text) + octet_length(changes::text)"
        " FROM schema_version WHERE id = %s",
        (str(version.id),),
    ).fetchone()
    return seconds, after[0] - before[0] + row[0], after[1] - before[1] + row[1]


def save_bench(owner, project, count):
    """The first version of the seeded design, then the next after a one-table change."""
    first = timed_save(owner, project, "First")
    table_id = (
        DataTable.select(DataTable.id)
        .where(DataTable.project == project.id)
        .order_by(DataTable.table_name)
        .offset(count // 3)
        .scalar()
    )
    fields.create_field(owner, table_id, {"name": "One more column"})
    snapshots.build(project.id)  # as the pages built it after the change
    second = timed_save(owner, project, "One table changed")
    for label, (seconds, stored, text) in (("first version", first), ("next, one table", second)):
        print(
            f"  save {label:<16} {seconds * 1000:9.1f} ms  stored +{stored:>12,} B"
            f"  (json text +{text:,} B)",
            flush=True,
        )
    return [
        (count, "save: first version", first[0] * 1000, first[0] * 1000, first[1], 0),
        (count, "save: after a one-table change", second[0] * 1000, second[0] * 1000, second[1], 0),
        (count, "save: stored bytes ratio %", 100 * second[1] / max(first[1], 1), 0, 0, 0),
    ]


def rss(pid):
    """(current RSS, peak RSS) in MB of the process serving the pages."""
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M))
    return int(found["VmRSS"]) / 1024, int(found["VmHWM"]) / 1024


def seed(owner, member, count):
    """A project as people use it: deployed, three versions, unsaved work, two members."""
    project = projects.create_project(owner, f"Bench {count}")
    projects.add_member(owner, project.id, member.username, "editor")
    linked(project, owner, count)
    saves = save_bench(owner, project, count)
    made = list(
        DataTable.select(DataTable.id).where(DataTable.project == project.id)
        .order_by(DataTable.table_name)
    )  # fmt: skip
    # Everything Active (as seeded) but the last table, so one Draft remains.
    DataTable.update(status="draft").where(DataTable.id == made[-1].id).execute()
    started = time.perf_counter()
    # In parts: one transaction creating 3,000 tables with their keys and indexes takes more
    # locks than a default PostgreSQL allows (max_locks_per_transaction). Above 3,000 tables
    # only the first part: each part's plan reads the whole design.
    active = [t.id for t in made[:-1]]
    if count > 3000:
        active = active[:DEPLOY_PART]
    if SKIP_DEPLOY:
        active = []
    deployment = None
    for part in range(0, len(active), DEPLOY_PART):
        deployment = deploy.deploy(owner, project.id, active[part : part + DEPLOY_PART])
        if deployment.status != "applied":
            sys.exit(f"deploying tables {part}–{part + DEPLOY_PART} failed: {deployment.error}")
    print(f"  deployed {len(active):,} tables in {time.perf_counter() - started:.1f} s")
    middle = made[count // 2]
    added = tables.create_table(owner, project.id, "Added after deploy")
    fields.create_field(owner, added.id, {"name": "Note"})
    fields.create_field(owner, middle.id, {"name": "Pending column"})
    check = table_structure.save_item(owner, middle.id, "checks", {"expression": "id > 0"})
    versions.save_version(owner, project.id, "After the deploy")
    tables.create_table(owner, project.id, "Unsaved table")
    mood = enums.create_enum(owner, project.id, "mood", ["sad", "ok"])
    middle = DataTable.get_by_id(middle.id)
    rel = TableRelationship.get(TableRelationship.target_table == middle.id)
    field = (
        DataField.select().where(DataField.data_table == middle.id, DataField.sort_order == 1).get()
    )
    # A branch the member forked from the last version, renaming a table and adding one,
    # offered as a merge request the owner commented on (#28): its pages are timed too.
    started = time.perf_counter()
    last = versions.latest(project.id).version_number
    branch = branches.fork(member, project.id, "bench branch", version_number=last)
    print(f"  forked a branch of {count:,} tables in {time.perf_counter() - started:.1f} s")
    first = (
        DataTable.select().where(DataTable.project == branch.id).order_by(DataTable.table_name)
    ).first()
    tables.update_table(member, first.id, first.revision, name=f"{first.name} renamed")
    tables.create_table(member, branch.id, "Branch only")
    request = merge_requests.open_request(member, branch.id, "Bench branch")
    merge_requests.comment(owner, project.id, request.number, "Looks right")
    return {
        "branch": branch,
        "request": request,
        "saves": saves,
        "project": project,
        "table": middle,
        "field": field,
        "relationship": rel,
        "deployment": deployment,
        "member": member,
        "enum": mood,
        "check": check,
    }


def plan(app, data, token, partial=False):
    """(label, endpoint, method, path, htmx, api) of each request, and the GET endpoints the
    bench fills; exits naming any GET route it cannot fill (only names them for a `partial`
    run, --only, which times some routes and the saves)."""
    project, table, field = data["project"], data["table"], data["field"]
    latest = versions.latest(project.id).version_number
    values = {
        "project_id": project.id, "table_id": table.id, "field_id": field.id,
        "rel_id": data["relationship"].id,
        "deployment_id": data["deployment"].id if data["deployment"] else "none",
        "number": latest, "name": "htmx.min.js", "filename": "js/app.js",
        "user_id": data["member"].id,
        "fmt": "sql", "enum_id": data["enum"].id, "kind": "checks", "item_id": data["check"]["id"],
        "branch_id": data["branch"].id,
    }  # fmt: skip
    first_rel = relationship_cursor(project.id)
    # What an open project page polls with: its stamp, unchanged (a 204).
    stamp = page_stamps.project_stamp(project.id)
    # Query-string variants of some routes: further pages, searches, other arguments.
    variants = {
        # Searches rank: one exact name, a prefix group (1%), a contains group (10%), and
        # a query every table matches only by a column (each is sorted by rank and name).
        "tables.table_rows": [
            "?q=coral+parcel",
            "?q=coral+parcel+00022",
            "?q=parcel",
            "?q=column+1",
            f"?after={quote(first_rel[1])}",
        ],
        "relationships.index": [f"hx:?after={quote(first_rel[0])}"],
        "relationships.table_choices": ["?q=coral", "?target_table=coral+parcel"],
        "relationships.form": [f"?source_table={quote(table.name)}&target_table_id={table.id}"],
        "versions.timeline": [f"hx:?before={latest}"],
        "tables.project_live": [f"?v={stamp}"],
        # An open merge request page's poll while nothing moved (a 204).
        "merge_requests.live": [f"?v={quote(merge_requests.live_stamp(data['request']))}"],
        "versions.compare": [
            f"?from=1&to={latest}",
            "?from=1&to=working",
            f"?from={latest}",
            "?from=&to=1",
            "hx:?from=&to=1&start=50",
        ],
        "tables.suggest_table_name": ["?name=Coral+parcel+extra"],
        "fields.type_settings": ["?data_type=number"],
        "diagram.show": [f"?focus={table.id}", "?all=1"],
        "diagram.data": [f"?focus={table.id}&steps=3"],
        "diagram.find_tables": ["?q=coral+parcel+00022", "?q=parcel"],
        # As the Import & export tab's links ask (the plain GET is a redirect).
        "transfer.prepare": ["hx:"],
        "api.list_tables": ["?limit=50", "?q=coral+parcel"],
        "api.list_relationships": ["?limit=50", f"?limit=50&after={quote(first_rel[0])}"],
        "api.list_deployments": ["?limit=1"],
        "deployments.show": [f"hx:?start={settings.page_size}"],
        "versions.show": ["hx:?tables=50", "hx:?relationships=50"],
        "api.diff": [f"?from=1&to={latest}", f"?from={latest}"],
    }
    requests, covered, missing = [], set(), []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in SKIPPED:
            continue
        try:
            if rule.endpoint == "assets.fingerprinted":
                # What a page links: the vendor bundle under its current digest.
                with app.test_request_context():
                    path = asset_url("vendor/htmx.min.js")
            else:
                filled = {a: str(values[a]) for a in rule.arguments}
                if "merge" in rule.rule:  # a merge request's number, not a version's
                    filled["number"] = str(data["request"].number)
                path = rule.build(filled)[1]
        except KeyError:
            missing.append(rule.rule)
            continue
        api = rule.endpoint.startswith("api.")
        htmx = rule.endpoint in HTMX
        label = rule.endpoint
        requests.append((label, rule.endpoint, path, htmx, api))
        if rule.endpoint == "versions.show":
            requests.append(
                (label + " v1", rule.endpoint, path[: -len(str(latest))] + "1", htmx, api)
            )
        for extra in variants.get(rule.endpoint, []):
            # "hx:" marks a variant the page loads with htmx ("Load more").
            loaded = extra.startswith("hx:")
            extra = extra.removeprefix("hx:")
            requests.append((f"{label} {extra}", rule.endpoint, path + extra, htmx or loaded, api))
        covered.add(rule.endpoint)
    if missing and not partial:
        sys.exit(f"GET routes the bench cannot fill (add their parameters): {missing}")
    return requests, covered


def quote(text):
    return urlencode({"": text})[1:]


def relationship_cursor(project_id):
    """(relationship name, table name) to continue after: the first page's last rows."""
    rel = (
        TableRelationship.select(TableRelationship.relationship_name)
        .where(TableRelationship.project == project_id)
        .order_by(TableRelationship.relationship_name)
        .offset(settings.page_size - 1)
        .scalar()
    )
    name = (
        DataTable.select(DataTable.name)
        .where(DataTable.project == project_id)
        .order_by(DataTable.name)
        .offset(settings.page_size - 1)
        .scalar()
    )
    return rel or "", name or ""


def timed(client, path, htmx=False, api=False, label=""):
    """(milliseconds, bytes, queries) of one GET; exits unless it answered 2xx or a redirect."""
    headers = {}
    if htmx:
        headers["HX-Request"] = "true"
    if api:
        headers["Authorization"] = f"Bearer {client.bearer}"
    started = time.perf_counter()
    response, data = client.send("GET", path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status >= 400:
        raise Failed(f"GET {path} -> {response.status}: {data[:300]!r}")
    return elapsed, len(data), int(response.getheader(QUERIES_HEADER, "-1"))


class Failed(Exception):
    """A route answered an error: reported in its row, and the run goes on."""


def settled(client, path, htmx, api, label):
    """Ask a drift route again, a second apart as its page does, until its check answers
    (not 202, no poll in the page); prints how many polls that took and their times."""
    headers = {"HX-Request": "true"} if htmx else {}
    if api:
        headers["Authorization"] = f"Bearer {client.bearer}"
    times, started = [], time.perf_counter()
    while True:
        before = time.perf_counter()
        response, data = client.send("GET", path, headers=headers)
        times.append((time.perf_counter() - before) * 1000)
        if response.status != 202 and b'hx-trigger="load' not in data:
            break
        time.sleep(1)
    if len(times) > 1:
        polls = times[:-1]
        print(
            f"  {label}: answered after {len(polls)} polls in"
            f" {time.perf_counter() - started:.1f} s (poll median {statistics.median(polls):.1f}"
            f" ms, longest {max(polls):.1f} ms; the answer {times[-1]:.1f} ms)",
            flush=True,
        )


def measure(client, path, htmx, api, label, warmup, runs):
    """(median ms, p95 ms, bytes, queries) of `runs` GETs after `warmup` untimed ones (a drift
    route's once its check answers: see settled)."""
    try:
        if "drift" in label:
            settled(client, path, htmx, api, label)
        for _ in range(warmup):
            timed(client, path, htmx, api, label)
        figures = [timed(client, path, htmx, api, label) for _ in range(runs)]
    except Failed as failed:
        print(f"  {label}: FAILED {failed}", flush=True)
        return float("nan"), float("nan"), 0, -1
    except (OSError, http.client.HTTPException) as failed:
        # A route slower than the client's timeout: reported, and the next on a new connection.
        print(f"  {label}: FAILED {failed!r}", flush=True)
        client.conn.close()
        return float("nan"), float("nan"), 0, -1
    times = [f[0] for f in figures]
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
    return statistics.median(times), p95, figures[-1][1], figures[-1][2]


def run_size(app, server, owner, member, count, args):
    port = server.port
    started = time.perf_counter()
    data = seed(owner, member, count)
    seconds = time.perf_counter() - started
    print(f"seeded {count:,} tables × {FIELDS_PER_TABLE} fields + id in {seconds:.1f} s")
    token, _ = api_tokens.issue_token(owner, "bench")
    client = Client(port).sign_in(owner)
    client.bearer = token
    anonymous = Client(port)
    timed(anonymous, "/login")
    # The first request started loading the inflector in the background (web.
    # load_in_background) in the serving process: give it time, so its import does not
    # share the floor's time.
    time.sleep(3)
    floor = measure(anonymous, "/login", False, False, "floor", args.warmup, args.runs)
    requests, covered = plan(app, data, token, partial=bool(args.only or args.skip))
    rows = [(count, "floor: GET /login (anonymous)", *floor), *data["saves"]]
    for label, _, path, htmx, api in requests:
        if args.only and not any(part in label for part in args.only.split(",")):
            continue
        skipping = args.skip and count >= args.skip_from
        if skipping and any(part in label for part in args.skip.split(",")):
            print(f"  {label:<48} skipped (--skip)", flush=True)
            continue
        figures = measure(client, path, htmx, api, label, args.warmup, args.runs)
        rows.append((count, label, *figures))
        if args.profile and figures[0] > args.profile:
            profile(client, path, htmx, api)
        # The serving process's RSS after each route: which page left memory behind.
        print(
            f"  {label:<48} {figures[0]:8.1f} ms  {figures[2]:>10,} B  {figures[3]:>3} q"
            f"  RSS {rss(server.pid)[0]:5.0f} MB",
            flush=True,
        )
    now, peak = rss(server.pid)
    print(
        f"  RSS of the serving process after {count:,} tables: {now:.0f} MB (peak {peak:.0f} MB)",
        flush=True,
    )
    if args.tracemalloc:
        with tempfile.NamedTemporaryFile("r", suffix=".txt", dir=OUT) as held:
            client.send("GET", "/login", headers={"X-Bench-Memory": held.name})
            print(f"  what the serving process holds (tracemalloc):\n{held.read()}", flush=True)
    rows.append((count, "RSS MB of the serving process (peak in p95)", now, peak, 0, 0))
    return rows, covered


def profile(client, path, htmx, api):
    """One more GET of `path`, profiled by the serving process: its top functions."""
    with tempfile.NamedTemporaryFile(suffix=".prof", dir=OUT) as dumped:
        headers = {"X-Bench-Profile": dumped.name}
        if htmx:
            headers["HX-Request"] = "true"
        if api:
            headers["Authorization"] = f"Bearer {client.bearer}"
        client.send("GET", path, headers=headers)
        stats = pstats.Stats(dumped.name, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(12)


def report(rows, results_path):
    print()
    heading = f"{'tables':>6}  {'route':<52} {'median ms':>9} {'p95 ms':>8} {'bytes':>11}"
    print(f"{heading} {'queries':>7}  target")
    floors = {r[0]: r[2] for r in rows if r[1].startswith("floor")}
    for count, label, median, p95, size, queries in rows:
        target = TARGETS.get(count)
        server = median - floors[count] if not label.startswith("floor") else median
        verdict = (
            ""
            if label.startswith(("floor", "save:", "RSS")) or not target
            else "FAILED"
            if queries < 0
            else ("meets" if median <= target else "MISSES")
        )
        print(
            f"{count:>6,}  {label:<52} {median:>9.1f} {p95:>8.1f} {size:>11,} {queries:>7}"
            f"  {verdict} {'' if label.startswith('floor') else f'(−floor {server:.1f})'}"
        )
    print(
        "target: median ≤ 50 ms at 300 tables, ≤ 100 ms at 3,000 and 30,000; queries equal at"
        " every size; a save after a one-table change ≤ 200 ms at 3,000, ≤ 1 s at 30,000; a"
        " first version ≤ 5 s at 30,000; RSS ≤ 512 MB"
    )
    queries = {}
    for count, label, *_, n in rows:
        queries.setdefault(label, {})[count] = n
    grew = {label: by for label, by in queries.items() if len(set(by.values())) > 1}
    print(f"query counts that differ between sizes: {grew or 'none'}")
    results_path.write_text(json.dumps(rows, indent=1))
    print(f"figures written to {results_path}")


class Served:
    """The app served by a process of its own, forked before anything is seeded, as a
    worker serves it: its RSS is a worker's, not that of the process that seeds 30,000
    tables and saves their versions."""

    def __init__(self, app, trace=False):
        # No connection of this process may be shared with the child.
        database.obj.close_all()
        context = multiprocessing.get_context("fork")
        ready = context.Queue()
        self.process = context.Process(target=serve_forever, args=(app, ready, trace), daemon=True)
        self.process.start()
        self.port = ready.get(timeout=120)
        self.pid = self.process.pid

    def shutdown(self):
        self.process.terminate()
        self.process.join(10)


def serve_forever(app, ready, trace=False):
    if trace:
        tracemalloc.start(1)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = make_server("127.0.0.1", 0, QueryCounting(app), threaded=True)
    server.RequestHandlerClass.protocol_version = "HTTP/1.1"  # keep-alive, as browsers do
    ready.put(server.server_port)
    server.serve_forever()


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="300,3000")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", default="", help="comma-separated parts of route labels")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated parts of route labels not to time (a route whose requests outlast"
        " the client's timeout keeps the server busy for the routes after it)",
    )
    parser.add_argument(
        "--profile", type=float, default=0, help="profile a route slower than this (ms)"
    )
    parser.add_argument(
        "--skip-from", type=int, default=0, help="--skip only at this many tables and more"
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace the serving process's allocations and print what it holds after each size"
        " (slows every route)",
    )
    parser.add_argument("--skip-deploy", action="store_true", help="no deploy (it is long)")
    parser.add_argument(
        "--plain", action="store_true", help="ask for no gzip (as a script would, not a browser)"
    )
    parser.add_argument(
        "--rls-off", action="store_true", help="serve as a superuser: the policies' cost"
    )
    parser.add_argument("--out", default=str(OUT / "all_pages.json"))
    args = parser.parse_args()
    global SKIP_DEPLOY
    SKIP_DEPLOY = args.skip_deploy
    if args.plain:
        Client.ENCODINGS = {}
    print(f"Accept-Encoding: {Client.ENCODINGS.get('Accept-Encoding', '(none)')}")
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    # The lock sweep runs in some request every ten seconds: not one of the pages' queries.
    web.SWEEP_EVERY_SECONDS = float("inf")
    with (
        postgres_server() as server_url,
        fresh_database(server_url, roles=not args.rls_off) as urls,
        tempfile.TemporaryDirectory(prefix="instance-", dir=OUT) as instance,
    ):
        config = {"SECRET_KEY": "bench", "INSTANCE_PATH": instance}
        if args.rls_off:
            # Served as the server's superuser: what the pages cost without the policies.
            config |= {"DATABASE_URL": urls, "DEPLOY_DATABASE_URL": urls, "ALLOW_RLS_BYPASS": True}
        else:
            # Served as the app role, bound by row-level security, as `make run` serves; the
            # seeding (outside requests) runs as the superuser, the deploy target is its own.
            url, owner_url, app_url = urls
            upgrade(open_database(owner_url))
            open_database(owner_url).close_all()
            route(app_url, url)
            config |= {"DATABASE_URL": app_url, "OWNER_DATABASE_URL": owner_url}
            config |= {"DEPLOY_DATABASE_URL": url}
        print(f"row-level security: {'off (superuser)' if args.rls_off else 'on (app role)'}")
        app = create_app(config)
        if args.rls_off:
            with app.app_context():
                upgrade(database.obj)
        accounts.set_hash_cost(1, 1024)
        server = Served(app, trace=args.tracemalloc)
        owner = accounts.create_user("bench", "bench@example.com", PASSWORD)
        member = accounts.create_user("member", "member@example.com", PASSWORD)
        rows, covered = [], set()
        try:
            for count in (int(s) for s in args.sizes.split(",")):
                size_rows, covered = run_size(app, server, owner, member, count, args)
                rows += size_rows
        finally:
            server.shutdown()
        report(rows, pathlib.Path(args.out))
        print(f"{len(covered)} GET endpoints covered; skipped: {SKIPPED or 'none'}")
    print(f"total runtime {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
