"""The deploy target: where designed tables go, and running a plan there in one transaction.

Every plan runs as the project's own role (designer.database.tenant_roles), one statement
per execute, each checked first by designer.database.statement_guard: one statement of a
kind plans make, naming nothing outside the project's schema.

The target is DEPLOY_DATABASE_URL, or else a database `<designer db>_deploy`
on the designer's own server, created on first use (so the embedded server
works out of the box). A plan runs in one transaction, with lock_timeout and
statement_timeout, serialized per target schema by an advisory lock; before
each step its measure counts the rows the step would break, in the state
the earlier steps left. A dry run always rolls back; an apply commits only
when every step ran and nothing was refused. Knows nothing of the designer's
models: deploy.py passes a callback that writes the designer's records
before the target commits.
"""

import threading
import time
from dataclasses import dataclass
from dataclasses import field

import psycopg2

from designer.database import statement_guard
from designer.database import tenant_roles
from designer.database.ddl_terms import CASTABLE_FUNCTION
from designer.database.ddl_terms import DESTRUCTIVE
from designer.database.ddl_terms import SAFE
from designer.database.ddl_terms import literal
from designer.database.tenant_roles import ROLE_PREFIX
from designer.design.column_types import type_schema
from designer.design.naming import quote_identifier as ident
from designer.errors import Conflict
from designer.settings import settings


class NoTarget(Conflict):
    """No deploy target is configured."""


def target_url():
    """The deploy target's URL: DEPLOY_DATABASE_URL, which the embedded server provisions.

    Never the designer's own role: that role serves every tenant's design, and a deploy
    must reach nothing but its project's schema."""
    if settings.deploy_database_url:
        return settings.deploy_database_url
    raise NoTarget(
        "No deploy target is configured: set DEPLOY_DATABASE_URL to a role of its own "
        "(the README's Deploy target section says which rights it needs)."
    )


def connect():
    """A connection as the target's own connection role (provisioning, lock reports)."""
    return psycopg2.connect(target_url())


def connect_as(tenant):
    """A connection as the project's role, which owns its schema and nothing else."""
    return tenant_roles.connect_as(target_url(), tenant.role)


@dataclass
class Outcome:
    """What running a plan did: each step's result, the first error, refused steps."""

    steps: list = field(default_factory=list)
    error: str | None = None
    refused: list = field(default_factory=list)
    duration_ms: int = 0
    committed: bool = False


def begin(cursor, schema):
    """Timeouts, the per-schema advisory lock, the schema and the cast-check helper."""
    cursor.execute(
        "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true),"
        " set_config('standard_conforming_strings', 'on', true),"  # as ddl.literal assumes
        # An app killed mid-deploy: the target stops waiting (for a lock, a scan) within a
        # second and rolls back, rather than when the wait ends (PostgreSQL 14+).
        " set_config('client_connection_check_interval', '1000ms', true)",
        (f"{settings.deploy_lock_timeout_ms}ms", f"{settings.deploy_statement_timeout_ms}ms"),
    )
    cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"dmd:{schema}",))
    # Unqualified names (PostgreSQL's own definitions, replayed by a put-back) mean the
    # project's schema, then the schemas the target shares for types, where a named type
    # (an extension's) is found; none of them is a schema a project's role may write to.
    shared = type_schemas(cursor, schema)
    path = ", ".join(ident(name) for name in (schema, *shared))
    cursor.execute("SELECT set_config('search_path', %s, true)", (path,))
    cursor.execute(CASTABLE_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    return shared


# The configured type schemas this target shares: they exist, no project's role owns them
# (another tenant's schema is never one), and the connected role may use but not create in
# them (so no tenant can plant a type or a function there for another to pick up).
TYPE_SCHEMAS = """
SELECT n.nspname FROM pg_namespace n
 WHERE n.nspname = ANY (%(listed)s) AND n.nspname <> %(schema)s AND n.nspname NOT LIKE 'pg\\_%%'
   AND pg_get_userbyid(n.nspowner) NOT LIKE %(tenants)s
   AND has_schema_privilege(n.oid, 'USAGE') AND NOT has_schema_privilege(n.oid, 'CREATE')
 ORDER BY array_position(%(listed)s, n.nspname::text)
"""


def type_schemas(cursor, schema):
    """The schemas whose types a plan in `schema` may use besides pg_catalog (see above)."""
    tenants = ROLE_PREFIX.replace("_", "\\_") + "%"
    listed = list(settings.type_schemas)
    cursor.execute(TYPE_SCHEMAS, {"listed": listed, "schema": schema, "tenants": tenants})
    return tuple(row[0] for row in cursor.fetchall())


def missing_types(cursor, named_types, schema, shared):
    """The error of a plan whose columns name a type the target does not have (None when it
    has them all): `named_types` are (table.column, the type as the design renders it)."""
    for column, type_name in named_types:
        qualifier = type_schema(type_name)
        if qualifier is not None and qualifier not in (schema, "pg_catalog", *shared):
            continue  # the guard refuses it, naming the schema
        cursor.execute("SELECT to_regtype(%s) IS NULL", (type_name,))
        if cursor.fetchone()[0]:
            where = ", ".join((schema, *shared, "pg_catalog"))
            return (
                f"Column {column} has type {type_name}, which the target does not have in"
                f" {where}: install it there (its extension), or choose another type."
            )
    return None


# Relation locks other sessions hold in the schema: what a step's lock_timeout waited for.
LOCK_HOLDERS = """
SELECT format('%%s (%%s, held by process %%s%%s)', l.relation::regclass, l.mode, l.pid,
              coalesce(', running: ' || left(a.query, 200), ''))
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.granted AND l.pid <> %s
  AND c.relnamespace = to_regnamespace(%s)
ORDER BY 1
"""
LOCK_NOT_AVAILABLE = "55P03"


def waited_for(connection, schema):
    """Who holds locks in `schema` that the lock_timeout gave up waiting for, in words."""
    try:
        probe = connect()
    except psycopg2.Error:
        return ""
    try:
        with probe.cursor() as cursor:
            cursor.execute(LOCK_HOLDERS, (connection.get_backend_pid(), schema))
            held = [row[0] for row in cursor.fetchall()]
    finally:
        probe.close()
    if not held:
        return ""
    waited = settings.deploy_lock_timeout_ms
    return f"\nIt waited {waited} ms for a lock on: " + "; ".join(held)


def execute(cursor, statement, schema, shared=()):
    """Run one statement, once the guard has passed it (`shared`: the type schemas begin
    found). The project's schema exists before any plan runs (its role was provisioned with
    it), so a plan's CREATE SCHEMA is not run: the role may not create schemas."""
    parsed = statement_guard.check_statement(statement, schema, type_schemas=shared)
    if statement_guard.makes_schema(parsed):
        return
    if statement_guard.returns_rows(parsed):
        cursor.execute(statement)
    else:
        cursor.execute(sealed(statement))


def sealed(statement):
    """The statement run by PL/pgSQL's EXECUTE inside a DO block, in the plan's transaction:
    there PostgreSQL itself refuses COMMIT, ROLLBACK and SAVEPOINT, so even a statement that
    got past the guard cannot end a dry run's transaction early. Quoted twice, as literals."""
    return "DO " + literal(f"BEGIN EXECUTE {literal(statement)}; END")


def run_step(cursor, step, result, refuse, schema, shared=()):
    """Measure, then run one step; returns the error text or None."""
    try:
        if step.measure:
            execute(cursor, step.measure, schema, shared)
            result["affected_rows"] = int(cursor.fetchone()[0])
        if step.kind == DESTRUCTIVE and result["affected_rows"]:
            result["needs_confirmation"] = True
            result["refused"] = refuse(step)
        started = time.monotonic()
        execute(cursor, step.sql, schema, shared)
        result["duration_ms"] = round((time.monotonic() - started) * 1000, 2)
        result["outcome"] = "ok"
        return None
    except psycopg2.Error as exc:
        result["outcome"] = "failed"
        message = (exc.pgerror or str(exc)).strip()
        if result["affected_rows"]:
            message += f" ({result['affected_rows']} rows: {step.reason})"
        if exc.pgcode == LOCK_NOT_AVAILABLE and schema:
            message += waited_for(cursor.connection, schema)
        result["error"] = message
        return f"{step.sql}\n{message}"
    except statement_guard.RefusedStatement as exc:
        result["outcome"] = "refused"
        result["error"] = f"Refused before it ran: {exc}."
        return f"{step.sql}\nRefused before it ran: {exc}."


def step_results(steps):
    """A result per step, filled as the steps run; "not_run" until then."""
    results = []
    for step in steps:
        result = {**step.as_dict(), "affected_rows": None, "outcome": "not_run"}
        del result["measure"]
        result.update(duration_ms=None, needs_confirmation=False, refused=None)
        results.append(result)
    return results


def first_line(exc):
    return (getattr(exc, "pgerror", None) or str(exc)).strip().splitlines()[0]


def run_steps(cursor, steps, schema, refuse, outcome, named_types=()):
    """Begin, then each step until one fails; the error goes into `outcome`."""
    shared = ()
    try:
        shared = begin(cursor, schema)
        outcome.error = missing_types(cursor, named_types, schema, shared)
    except psycopg2.Error as exc:
        # Most often: another deploy to this schema holds the advisory lock.
        outcome.error = f"The deploy could not start on {schema}: {first_line(exc)}"
        if exc.pgcode == LOCK_NOT_AVAILABLE:
            outcome.error += f" (another deploy holds the advisory lock dmd:{schema})"
    pairs = list(zip(steps, outcome.steps, strict=True))
    done = 0
    while done < len(pairs) and outcome.error is None:
        batch = []
        while done + len(batch) < len(pairs) and len(batch) < BATCH:
            if not batchable(pairs[done + len(batch)][0]):
                break
            batch.append(pairs[done + len(batch)])
        if len(batch) > 1:
            outcome.error = run_batch(cursor, batch, schema, refuse, shared)
            done += len(batch)
        else:
            step, result = pairs[done]
            outcome.error = run_step(cursor, step, result, refuse, schema, shared)
            done += 1


# Safe steps with nothing to measure (a new table's CREATE, its comments, its keys) run
# this many to a round trip: each statement still guarded, still one EXECUTE, in one DO block
# that says which of them failed. A 375-table activation is 1,676 steps; one round trip
# each waits its turn for a CPU on a busy machine.
BATCH = 100
STEP_MARK = "dmd-step "


def batchable(step):
    return step.kind == SAFE and not step.measure


def run_batch(cursor, batch, schema, refuse, shared=()):
    """Run safe steps in one round trip; returns the error text or None.

    Any statement the guard refuses, or that is not a plain DDL statement, sends the whole
    batch through run_step one at a time (its refusal then said exactly as always)."""
    numbered = []
    try:
        for step, _ in batch:
            parsed = statement_guard.check_statement(step.sql, schema, type_schemas=shared)
            if statement_guard.returns_rows(parsed):
                raise statement_guard.RefusedStatement("returns rows")
            if not statement_guard.makes_schema(parsed):
                numbered.append(step.sql)
            else:
                numbered.append(None)  # the schema exists already (see execute)
    except statement_guard.RefusedStatement:
        for step, result in batch:
            error = run_step(cursor, step, result, refuse, schema, shared)
            if error is not None:
                return error
        return None
    body = " ".join(
        f"n := {k}; EXECUTE {literal(sql)};" for k, sql in enumerate(numbered) if sql is not None
    )
    block = (
        f"DECLARE n integer := 0; BEGIN {body} EXCEPTION WHEN others THEN RAISE EXCEPTION "
        f"USING ERRCODE = SQLSTATE, MESSAGE = SQLERRM, DETAIL = '{STEP_MARK}' || n; END"
    )
    started = time.monotonic()
    try:
        cursor.execute("DO " + literal(block))
    except psycopg2.Error as exc:
        return batch_failed(cursor, batch, schema, exc)
    share = round((time.monotonic() - started) * 1000 / len(batch), 2)
    for _, result in batch:
        result.update(outcome="ok", duration_ms=share)
    return None


def batch_failed(cursor, batch, schema, exc):
    """The batch's failed step (from the block's DETAIL) failed; the ones before it ran."""
    detail = getattr(exc.diag, "message_detail", None) or ""
    failed = int(detail[len(STEP_MARK) :]) if detail.startswith(STEP_MARK) else 0
    for _, result in batch[:failed]:
        result["outcome"] = "ok"
    step, result = batch[failed]
    result["outcome"] = "failed"
    message = f"ERROR:  {exc.diag.message_primary or first_line(exc)}"
    if exc.pgcode == LOCK_NOT_AVAILABLE and schema:
        message += waited_for(cursor.connection, schema)
    result["error"] = message
    return f"{step.sql}\n{message}"


def alongside(work, meanwhile):
    """Run `work` on a thread of its own while `meanwhile` runs here; re-raise what either
    raised. The target mostly waits on PostgreSQL, so the two overlap."""
    raised = []

    def guarded():
        try:
            work()
        except BaseException as exc:  # carried over to the caller's thread
            raised.append(exc)

    worker = threading.Thread(target=guarded, name="deploy-steps", daemon=True)
    worker.start()
    try:
        meanwhile()
    finally:
        worker.join()
    if raised:
        raise raised[0]


def run_plan(
    steps, tenant, apply=False, refuse=lambda step: None, before_commit=None, meanwhile=None,
    named_types=(),
):  # fmt: skip
    """Run `steps` as `tenant`'s role in one transaction; commit only an apply that fully passed.

    `refuse(step)` returns why a destructive step that would lose rows may not
    run (None to allow it); `before_commit(outcome)` writes the designer's
    side and may raise, which rolls the target back too. `meanwhile` runs on the
    caller's thread while the steps run on another (it must not touch the target);
    if it raises, nothing commits.
    """
    outcome = Outcome(steps=step_results(steps))
    started = time.monotonic()
    schema = tenant.schema
    try:
        conn = connect_as(tenant)
    except psycopg2.Error as exc:
        outcome.error = f"The deploy target cannot be reached: {first_line(exc)}"
        return outcome
    try:
        with conn.cursor() as cursor:

            def work():
                run_steps(cursor, steps, schema, refuse, outcome, named_types)

            if meanwhile is None:
                work()
            else:
                alongside(work, meanwhile)
        outcome.refused = [r for r in outcome.steps if r["refused"]]
        outcome.duration_ms = round((time.monotonic() - started) * 1000)
        if apply and outcome.error is None and not outcome.refused:
            if before_commit is not None:
                before_commit(outcome)
            conn.commit()
            outcome.committed = True
        else:
            conn.rollback()
    finally:
        conn.close()
    return outcome
