"""data_field's search_text trigger (migration 0013) writes the texts of all the tables a
statement changed in one set-based statement (issue #27), and only those that differ.

It called search_text_of once per table, each reading that table's columns on its own: a
statement renaming a column of each of 3,000 tables spent 2 s there, and with no statistics
yet on data_field (a seed or an import into a new database) each call could scan every
column of the database, quadratic in a bulk insert. Now the columns of all the tables are
read and aggregated in one statement, with the same text search_text_of makes, and a table
whose text is unchanged is not updated (the update woke data_table's own triggers for each
row: project_changed and working_part's).
"""

import importlib.util
import pathlib

# search_text_of (migration 0013) for every table in `ids` at once.
WRITE = r"""
CREATE FUNCTION search_texts_write(ids uuid[]) RETURNS void
LANGUAGE plpgsql SET work_mem = '64MB' AS $$ BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    UPDATE public.data_table t
        SET search_text = s.text
        FROM (
            SELECT d.id, lower(concat_ws(E'\n', d.name, d.table_name, nullif(d.description, ''),
                                         c.text)) AS text
            FROM public.data_table d
            LEFT JOIN (
                SELECT f.table_id,
                       string_agg(concat_ws(E'\n', f.name, f.field_name,
                                            nullif(f.field_config ->> 'description', '')),
                                  E'\n' ORDER BY f.sort_order) AS text
                FROM public.data_field f WHERE f.table_id IN (SELECT unnest(ids))
                GROUP BY f.table_id) c ON c.table_id = d.id
            WHERE d.id IN (SELECT unnest(ids))) s
        WHERE t.id = s.id AND t.search_text IS DISTINCT FROM s.text;
END $$"""

COLUMNS_TEXT = """
CREATE OR REPLACE FUNCTION data_field_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.search_texts_write(ARRAY(SELECT DISTINCT table_id FROM added));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.search_texts_write(ARRAY(SELECT DISTINCT table_id FROM removed));
    ELSE
        -- A reorder or a revision bump leaves what a search finds as it was.
        PERFORM public.search_texts_write(ARRAY(
            SELECT DISTINCT unnest(ARRAY[n.table_id, o.table_id])
            FROM added n JOIN removed o ON o.id = n.id
            WHERE (n.name, n.field_name, n.field_config ->> 'description', n.table_id)
                  IS DISTINCT FROM (o.name, o.field_name, o.field_config ->> 'description',
                                    o.table_id)));
    END IF;
    RETURN NULL;
END $$"""


def first():
    """Migration 0013's module (the trigger function as it wrote it)."""
    path = pathlib.Path(__file__).with_name("0013_table_search_text.py")
    spec = importlib.util.spec_from_file_location("table_search_text_0013", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def up(migrator, db):
    db.execute_sql(WRITE)
    db.execute_sql(COLUMNS_TEXT)


def down(migrator, db):
    old = first().COLUMNS_TEXT.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    db.execute_sql(old)
    db.execute_sql("DROP FUNCTION search_texts_write(uuid[])")
