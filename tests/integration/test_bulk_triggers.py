"""Statements changing many tables cost the working_part triggers a fixed number of function
calls, however many tables they change (migration 0037): the parts are written by one
set-based statement, each distinct jsonb text is made canonical once, and a change to the
tables' own rows keeps their parts' fields and unchanged structures as they are."""

import json
import threading

import psycopg2

from designer import projects
from designer.db import database
from designer.design import fields
from designer.design import tables
from tests.integration.test_working_parts import assert_kept_as_computed
from tests.integration.test_working_parts import kept_parts

# Per table: three fields whose configs repeat from table to table (one nested).
TABLES = """
INSERT INTO data_table (project_id, name, table_name, schema_definition)
SELECT %(project)s, 'T' || i, 't' || i,
       CASE WHEN %(structure)s THEN jsonb_build_object('structure', jsonb_build_object(
           'checks', jsonb_build_object('c' || i, jsonb_build_object(
               'id', 'c' || i, 'name', NULL, 'expression', 'n > ' || i, 'comment', NULL))))
       ELSE '{}' END
FROM generate_series(1, %(count)s) i
"""
FIELDS = """
INSERT INTO data_field (table_id, name, field_name, data_type, sort_order, field_config)
SELECT t.id, 'F' || j, 'f' || j, 'text', j,
       (ARRAY['{"max_length": "120"}', '{"number_type": "integer", "min": "0"}',
              '{"b": [1, {"a": null}], "aa": 2}'])[j]::jsonb
FROM data_table t CROSS JOIN generate_series(1, 3) j WHERE t.project_id = %(project)s
"""
# Statements as the app and the benches run them on a whole design.
BULK = {
    "status": "UPDATE data_table SET status = 'active', revision = revision + 1"
    " WHERE project_id = %(project)s",
    "description": "UPDATE data_table SET description = 'about ' || name"
    " WHERE project_id = %(project)s",
    "field": "UPDATE data_field SET name = name || '.' WHERE project_id = %(project)s"
    " AND sort_order = 2",
    "more fields": FIELDS.replace(
        "'F' || j, 'f' || j, 'text', j", "'G' || j, 'g' || j, 'text', j + 3"
    ),
    "drop fields": "DELETE FROM data_field WHERE project_id = %(project)s AND sort_order = 3",
}
WATCHED = "SELECT funcname, calls FROM pg_stat_xact_user_functions"
# Row triggers by design: project_changed (a deferred constraint trigger, one counter update
# per transaction), the one filling in a new row's project (migration 0009) and data_table's
# own search_text (migration 0013: a row's text when its names change, by search_text_of),
# and the trigrams of each text that changed (migration 0047: search_grams, one text each).
PER_ROW = {"project_changed", "rls_fill_project", "data_table_search_text", "search_grams"}
STALE_TEXTS = """
SELECT count(*) FROM data_table WHERE project_id = %s
AND search_text IS DISTINCT FROM search_text_of(id, name, table_name, description)
"""


def design(user, count, structure=False):
    project = projects.create_project(user, f"P{count}")
    values = {"project": str(project.id), "count": count, "structure": structure}
    database.execute_sql(TABLES, values)
    database.execute_sql(FIELDS, values)
    return project


def calls(project, statement):
    """{function: calls} of one statement's triggers (rolled back)."""
    with database.atomic() as transaction:
        database.execute_sql("SET LOCAL track_functions = 'all'")
        # (Counts not yet reported since earlier transactions are in it: only the
        # difference is this statement's.)
        before = dict(database.execute_sql(WATCHED).fetchall())
        database.execute_sql(statement, {"project": str(project.id)})
        database.execute_sql("SET CONSTRAINTS ALL IMMEDIATE")
        after = dict(database.execute_sql(WATCHED).fetchall())
        transaction.rollback()
    found = {
        name: n - before.get(name, 0)
        for name, n in after.items()
        if name not in PER_ROW and n != before.get(name, 0)
    }
    if "data_table_search_text" in after:
        found.pop("search_text_of", None)  # (data_table's row trigger's)
    return found


def test_a_statement_changing_many_tables_calls_as_few_functions_as_one_changing_few(alice):
    for structure in (False, True):
        few, many = design(alice, 3, structure), design(alice, 60, structure)
        for label, statement in BULK.items():
            assert calls(many, statement) == calls(few, statement), (label, structure)
            for project in (few, many):  # (the next statement meets the same designs)
                database.execute_sql(statement, {"project": str(project.id)})
            assert_kept_as_computed(many.id)
            assert database.execute_sql(STALE_TEXTS, (str(many.id),)).fetchone() == (0,), label


def test_a_status_change_keeps_the_fields_and_structure_without_making_them_again(alice):
    project = design(alice, 40, structure=True)
    made = calls(project, BULK["status"])
    # The trigger and its writer, once each: no canonical_jsonb (structure, field_config);
    # the grams' statement trigger once, which finds no text changed, and the names' once.
    assert made == {
        "working_part_of_tables": 1,
        "working_tables_put": 1,
        "search_gram_write": 1,
        "search_name_write": 1,
    }
    database.execute_sql(BULK["status"], {"project": str(project.id)})
    assert_kept_as_computed(project.id)
    assert {json.loads(body)["status"] for _, _, body, _ in kept_parts(project.id).values()} == {
        "active"
    }


def test_a_structure_changed_in_a_bulk_statement_is_made_anew(alice):
    project = design(alice, 5, structure=True)
    # Equal as jsonb, not as text: the part must follow the text (1.0 is left to Python).
    database.execute_sql(
        "UPDATE data_table SET schema_definition = jsonb_set(schema_definition,"
        " '{structure,extra}', %s::jsonb) WHERE project_id = %s",
        ("1", str(project.id)),
    )
    assert_kept_as_computed(project.id)
    database.execute_sql(
        "UPDATE data_table SET schema_definition = jsonb_set(schema_definition,"
        " '{structure,extra}', %s::jsonb) WHERE project_id = %s",
        ("1.0", str(project.id)),
    )
    assert_kept_as_computed(project.id)
    assert all(row[3] is None for row in kept_parts(project.id).values())


def test_a_status_change_waiting_for_a_field_change_keeps_that_field_change(alice, database_url):
    """The status change takes the part's fields as the part holds them: it locks the part
    first, so it reads the part the field change wrote once that one commits."""
    project = projects.create_project(alice, "P")
    table = tables.create_table(alice, project.id, "T")
    one = fields.create_field(alice, table.id, {"name": "One"})
    first, second = psycopg2.connect(database_url), psycopg2.connect(database_url)
    try:
        first.cursor().execute(
            "UPDATE data_field SET default_value = 'First' WHERE id = %s", (str(one.id),)
        )
        waiting = threading.Thread(
            target=lambda: (
                second.cursor().execute(
                    "UPDATE data_table SET status = 'active' WHERE id = %s", (str(table.id),)
                ),
                second.commit(),
            )
        )
        waiting.start()
        waiting.join(1.0)
        assert waiting.is_alive(), "the status change did not wait for the field change"
        first.commit()
        waiting.join(10)
        assert not waiting.is_alive()
    finally:
        first.close()
        second.close()
    part = json.loads(kept_parts(project.id)[("tables", str(table.id))][2])
    assert part["status"] == "active"
    assert part["fields"][str(one.id)]["default_value"] == "First"
    assert_kept_as_computed(project.id)
