"""What a table search looks in, kept on the table: data_table.search_text.

Searching a project's tables matches their names, table names and descriptions and those of
their columns. Asked of data_field, that read every column of every project the user sees
(63,000 rows at 3,000 tables, 190-380 ms). A pg_trgm GIN index does not help here: under
row-level security PostgreSQL applies no user condition before the policies unless it is
leakproof, and ILIKE is not, so the planner never uses such an index for the app's role
(EXPLAIN showed a sequential scan with the index in place). So each table carries the
lower-cased text of itself and its columns, kept by triggers, and a search reads only the
project's own tables, through the (project_id, name) index the policies allow.
"""

# Lines: the table's name, table name and description, then each column's.
TEXT_OF = """
CREATE FUNCTION search_text_of(tbl uuid, name text, table_name text, description text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT lower(concat_ws(E'\\n', name, table_name, nullif(description, ''),
        (SELECT string_agg(concat_ws(E'\\n', f.name, f.field_name,
                                     nullif(f.field_config ->> 'description', '')),
                           E'\\n' ORDER BY f.sort_order)
         FROM public.data_field f WHERE f.table_id = tbl)))
$$"""

OWN_TEXT = """
CREATE FUNCTION data_table_search_text() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    NEW.search_text := public.search_text_of(NEW.id, NEW.name, NEW.table_name, NEW.description);
    RETURN NEW;
END $$"""

# One statement's changed columns, whatever their number (imports insert thousands at once).
COLUMNS_TEXT = """
CREATE FUNCTION data_field_search_text() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE public.data_table t
            SET search_text = public.search_text_of(t.id, t.name, t.table_name, t.description)
            WHERE t.id IN (SELECT table_id FROM added);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE public.data_table t
            SET search_text = public.search_text_of(t.id, t.name, t.table_name, t.description)
            WHERE t.id IN (SELECT table_id FROM removed);
    ELSE
        -- A reorder or a revision bump leaves what a search finds as it was.
        UPDATE public.data_table t
            SET search_text = public.search_text_of(t.id, t.name, t.table_name, t.description)
            WHERE t.id IN (SELECT unnest(ARRAY[n.table_id, o.table_id])
                           FROM added n JOIN removed o ON o.id = n.id
                           WHERE (n.name, n.field_name, n.field_config ->> 'description',
                                  n.table_id)
                                 IS DISTINCT FROM (o.name, o.field_name,
                                  o.field_config ->> 'description', o.table_id));
    END IF;
    RETURN NULL;
END $$"""

TRIGGERS = [
    "CREATE TRIGGER data_table_search_text BEFORE INSERT OR UPDATE OF name, table_name,"
    " description ON data_table FOR EACH ROW EXECUTE FUNCTION data_table_search_text()",
    "CREATE TRIGGER data_field_search_text_added AFTER INSERT ON data_field"
    " REFERENCING NEW TABLE AS added"
    " FOR EACH STATEMENT EXECUTE FUNCTION data_field_search_text()",
    "CREATE TRIGGER data_field_search_text_removed AFTER DELETE ON data_field"
    " REFERENCING OLD TABLE AS removed"
    " FOR EACH STATEMENT EXECUTE FUNCTION data_field_search_text()",
    "CREATE TRIGGER data_field_search_text_changed AFTER UPDATE ON data_field"
    " REFERENCING NEW TABLE AS added OLD TABLE AS removed"
    " FOR EACH STATEMENT EXECUTE FUNCTION data_field_search_text()",
]


def up(migrator, db):
    db.execute_sql("ALTER TABLE data_table ADD COLUMN search_text text NOT NULL DEFAULT ''")
    for statement in (TEXT_OF, OWN_TEXT, COLUMNS_TEXT, *TRIGGERS):
        db.execute_sql(statement)
    db.execute_sql(
        "UPDATE data_table SET search_text = search_text_of(id, name, table_name, description)"
    )


def down(migrator, db):
    for trigger, table in (
        ("data_table_search_text", "data_table"),
        ("data_field_search_text_added", "data_field"),
        ("data_field_search_text_removed", "data_field"),
        ("data_field_search_text_changed", "data_field"),
    ):
        db.execute_sql(f"DROP TRIGGER {trigger} ON {table}")
    db.execute_sql("DROP FUNCTION data_field_search_text()")
    db.execute_sql("DROP FUNCTION data_table_search_text()")
    db.execute_sql("DROP FUNCTION search_text_of(uuid, text, text, text)")
    db.execute_sql("ALTER TABLE data_table DROP COLUMN search_text")
