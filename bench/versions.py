"""Schema versions at 300 and 3,000 tables: snapshot, hash, diff, save, storage and reads.

Prints medians and the issue's target (snapshot + hash + diff ≤ 1 s at 3,000 tables); never
asserts times. Runs on a fresh database on TEST_DATABASE_URL's (or BENCH_DATABASE_URL's)
server, else embedded.
"""

import contextlib
import copy
import functools
import json
import os
import signal
import statistics
import sys
import time
import uuid

import peewee
from _setup import FIELDS_PER_TABLE
from _setup import OUT
from _setup import design
from _setup import fresh_database
from _setup import insert_all
from _setup import postgres_server
from peewee import NotSupportedError

from designer import accounts
from designer import projects
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.design.naming import generated_name
from designer.design.tables import definition_of
from designer.design.tables import update_table
from designer.history import snapshot as snapshots
from designer.history import versions
from designer.history.diff import diff
from designer.history.snapshot import build
from designer.history.snapshot import canonical_json
from designer.history.snapshot import digest
from designer.history.snapshot import snapshot_hash
from designer.models import DataField
from designer.models import DataTable
from designer.models import SchemaVersion
from designer.models import TableRelationship

SIZES = (300, 3000)
RUNS = 5
LINK_EVERY = 10  # every 10th table holds a foreign key to the table before it
RENAMED_EVERY = 100  # ~1% of the tables get a new table_name in the edited copy
ALTERED_EVERY = 100  # ~1% of the fields get a new setting in the edited copy
ADDED_TABLES = 10
DROPPED_FIELDS = 10
TARGET_TABLES, TARGET_MS = 3000, 1000
PASSWORD = "bench password"
SET_LZ4 = "ALTER TABLE schema_version ALTER COLUMN schema_snapshot SET COMPRESSION lz4"
# Recompressing a stored snapshot needs a new datum: an UPDATE to the same value keeps the old.
RECOMPRESS = (
    "UPDATE schema_version SET schema_snapshot = schema_snapshot::text::json"
    " WHERE project_id = %s AND version_number = 1"
)
STORED = (
    "SELECT pg_column_size(schema_snapshot), octet_length(schema_snapshot::text),"
    " pg_column_compression(schema_snapshot), pg_column_size(changes)"
    " FROM schema_version WHERE project_id = %s AND version_number = %s"
)
ROWS = (  # key, label, unit
    ("build", "snapshot build (snapshot.build)", "ms"),
    ("build_cold", "snapshot build, no parts parsed before", "ms"),
    ("hash", "snapshot_hash of a fresh build", "ms"),
    ("hash_whole", "canonical JSON of the whole + sha256", "ms"),
    ("json_bytes", "canonical JSON size", "bytes"),
    ("diff", "diff vs edited copy", "ms"),
    ("ops", "change operations", "count"),
    ("chain", "snapshot + hash + diff", "ms"),
    ("save_first", "save_version, first version", "ms"),
    ("save_cached", "save_version, 2nd (previous cached)", "ms"),
    ("save_cached_min", "  the same, fastest run", "ms"),
    ("save_uncached", "save_version, 2nd (previous uncached)", "ms"),
    ("save_uncached_min", "  the same, fastest run", "ms"),
    ("stage_query", "  of the cached save: snapshot SQL, fetch (+INSERT)", "ms"),
    ("stage_parse", "  of the cached save: parse + canonical JSON", "ms"),
    ("stage_hash", "  of the cached save: sha256", "ms"),
    ("stage_diff", "  of the cached save: diff", "ms"),
    ("stage_insert", "  of the cached save: INSERT (or UPDATE)", "ms"),
    ("stage_commit", "  of the cached save: COMMIT", "ms"),
    ("stage_other", "  of the cached save: the rest", "ms"),
    ("save_cold", "save_version, 2nd, cold process (no parts)", "ms"),
    ("save_cold_min", "  the same, fastest run", "ms"),
    ("stored", "schema_snapshot stored (pg_column_size)", "bytes"),
    ("raw", "schema_snapshot raw (octet_length ::text)", "bytes"),
    ("ratio", "compression ratio (raw / stored)", "ratio"),
    ("method", "compression method", "text"),
    ("changes_first", "changes of version 1 stored", "bytes"),
    ("changes_second", "changes of version 2 stored", "bytes"),
    ("read_cached", "snapshot_of, cached", "ms"),
    ("read_uncached", "snapshot_of, uncached", "ms"),
    ("pg_parts", "PostgreSQL: the parts built and fetched as text", "ms"),
    ("pg_assembled", "PostgreSQL: the snapshot assembled from parts", "ms"),
    ("pg_sent", "PostgreSQL: canonical JSON sent, json-checked", "ms"),
    ("pg_pglz", "PostgreSQL: canonical JSON stored, pglz", "ms"),
    ("pg_external", "PostgreSQL: the same, uncompressed (EXTERNAL)", "ms"),
    ("pg_assembled_pglz", "PostgreSQL: assembled from parts and stored, pglz", "ms"),
    ("pg_changes_json", "PostgreSQL: changes of version 1 stored as json", "ms"),
    ("pg_changes_jsonb", "PostgreSQL: the same as jsonb (before 0014)", "ms"),
    ("lz4_stored", "schema_snapshot stored with lz4", "bytes"),
    ("lz4_read", "snapshot_of, uncached, with lz4", "ms"),
)


def link(project, user, tables, columns_of, every=LINK_EVERY):
    """Relationships as designer.design.relationships makes them: each `every`-th table gets a
    bigint <previous table>_id column referring to the previous table's id."""
    relationships = []
    for i in range(every, len(tables), every):
        source, target = tables[i - 1], tables[i]
        columns = columns_of[target.id]
        foreign = DataField(
            id=uuid.uuid4(),
            data_table=target.id,
            name=f"{source.name} ID",
            field_name=f"{source.table_name}_id",
            data_type="number",
            field_config={"number_type": "bigint"},
            sort_order=len(columns),
        )
        columns.append(foreign)
        target.schema_definition = definition_of(target, columns)
        relationships.append(
            TableRelationship(
                id=uuid.uuid4(),
                project=project.id,
                source_table=source.id,
                source_field=columns_of[source.id][0].id,
                target_table=target.id,
                target_field=foreign.id,
                relationship_name=generated_name(
                    target.table_name, foreign.field_name, suffix="fkey"
                ),
                cascade_config={"on_delete": "no_action", "on_update": "no_action"},
                created_by=user.id,
            )
        )
    return relationships


def seed(user, count):
    """A project of `count` linked tables, inserted in bulk: (project, its first table)."""
    project = projects.create_project(user, f"Bench {count}")
    tables, columns_of = design(project, user, count)
    relationships = link(project, user, tables, columns_of)
    fields = [field for table in tables for field in columns_of[table.id]]
    insert_all((DataTable, tables), (DataField, fields), (TableRelationship, relationships))
    # A live server's autovacuum would have gathered statistics on these rows by now.
    database.execute_sql("ANALYZE")
    return project, tables[0], len(relationships)


def edited(snapshot):
    """A copy of `snapshot` after a day's work: 1% of the tables renamed, 1% of the fields
    altered, ADDED_TABLES tables added and DROPPED_FIELDS fields dropped."""
    result = copy.deepcopy(snapshot)
    tables = sorted(result["tables"].values(), key=lambda t: t["table_name"])
    for table in tables[::RENAMED_EVERY]:
        table["table_name"] += "_renamed"
    # (table, field) for every field but the system id column, in a repeatable order.
    owned = [
        (table, field)
        for table in tables
        for field in sorted(table["fields"].values(), key=lambda f: f["sort_order"])
        if field["sort_order"]
    ]
    for n, (_, field) in enumerate(owned[::ALTERED_EVERY]):
        if n % 2:
            field["is_required"] = not field["is_required"]
        else:
            field["field_config"] = {**field["field_config"], "indexed": True}
    # Halfway between the altered ones, so that no field is both altered and dropped.
    for table, field in owned[ALTERED_EVERY // 2 :: ALTERED_EVERY][:DROPPED_FIELDS]:
        del table["fields"][field["id"]]
    for n in range(ADDED_TABLES):
        added = copy.deepcopy(tables[n])
        added.update(id=str(uuid.uuid4()), name=f"Added {n}", table_name=f"added_{n}")
        added["fields"] = {
            field["id"]: field
            for field in ({**f, "id": str(uuid.uuid4())} for f in added["fields"].values())
        }
        result["tables"][added["id"]] = added
    return result


def runs_ms(action, prepare=None):
    """Milliseconds of RUNS calls of action(), each after an untimed prepare()."""
    times = []
    for _ in range(RUNS):
        if prepare is not None:
            prepare()
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def median_ms(action, prepare=None):
    return statistics.median(runs_ms(action, prepare))


def median_and_fastest(key, action, prepare=None):
    """{key: median, key_min: fastest} of RUNS calls: on a loaded machine the fastest run
    shows the work itself best."""
    times = runs_ms(action, prepare)
    return {key: statistics.median(times), f"{key}_min": min(times)}


def forget_parts():
    """A process that never parsed these snapshot parts (before parts: nothing to forget)."""
    parts = getattr(snapshots, "parts", None)
    if parts is not None:
        parts.clear()


def snapshot_figures(project):
    """Build, hash and diff against an edited copy, in memory: no version is saved."""
    snapshot = build(project.id)
    changed = edited(snapshot)
    fresh = []  # each hash run's own build

    def rebuild():
        fresh.append(build(project.id))

    def save_work():
        # What a save computes before it writes: the working copy, its hash, the changes.
        current = build(project.id)
        snapshot_hash(current)
        return diff(current, changed)

    return {
        "build": median_ms(lambda: build(project.id)),
        "build_cold": median_ms(lambda: build(project.id), forget_parts),
        # Built again after the builds above: parts are those the last build parsed.
        "hash": median_ms(lambda: snapshot_hash(fresh[-1]), rebuild),
        "hash_whole": median_ms(lambda: digest(canonical_json(snapshot))),
        "json_bytes": len(canonical_json(snapshot).encode("utf-8")),
        "diff": median_ms(lambda: diff(snapshot, changed)),
        "ops": len(diff(snapshot, changed)),
        "chain": median_ms(save_work),
    }


# What save_version spends its time on, by the functions it calls (those that exist: the
# bench also runs against older code), each without the time of the others it calls.
STAGES = (  # (stage, module or class, attribute)
    ("stage_query", snapshots, "build"),  # before parts: SQL, fetch and json.loads
    ("stage_query", versions, "store_parts"),  # the INSERT of the parts a save adds
    ("stage_parse", snapshots, "Built"),  # parsing the new parts, canonical JSON
    ("stage_parse", snapshots, "canonical_json"),
    ("stage_parse", snapshots, "canonical_of"),
    ("stage_hash", snapshots, "digest"),
    ("stage_diff", versions, "diff"),
    ("stage_insert", SchemaVersion, "create"),
    ("stage_insert", peewee.ModelUpdate, "execute"),  # update() only builds the query
)


@contextlib.contextmanager
def stopwatch():
    """{stage: seconds} spent in STAGES' functions (less the time of those they call) and
    in COMMIT."""
    spent, inner, restore = {}, [0.0], []

    def timed(stage, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            outer, inner[0] = inner[0], 0.0
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                spent[stage] = spent.get(stage, 0) + elapsed - inner[0]
                inner[0] = outer + elapsed

        return wrapper

    for stage, owner, name in STAGES:
        if hasattr(owner, name):
            restore.append((owner, name, vars(owner).get(name)))
            setattr(owner, name, timed(stage, getattr(owner, name)))
    real = database.obj
    restore.append((real, "commit", None))
    real.commit = timed("stage_commit", real.commit)
    try:
        yield spent
    finally:
        for owner, name, original in reversed(restore):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def save_figures(user, project, table):
    """Saving the first version, and one after a rename, with the previous snapshot cached
    (as in the process that saved it) or not (another worker)."""
    names = (table.table_name, f"{table.table_name}_renamed")

    def rename():
        row = DataTable.get_by_id(table.id)
        # Flip between two names, so every save has exactly one change to record.
        update_table(user, table.id, row.revision, table_name=names[row.revision % 2])

    def forget_versions():
        SchemaVersion.delete().where(SchemaVersion.project == project.id).execute()

    def rename_uncached():
        rename()
        versions.cache.clear()

    def save():
        versions.save_version(user, project.id, "bench")

    def rename_cold():
        rename_uncached()
        forget_parts()

    figures = {
        "save_first": median_ms(save, forget_versions),
        **median_and_fastest("save_cached", save, rename),
        **median_and_fastest("save_uncached", save, rename_uncached),
        **median_and_fastest("save_cold", save, rename_cold),
    }
    # The cached save once more, RUNS times, by stage (median of each stage).
    runs = []
    for _ in range(RUNS):
        rename()
        with stopwatch() as spent:
            started = time.perf_counter()
            save()
            total = time.perf_counter() - started
        runs.append({**spent, "stage_other": total - sum(spent.values())})
    for stage in {stage for stage, _, _ in STAGES} | {"stage_commit", "stage_other"}:
        figures[stage] = statistics.median(run.get(stage, 0) for run in runs) * 1000
    return figures


def storage_figures(project):
    """Stored sizes of version 1 (the whole schema as its changes) and of version 2."""
    stored, raw, method, changes_first = database.execute_sql(STORED, (project.id, 1)).fetchone()
    changes_second = database.execute_sql(STORED, (project.id, 2)).fetchone()[3]
    return {
        "stored": stored,
        "raw": raw,
        "ratio": raw / stored,
        "method": method or "none",
        "changes_first": changes_first,
        "changes_second": changes_second,
    }


def read_figures(project):
    """snapshot_of the newest version, from the cache and from PostgreSQL."""
    latest = versions.latest(project.id)
    versions.snapshot_of(latest)
    return {
        "read_cached": median_ms(lambda: versions.snapshot_of(latest)),
        "read_uncached": median_ms(lambda: versions.snapshot_of(latest), versions.cache.clear),
    }


# What PostgreSQL spends a save's time on, statement by statement: each is run in a
# transaction rolled back, into scratch tables with schema_version's column types and storage.
ASSEMBLED = (
    "SELECT json_build_object('format', %(format)s,"
    " 'tables', coalesce(json_object_agg(id, part) FILTER (WHERE id IS NOT NULL), '{}'),"
    " 'relationships', (array_agg(part) FILTER (WHERE id IS NULL))[1])"
    f" FROM ({snapshots.PARTS_JSON}) parts (id, part)"
)
PARTS_FETCHED = f"SELECT id, part::text FROM ({snapshots.PARTS_JSON}) parts (id, part)"
SCRATCH = (
    "CREATE TABLE bench_stored (snapshot json, changes json, changes_b jsonb);"
    " CREATE TABLE bench_external (snapshot json);"
    " ALTER TABLE bench_stored ALTER snapshot SET COMPRESSION pglz;"
    " ALTER TABLE bench_external ALTER snapshot SET STORAGE EXTERNAL"
)


def postgres_figures(project):
    """Milliseconds of the statements a save is made of, measured one by one."""
    built = snapshots.build_with_canonical(project.id)
    canonical = built.canonical
    changes = versions.changes_of(versions.get_version(project.id, 1))
    params = {"project": str(project.id), "format": snapshots.FORMAT}

    def timed(sql, values=None):
        def run():
            with database.atomic() as transaction:
                database.execute_sql("SET LOCAL jit = off")
                database.execute_sql(SCRATCH)
                started = time.perf_counter()
                database.execute_sql(sql, values)
                spent = time.perf_counter() - started
                transaction.rollback()
            return spent * 1000

        return statistics.median(run() for _ in range(RUNS))

    return {
        "pg_parts": timed(
            f"SELECT id, part::text FROM ({snapshots.PARTS_JSON}) p (id, part)", params
        ),
        "pg_assembled": timed(
            f"SELECT length(snapshot::text) FROM ({ASSEMBLED}) a (snapshot)", params
        ),
        "pg_sent": timed("SELECT json_typeof(%s::json)", (canonical,)),
        "pg_pglz": timed("INSERT INTO bench_stored (snapshot) VALUES (%s::json)", (canonical,)),
        "pg_external": timed("INSERT INTO bench_external VALUES (%s::json)", (canonical,)),
        "pg_assembled_pglz": timed(f"INSERT INTO bench_stored (snapshot) {ASSEMBLED}", params),
        "pg_changes_json": timed(
            "INSERT INTO bench_stored (changes) VALUES (%s::json)", (json.dumps(changes),)
        ),
        "pg_changes_jsonb": timed(
            "INSERT INTO bench_stored (changes_b) VALUES (%s::jsonb)", (json.dumps(changes),)
        ),
    }


def lz4_figures(project):
    """Version 1 stored with lz4, and read uncached, in a transaction rolled back; (figures,
    why lz4 is unavailable)."""
    # Not the whole row: its snapshot and changes would be parsed for nothing.
    first = (
        SchemaVersion.select(SchemaVersion.id, SchemaVersion.schema_hash)
        .where(SchemaVersion.project == project.id, SchemaVersion.version_number == 1)
        .get()
    )
    try:
        with database.atomic() as transaction:
            database.execute_sql(SET_LZ4)
            database.execute_sql(RECOMPRESS, (project.id,))
            stored, _, method, _ = database.execute_sql(STORED, (project.id, 1)).fetchone()
            read = median_ms(lambda: versions.snapshot_of(first), versions.cache.clear)
            transaction.rollback()
    except NotSupportedError as exc:
        return {"lz4_stored": None, "lz4_read": None}, str(exc).splitlines()[0]
    if method != "lz4":
        return {"lz4_stored": None, "lz4_read": None}, f"recompressed as {method}"
    return {"lz4_stored": stored, "lz4_read": read}, None


def measure(user, count):
    """Every figure of one project of `count` tables; (figures, why lz4 is unavailable)."""
    started = time.perf_counter()
    project, table, links = seed(user, count)
    seconds = time.perf_counter() - started
    print(
        f"seeded {count:,} tables × {FIELDS_PER_TABLE} fields + id,"
        f" {links} relationships, in {seconds:.1f} s"
    )
    figures = snapshot_figures(project)
    figures |= save_figures(user, project, table)
    figures |= storage_figures(project)
    figures |= read_figures(project)
    figures |= postgres_figures(project)
    lz4, lz4_problem = lz4_figures(project)
    return figures | lz4, lz4_problem


def shown(value, unit):
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value:,.1f}"
    if unit == "ratio":
        return f"{value:.1f}×"
    if unit == "text":
        return value
    return f"{value:,}"


def report(results, lz4_problem):
    print()
    print(f"{f'(times: median of {RUNS} runs)':<44} {'unit':<5}", end="")
    print("".join(f" {f'{count:,} tables':>14}" for count in SIZES))
    for key, label, unit in ROWS:
        cells = "".join(f" {shown(results[count][key], unit):>14}" for count in SIZES)
        print(f"{label:<44} {unit if unit != 'text' else '':<5}{cells}")
    default = database.execute_sql("SHOW default_toast_compression").fetchone()[0]
    lz4 = f"not available ({lz4_problem})" if lz4_problem else "available"
    print(f"default_toast_compression = {default}; lz4: {lz4}")
    chain = results[TARGET_TABLES]["chain"]
    verdict = "meets" if chain <= TARGET_MS else "MISSES"
    print(
        f"target: snapshot + hash + diff ≤ {TARGET_MS:,} ms at {TARGET_TABLES:,} tables:"
        f" {chain:,.1f} ms, {verdict}"
    )


def main():
    # A killed bench must still drop its database and stop its embedded server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    with postgres_server() as server_url, fresh_database(server_url) as url:
        database.initialize(open_database(url))
        upgrade(database.obj)
        accounts.set_hash_cost(1, 1024)
        user = accounts.create_user("bench", "bench@example.com", PASSWORD)
        results, lz4_problem = {}, None
        for count in SIZES:
            results[count], lz4_problem = measure(user, count)
        report(results, lz4_problem)
    print(f"total runtime {time.perf_counter() - started:.1f} s;"
          f" load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}")  # fmt: skip


if __name__ == "__main__":
    main()
