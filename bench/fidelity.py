"""Fidelity of import, then deploy, for every schema in tests/data (#24's proof, in figures).

Each file is applied by psql to a database of its own, imported through the app as a new
project, every table activated and deployed; both schemas are read from pg_catalog and
compared (tests/fidelity.py). Prints, per schema, the share of columns with their exact
type, default and nullability, of keys, uniques, foreign keys, CHECKs and indexes kept,
the activation time next to psql's, and every difference (SILENT: the preview does not
name it). Then the preview and import time of a generated 1,000-table file. Never asserts.
Runs on a fresh database on TEST_DATABASE_URL's (or BENCH_DATABASE_URL's) server, else
embedded; the deploy target is a schema of that same database.

`--file PATH` proves any schema file instead (a big real one kept out of the repo), with
`--prelude PATH` applied by psql to the source and the target alike first: what an
administrator installs before the schema (extensions, collations, functions its CHECKs and
indexes call). `--exports` then also exports the imported design as JSON, SQL and DBML,
imports each back and exports again, and says whether the two exports are equal.
"""

import argparse
import os
import pathlib
import re
import signal
import sys
import time
from collections import Counter

from _setup import OUT
from _setup import fresh_database
from _setup import postgres_server
from import_export import ddl_file
from versions import PASSWORD

from designer import accounts
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.interchange import imports
from designer.settings import settings
from tests import fidelity

COLUMNS = ("columns: type", "columns: default", "columns: nullability")
KEYS = ("primary keys", "uniques", "foreign keys", "checks", "indexes")
BIG = 1000


def timed(action):
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def import_and_deploy(user, name, text):
    """fidelity.import_and_deploy, except that the tables activation refuses (say a partition
    imported without its columns) are left Draft, printed, and the others activated."""
    from designer.database import activations
    from designer.errors import ValidationFailed
    from designer.models import DataTable
    from designer.models import Project

    started = time.perf_counter()
    project, plan, _ = imports.import_new_project(user, name, "sql", text)
    imported = time.perf_counter()
    try:
        deployment = activations.activate(user, project.id, all_drafts=True).deployment
    except ValidationFailed as refused:
        left = set(refused.fields.get("tables", {}))
        print(f"  activation refused {len(left)} tables, left Draft: {refused}")
        imported = time.perf_counter()
        drafts = DataTable.select(DataTable.id, DataTable.table_name).where(
            DataTable.project == project.id, DataTable.status == "draft"
        )
        ids = [str(t.id) for t in drafts if t.table_name not in left]
        deployment = activations.activate(user, project.id, table_ids=ids).deployment
    assert deployment.status == "applied", deployment.error
    done = time.perf_counter()
    schema = Project.get_by_id(project.id).target_schema
    return (plan, schema, project), {"import": imported - started, "activate": done - imported}


def prove(user, server_url, target_url, name, path=None, prelude=None):
    """(row of figures, differences marked named or silent) for one schema file."""
    with fresh_database(server_url) as source_url:
        text = fidelity.as_server_runs(source_url, (path or fidelity.DATA / name).read_text())
        for url in (source_url, target_url):
            fidelity.prepare(url, text)
            if prelude is not None:
                fidelity.apply_with_psql(url, prelude.read_text(), prelude.name, single=False)
        psql_s, _ = timed(lambda: fidelity.apply_with_psql(source_url, text, name))
        preview_s, _ = timed(lambda: imports.preview(user, None, "sql", text))
        (plan, schema, project), import_s = import_and_deploy(user, name.removesuffix(".sql"), text)
        lines = fidelity.Lines(text)
        comparison = fidelity.compare(
            fidelity.read_catalog(source_url, "public"),
            fidelity.read_catalog(target_url, schema),
            lines,
            fidelity.renamed(plan),
        )
    silent = set(fidelity.unnamed(comparison, plan, lines))
    import_s["preview"] = preview_s
    return comparison, silent, psql_s, import_s, plan, project


def percent(comparison, kind):
    tally = comparison.tallies.get(kind)
    if tally is None or not tally.total:
        return "    -"
    return f"{tally.percent:5.1f}"


def report(name, comparison, silent, psql_s, timings):
    tables = comparison.tallies["tables"]
    columns = comparison.tallies["columns: type"]
    print(f"\n{name}: {tables.total} tables, {columns.total} columns")
    print("  columns exact: " + ", ".join(
        f"{kind.split(': ')[1]} {percent(comparison, kind).strip()}%" for kind in COLUMNS
    ))  # fmt: skip
    print("  kept: " + ", ".join(
        f"{kind} {percent(comparison, kind).strip()}% of {comparison.tallies[kind].total}"
        for kind in KEYS
    ))  # fmt: skip
    names = comparison.tallies["names (of constraints and indexes kept)"]
    print(f"  names of the constraints and indexes kept: {names.percent:.1f}% of {names.total}")
    print(
        f"  psql -1 -f {psql_s:.2f} s; preview {timings.get('preview', 0):.2f} s;"
        f" import {timings['import']:.2f} s; activate all "
        f"{timings['activate']:.2f} s ({timings['activate'] / psql_s:.1f}x psql)"
    )
    kinds = Counter(d.what for d in comparison.differences)
    print(f"  {len(comparison.differences)} differences, {len(silent)} SILENT: " + ", ".join(
        f"{what} {n}" for what, n in kinds.most_common()
    ))  # fmt: skip
    for difference in comparison.differences:
        print(f"    {'SILENT' if difference in silent else 'named '} {difference}")


def summary(rows):
    """One line per schema: the figures the issue asks for."""
    head = ["schema", "tables", "columns", "type", "default", "null"]
    head += ["pk", "unique", "fk", "check", "index", "diffs", "silent", "act/psql"]
    print("\n" + " | ".join(head))
    for name, comparison, silent, ratio in rows:
        tallies = comparison.tallies
        cells = [name.removesuffix(".sql"), str(tallies["tables"].total)]
        cells.append(str(tallies["columns: type"].total))
        cells += [percent(comparison, kind).strip() for kind in COLUMNS + KEYS]
        cells += [str(len(comparison.differences)), str(len(silent)), f"{ratio:.1f}"]
        print(" | ".join(cells))


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def comparable(text, project, first):
    """An export of a re-imported project with what differs from the first by nature put
    back: its name and target schema (the first's), and ids (the second import's are new:
    the first's are in use), each replaced by the order it first appears in."""
    from designer.models import Project

    if project.id != first.id:
        project, first = Project.get_by_id(project.id), Project.get_by_id(first.id)
        text = text.replace(project.target_schema, first.target_schema)
        text = text.replace(project.name, first.name)
    order = {}
    return UUID.sub(lambda m: f"<id {order.setdefault(m.group(0), len(order))}>", text)


def round_trips(user, project):
    """Each format exported, imported as a new project and exported again: equal or not."""
    from designer.interchange import exports

    # A big design's DBML is past the import's everyday cap, and pydbml reads it slowly.
    settings.import_max_dbml_bytes = settings.import_max_bytes
    settings.import_max_seconds = 600.0
    for fmt in ("json", "sql", "dbml"):
        first = exports.export_design(user, project.id, fmt).text
        try:
            took, (again, _, _) = timed(
                lambda fmt=fmt, first=first: imports.import_new_project(
                    user, f"{project.name} {fmt}", fmt, first
                )
            )
        except Exception as error:  # noqa: BLE001 - the bench reports every refusal
            print(f"  {fmt} export -> import refused: {str(error)[:300]}")
            continue
        second = exports.export_design(user, again.id, fmt).text
        first, second = comparable(first, project, project), comparable(second, again, project)
        lines = set(first.splitlines()) ^ set(second.splitlines())
        verdict = "equal" if first == second else f"differ ({len(lines)} lines)"
        print(f"  {fmt} export -> import ({took:.1f} s) -> export: {verdict}")
        for line in sorted(lines)[:10]:
            print(f"      {line[:160]}")


def big_file(user):
    text = ddl_file(BIG)
    preview_s, _ = timed(lambda: imports.preview(user, None, "sql", text))
    import_s, _ = timed(lambda: imports.import_new_project(user, "Big", "sql", text))
    size = len(text.encode()) / 1e6
    print(f"\n{BIG:,} generated tables ({size:.1f} MB): preview {preview_s:.2f} s,"
          f" import {import_s:.2f} s (one run each)")  # fmt: skip


def main():
    # A killed bench must still drop its databases and stop its embedded server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("only", nargs="*", help="schemas of tests/data (or big), by name")
    parser.add_argument("--file", type=pathlib.Path, help="prove this schema file instead")
    parser.add_argument("--prelude", type=pathlib.Path, help="applied to both sides first")
    parser.add_argument("--exports", action="store_true", help="round-trip every format")
    args = parser.parse_args()
    only = args.only or (["none"] if args.file else [])
    OUT.mkdir(parents=True, exist_ok=True)
    with postgres_server() as server_url, fresh_database(server_url) as url:
        database.initialize(open_database(url))
        upgrade(database.obj)
        settings.designer_database_url = settings.deploy_database_url = url
        accounts.set_hash_cost(1, 1024)
        user = accounts.create_user("bench", "bench@example.com", PASSWORD)
        print("Import, then deploy, against psql: pg_catalog compared (tests/fidelity.py)")
        rows = []
        files = [(args.file.name, args.file)] if args.file else []
        files += [(n, None) for n in fidelity.schema_files() if n.removesuffix(".sql") in only]
        if not args.only and not args.file:
            files = [(n, None) for n in fidelity.schema_files()]
        for name, path in files:
            comparison, silent, psql_s, timings, plan, project = prove(
                user, server_url, url, name, path, args.prelude
            )
            report(name, comparison, silent, psql_s, timings)
            rows.append((name, comparison, silent, timings["activate"] / psql_s))
            if args.exports:
                round_trips(user, project)
        summary(rows)
        if not only or "big" in only:
            big_file(user)
    print(f"\ntotal runtime {time.perf_counter() - started:.1f} s;"
          f" load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}")  # fmt: skip


if __name__ == "__main__":
    main()
