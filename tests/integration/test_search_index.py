"""Table searches are served by migration 0047's trigram index under row-level security, and
its definer function shows no one a table of a project they are not a member of."""

import contextlib
import json
import logging
import uuid

import psycopg2
import pytest
from psycopg2 import errors

from designer import projects
from designer import rls
from designer.db import database
from designer.design import fields
from designer.design import table_list
from designer.design import table_picker
from designer.design import tables
from designer.models import DataTable

OTHERS = 30  # tables that a selective search must not read


@pytest.fixture
def world(make_user):
    """alice owns Shop (carol views it), bob owns Other; each has a table whose column holds
    the word "zephyr" and OTHERS tables that do not."""
    alice, bob, carol = (make_user(n) for n in ("alice", "bob", "carol"))
    shop = projects.create_project(alice, "Shop")
    other = projects.create_project(bob, "Other")
    projects.add_member(alice, shop.id, "carol", "viewer")
    found = {}
    for user, project in ((alice, shop), (bob, other)):
        table = tables.create_table(user, project.id, f"Winds of {project.name}")
        fields.create_field(user, table.id, {"name": "Zephyr speed"})
        found[project.name] = table
        for n in range(OTHERS):
            tables.create_table(user, project.id, f"Plain {n:03d}")
    return {"alice": alice, "bob": bob, "carol": carol, "shop": shop, "other": other, **found}


def found_ids(cursor, project, needle):
    cursor.execute("SELECT * FROM rls_search_tables(%s, %s, 100)", (str(project.id), needle))
    return {str(row[0]) for row in cursor.fetchall()}


def test_the_function_answers_members_only(world, raw):
    shop, other = world["shop"], world["other"]
    mine = {str(world["Shop"].id)}
    assert found_ids(raw(world["alice"]), shop, "zephyr") == mine
    assert found_ids(raw(world["carol"]), shop, "zephyr") == mine  # a viewer searches too
    assert found_ids(raw(world["bob"]), other, "zephyr") == {str(world["Other"].id)}
    # Another's project, nobody, a project that does not exist: nothing, and the same nothing.
    for user, project in ((world["bob"], shop), (world["alice"], other), (None, shop)):
        assert found_ids(raw(user), project, "zephyr") == set()
    missing = type("P", (), {"id": uuid.uuid4()})
    assert found_ids(raw(world["bob"]), missing, "zephyr") == set()


@pytest.mark.parametrize("needle", ["%", "_", "'; --", "\\", "z" * 10_000, "\n\n\n", "ze"])
def test_no_needle_makes_another_projects_rows_speak(world, raw, needle):
    """Whatever is searched for, another project answers nothing and raises nothing (an
    error that depended on its rows would tell of them)."""
    cursor = raw(world["bob"])
    assert found_ids(cursor, world["shop"], needle) == set()
    cursor.execute("SELECT * FROM rls_search_tables(%s, NULL, 9)", (str(world["shop"].id),))
    assert cursor.fetchall() == []


def test_the_app_role_reads_and_writes_no_gram(world, raw, database_url):
    """search_gram is the owner's alone: the app role, acting for anyone, sees none of its
    rows and can write none, and what it is told does not depend on whose table it names."""
    with contextlib.closing(psycopg2.connect(database_url)) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_gram")
        assert cursor.fetchone()[0] == 2 * (OTHERS + 1)
    refusals = []
    for user in (world["alice"], world["bob"], None):
        cursor = raw(user)
        cursor.execute("SELECT count(*) FROM search_gram")
        assert cursor.fetchone()[0] == 0
        cursor.execute("UPDATE search_gram SET grams = '{}'")
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM search_gram")
        assert cursor.rowcount == 0
        for table_id in (world["Shop"].id, world["Other"].id, uuid.uuid4()):
            with pytest.raises(errors.InsufficientPrivilege) as refused:
                cursor.execute(
                    "INSERT INTO search_gram (table_id, grams) VALUES (%s, '{1}')", (str(table_id),)
                )
            refusals.append(str(refused.value).split("\n")[0])
    assert len(set(refusals)) == 1, refusals  # one message, whatever the id
    with pytest.raises(errors.InsufficientPrivilege):
        raw(world["bob"]).execute("SELECT search_gram_write()")


def test_grams_follow_the_text(world, database_url):
    """A renamed column or table, a new one, a deleted one: the grams follow search_text."""
    alice, shop = world["alice"], world["shop"]

    def found(needle):
        return [t.name for t in table_list.list_tables(shop.id, needle)[0]]

    field = fields.create_field(alice, world["Shop"].id, {"name": "Mistral gust"})
    assert found("mistral") == ["Winds of Shop"]
    fields.update_field(alice, field.id, field.revision, {"name": "Sirocco gust"})
    assert found("mistral") == [] and found("sirocco") == ["Winds of Shop"]
    table = tables.create_table(alice, shop.id, "Monsoon log")
    assert found("monsoon") == ["Monsoon log"]
    with contextlib.closing(psycopg2.connect(database_url)) as admin, admin:
        admin.cursor().execute("DELETE FROM data_table WHERE id = %s", (str(table.id),))
        cursor = admin.cursor()
        cursor.execute("SELECT count(*) FROM search_gram WHERE table_id = %s", (str(table.id),))
        assert cursor.fetchone()[0] == 0


class Statements(logging.Handler):
    """The SQL and parameters peewee sends meanwhile."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.sent = []

    def emit(self, record):
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.sent.append(record.msg)


@contextlib.contextmanager
def statements():
    logger, handler = logging.getLogger("peewee"), Statements()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.sent
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def explained(cursor, statement):
    sql, params = statement
    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
    return list(plan_nodes(cursor.fetchone()[0][0]["Plan"]))


def bulk(database_url, project, count):
    """`count` more tables in `project`, copies of one of its plain tables (by SQL: a project
    of a few dozen tables is read whole more cheaply than by any index), then ANALYZE."""
    with contextlib.closing(psycopg2.connect(database_url)) as admin, admin:
        cursor = admin.cursor()
        cursor.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'data_table' AND table_schema = 'public'"
        )
        columns = [c for (c,) in cursor.fetchall()]
        made = {"id": "gen_random_uuid()", "name": "'Bulk ' || n", "table_name": "'bulk_' || n"}
        values = ", ".join(made.get(c, f't."{c}"') for c in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        cursor.execute(
            f"INSERT INTO data_table ({names})"
            f" SELECT {values} FROM generate_series(1, %s) n,"
            " (SELECT * FROM data_table WHERE project_id = %s AND name = 'Plain 000') t",
            (count, str(project.id)),
        )
        cursor.execute("ANALYZE data_table")  # as a server's autovacuum would


SEARCHES = {
    "table list": lambda project: table_list.list_tables(project.id, "zephyr"),
    "table picker": lambda project: table_picker.matching_tables(project.id, "winds of"),
    "chosen table": lambda project: table_picker.chosen_table(project.id, "winds of shop"),
}


@pytest.mark.parametrize("search", SEARCHES)
def test_a_search_reads_the_tables_it_finds_not_the_project(world, raw, search, database_url):
    """As the app role under the policies, each search's statement reaches data_table by its
    primary key, for the few tables the index named: it reads 1 row of the project's
    OTHERS + 1, where a text condition alone (not leakproof) read them all."""
    bulk(database_url, world["shop"], 3000)
    with statements() as sent:
        SEARCHES[search](world["shop"])
    statement = next(s for s in sent if 'FROM "data_table"' in s[0] and "::uuid[])" in s[0])
    nodes = explained(raw(world["alice"]), statement)
    reads = [n for n in nodes if n.get("Relation Name") == "data_table"]
    assert reads and all(n["Node Type"] != "Seq Scan" for n in reads), reads
    # Looked up by the ids the function answered (the primary key, or (project_id, id)).
    conditions = [
        n.get("Index Cond", "") for n in nodes if n.get("Index Name", "").startswith("data_table_")
    ]
    assert any("id = ANY" in c for c in conditions), conditions
    assert sum(n["Actual Rows"] * n["Actual Loops"] for n in reads) == 1
    assert sum(n.get("Rows Removed by Filter", 0) for n in reads) == 0


def test_the_function_finds_tables_by_the_gin_index_under_the_policies(world, database_url, roles):
    """The function's statement, planned as the owner in a definer function is (data_table's
    policies apply: FORCE), may take the grams' GIN index (search_gram's rows have no policy
    for the owner) and data_table's primary key; with sequential scans off, so that the plan
    shows what the policies allow, not what a small table costs."""
    with contextlib.closing(psycopg2.connect(database_url)) as admin, admin:
        cursor = admin.cursor()
        cursor.execute(f'SET ROLE "{roles["owner"]}"')
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(rls.ACT_FOR, (str(world["alice"].id),))
        cursor.execute("SELECT rls_definer()")
        assert cursor.fetchone()[0]  # as inside the owner's definer functions
        grams = ("SELECT table_id FROM search_gram WHERE grams @> search_grams(%s)", ("zephyr",))
        nodes = explained(cursor, grams)
        assert "search_gram_grams" in {n.get("Index Name") for n in nodes}, nodes
        assert sum(n["Actual Rows"] for n in nodes if n.get("Relation Name")) == 2
        by_id = (
            "SELECT id FROM data_table WHERE id = ANY (%s::uuid[])",
            ([str(world["Shop"].id)],),
        )
        nodes = explained(cursor, by_id)
        # By its key, or by the (project_id, id) index the policies' own condition uses:
        # the planner took either in full runs. Either way the ids are an index condition,
        # not a filter over every row.
        assert any(
            n.get("Index Name") in ("data_table_pkey", "data_table_project_id_id")
            and "id = ANY" in n.get("Index Cond", "")
            for n in nodes
        ), nodes
        cursor.execute("SELECT * FROM rls_search_tables(%s, 'zephyr', 9)", (str(world["shop"].id),))
        assert cursor.fetchall() == [(world["Shop"].id,)]


def test_a_search_matching_many_tables_reads_the_project_and_finds_the_same(world, monkeypatch):
    """Past INDEXED_MATCHES tables the index is not used (looking each up by key costs more
    than reading the project), and the function answers no more than it is asked for."""
    shop = world["shop"]
    indexed = table_list.list_tables(shop.id, "plain", limit=100)[0]
    with statements() as sent:
        monkeypatch.setattr(table_list, "INDEXED_MATCHES", OTHERS - 1)
        read = table_list.list_tables(shop.id, "plain", limit=100)[0]
    assert [t.id for t in read] == [t.id for t in indexed] and len(read) == OTHERS
    assert not [sql for sql, _ in sent if "::uuid[])" in sql]
    cursor = database.execute_sql(
        "SELECT count(*) FROM rls_search_tables(%s, 'plain', 7)", (str(shop.id),)
    )
    assert cursor.fetchone()[0] == 7


def test_the_picker_and_the_list_still_find_short_queries(world):
    shop = world["shop"]
    assert len(table_list.list_tables(shop.id, "ze", limit=100)[0]) == 1
    assert [t.name for t in table_picker.matching_tables(shop.id, "wi")] == ["Winds of Shop"]
    assert DataTable.select().where(DataTable.project == shop.id).count() == OTHERS + 1


def test_deployment_listings_read_no_plan(world, database_url):
    """A listing's step count and table names are kept on the row as the plan is written,
    and the listing's statement does not read the plan."""
    from designer.database import records

    shop = world["shop"]
    ids = [str(t.id) for t in DataTable.select().where(DataTable.project == shop.id).limit(5)]
    plan = [{"table_id": i, "sql": "SELECT 1"} for i in ids] + [{"sql": "SELECT 2"}]
    with contextlib.closing(psycopg2.connect(database_url)) as admin, admin:
        admin.cursor().execute(
            "INSERT INTO deployment (project_id, target_schema, to_hash, status, plan)"
            " VALUES (%s, 'x', 'h', 'dry_run_ok', %s)",
            (str(shop.id), json.dumps(plan)),
        )
    names = sorted(DataTable.select(DataTable.table_name).where(DataTable.id.in_(ids)).scalars())
    with statements() as sent:
        (row,) = records.history(shop.id)
    assert (row.step_count, row.table_count, row.table_names) == (6, 5, names[:3])
    assert not [sql for sql, _ in sent if '"plan"' in sql], sent


def data_table_reads(nodes):
    """Rows a plan read from data_table: returned or filtered out, over all loops."""
    return sum(
        n["Actual Rows"] * n["Actual Loops"] + n.get("Rows Removed by Filter", 0)
        for n in nodes
        if n.get("Relation Name") == "data_table"
    )


def column_group(nodes):
    """The scans of a broad search's column group: those asking that no name holds the
    query (the page's rows are then read by key, or, in a small project, by a scan the
    planner finds cheaper)."""
    return [n for n in nodes if "<= 0" in n.get("Filter", "")]


def windy(user, count, letter="T"):
    """A project of `count` tables named `letter` and a number, each with one column,
    "Zephyr speed" (by SQL)."""
    project = projects.create_project(user, f"Windy {count}")
    database.execute_sql(
        "INSERT INTO data_table (project_id, name, table_name, created_by_id)"
        " SELECT %s, %s || lpad(i::text, 5, '0'), lower(%s) || lpad(i::text, 5, '0'), %s"
        " FROM generate_series(1, %s) i",
        (str(project.id), letter, letter, str(user.id), count),
    )
    database.execute_sql(
        "INSERT INTO data_field (table_id, name, field_name, data_type, sort_order)"
        " SELECT t.id, 'Zephyr speed', 'zephyr_speed', 'text', 1"
        " FROM data_table t WHERE t.project_id = %s",
        (str(project.id),),
    )
    return project


def test_a_broad_search_by_a_column_reads_a_page_of_tables_whatever_the_project(
    alice, raw, database_url
):
    """A query that every table matches by a column only (the columns of every table named
    alike) walks the tables in name order and stops at a page: the rows its column group
    reads, and all that a page after the first reads, are the same at 5,000 and 15,000
    tables, where sorting every match read them all. (The first page also reads the
    project's tables' names, for the better groups, which this test does not count. In a
    project of a few thousand tables the planner may find reading them all cheaper.)"""
    walked, later = {}, {}
    # The second project's names sort before the first's: with two projects alone in the
    # database the planner may walk the index of every project's names (data_table_name),
    # and names alike in both made it read the other's rows too (flaky, 2 runs in 3).
    for count, letter in ((5000, "W"), (15000, "T")):
        project = windy(alice, count, letter)
        with contextlib.closing(psycopg2.connect(database_url)) as admin, admin:
            admin.cursor().execute("ANALYZE data_table")  # as a server's autovacuum would
        with statements() as sent:
            first, after = table_list.list_tables(project.id, "zephyr", limit=10)
        assert [t.name for t in first] == [f"{letter}{i:05d}" for i in range(1, 11)]
        assert [t.matched_field for t in first] == ["Zephyr speed"] * 10
        assert after == f"4:{letter}00010"
        statement = next(s for s in sent if "heads" in s[0])
        walked[count] = data_table_reads(column_group(explained(raw(alice), statement)))
        with statements() as sent:
            second, after = table_list.list_tables(project.id, "zephyr", after=after, limit=10)
        assert [t.name for t in second] == [f"{letter}{i:05d}" for i in range(11, 21)]
        assert after == f"4:{letter}00020"
        statement = next(s for s in sent if 'FROM "data_table"' in s[0] and "strpos" in s[0])
        nodes = explained(raw(alice), statement)
        later[count] = data_table_reads(column_group(nodes))
        # Nothing reads the tables for the better groups: the cursor is past them.
        assert not [n for n in nodes if "> 0) OR" in n.get("Filter", "")], nodes
    assert walked[5000] == walked[15000] == 11, walked
    assert later[5000] == later[15000] == 11, later


def names_found(cursor, project, needle, shown=("draft", "active", "deprecated", "deleted")):
    """The ids migration 0051's rls_search_names answers, from the start."""
    cursor.execute(
        "SELECT * FROM rls_search_names(%s, %s, %s::text[], NULL, NULL, 100)",
        (str(project.id), needle, list(shown)),
    )
    return {str(row[0]) for row in cursor.fetchall()}


def test_the_names_function_answers_members_only(world, raw):
    """rls_search_names answers a member of the project, a viewer too, and no one else."""
    shop, other = world["shop"], world["other"]
    mine = {str(world["Shop"].id)}
    assert names_found(raw(world["alice"]), shop, "winds") == mine
    assert names_found(raw(world["carol"]), shop, "winds") == mine
    assert names_found(raw(world["bob"]), other, "winds") == {str(world["Other"].id)}
    assert len(names_found(raw(world["alice"]), shop, "plain")) == OTHERS
    assert names_found(raw(world["alice"]), shop, "plain", shown=["active"]) == set()
    for user, project in ((world["bob"], shop), (world["alice"], other), (None, shop)):
        assert names_found(raw(user), project, "winds") == set()
        assert names_found(raw(user), project, "plain") == set()
    missing = type("P", (), {"id": uuid.uuid4()})
    assert names_found(raw(world["bob"]), missing, "winds") == set()


@pytest.mark.parametrize("needle", ["%", "_", "'; --", "\\", "z" * 10_000, "\n\n\n", "", None])
def test_no_needle_makes_another_projects_names_speak(world, raw, needle):
    """Whatever is searched for, from wherever, another project's names answer nothing and
    raise nothing."""
    cursor = raw(world["bob"])
    assert names_found(cursor, world["shop"], needle) == set()
    cursor.execute(
        "SELECT * FROM rls_search_names(%s, 'plain', NULL, 9, %s, NULL)",
        (str(world["shop"].id), needle),
    )
    assert cursor.fetchall() == []


def test_the_app_role_reads_and_writes_no_name(world, raw, database_url):
    """search_name is the owner's alone, as search_gram is."""
    with contextlib.closing(psycopg2.connect(database_url)) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_name")
        assert cursor.fetchone()[0] == 2 * (OTHERS + 1)
    refusals = []
    for user in (world["alice"], world["bob"], None):
        cursor = raw(user)
        cursor.execute("SELECT count(*) FROM search_name")
        assert cursor.fetchone()[0] == 0
        cursor.execute("UPDATE search_name SET name_lower = 'x'")
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM search_name")
        assert cursor.rowcount == 0
        for table_id in (world["Shop"].id, world["Other"].id, uuid.uuid4()):
            with pytest.raises(errors.InsufficientPrivilege) as refused:
                cursor.execute(
                    "INSERT INTO search_name VALUES (%s, %s, 'draft', 'x', 'x', 'x', 'x')",
                    (str(table_id), str(world["shop"].id)),
                )
            refusals.append(str(refused.value).split("\n")[0])
    assert len(set(refusals)) == 1, refusals
    with pytest.raises(errors.InsufficientPrivilege):
        raw(world["bob"]).execute("SELECT search_name_write()")


def test_names_follow_the_table(world, database_url, monkeypatch):
    """A renamed table, a new description, a new status, a deleted table: search_name
    follows, and a broad search (as past INDEXED_MATCHES) finds what the tables now say."""
    alice, shop = world["alice"], world["shop"]
    monkeypatch.setattr(table_list, "INDEXED_MATCHES", 0)

    def found(needle, status=""):
        return [t.name for t in table_list.list_tables(shop.id, needle, status)[0]]

    table = tables.create_table(alice, shop.id, "Monsoon log")
    assert found("monsoon") == ["Monsoon log"]
    table = tables.update_table(alice, table.id, table.revision, name="Typhoon log")
    assert found("typhoon") == ["Typhoon log"]
    table = tables.update_table(alice, table.id, table.revision, description="Big RAIN")
    assert found("big rain") == ["Typhoon log"]
    table = tables.update_table(alice, table.id, table.revision, table_name="squall")
    assert found("squall") == ["Typhoon log"] and found("monsoon") == []
    with contextlib.closing(psycopg2.connect(database_url)) as admin, admin:
        admin.cursor().execute(
            "UPDATE data_table SET status = 'deprecated' WHERE id = %s", (str(table.id),)
        )
    assert found("typhoon", "deprecated") == ["Typhoon log"] and found("typhoon", "draft") == []
    with contextlib.closing(psycopg2.connect(database_url)) as admin, admin:
        admin.cursor().execute("DELETE FROM data_table WHERE id = %s", (str(table.id),))
        cursor = admin.cursor()
        cursor.execute("SELECT count(*) FROM search_name WHERE table_id = %s", (str(table.id),))
        assert cursor.fetchone()[0] == 0


def parcels(user, count):
    """A project of `count` tables named "Parcel 00001"... (by SQL)."""
    project = projects.create_project(user, f"Parcels {count}")
    database.execute_sql(
        "INSERT INTO data_table (project_id, name, table_name, created_by_id)"
        " SELECT %s, 'Parcel ' || lpad(i::text, 5, '0'), 'parcel_' || lpad(i::text, 5, '0'), %s"
        " FROM generate_series(1, %s) i",
        (str(project.id), str(user.id), count),
    )
    return project


def test_a_broad_search_by_name_reads_a_page_of_tables_whatever_the_project(
    alice, raw, database_url
):
    """A query that every table's name holds reads, for its first page, the tables of that
    page by key (migration 0051's search_name names them): as many rows of data_table at
    5,000 tables as at 15,000, where ranking the names read all of them."""
    reads = {}
    for count in (5000, 15000):
        project = parcels(alice, count)
        with contextlib.closing(psycopg2.connect(database_url)) as admin, admin:
            admin.cursor().execute("ANALYZE data_table")  # as a server's autovacuum would
        with statements() as sent:
            first, after = table_list.list_tables(project.id, "parcel", limit=10)
        assert [t.name for t in first] == [f"Parcel {i:05d}" for i in range(1, 11)]
        assert after == "1:Parcel 00010"
        statement = next(s for s in sent if "heads" in s[0])
        reads[count] = data_table_reads(explained(raw(alice), statement))
        second, _ = table_list.list_tables(project.id, "parcel", after=after, limit=10)
        assert [t.name for t in second] == [f"Parcel {i:05d}" for i in range(11, 21)]
    assert reads[5000] == reads[15000] < 50, reads
