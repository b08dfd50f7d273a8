"""Whether any of some ids already names a table, field or relationship, whoever's it is.

A JSON export keeps its ids, so importing it back where they are free gives back its
snapshot hash; where they are taken, the import gives new ones. Row-level security hides
other people's rows, so a check run as the user found their ids free, and the import then
failed at confirm on the primary key, every time. This SECURITY DEFINER function answers
for ids the caller already holds (a file's), with one boolean and nothing else. The three
read policies let only the owner's definer functions (rls_definer) see every row.
"""

CREATE = """
CREATE FUNCTION rls_ids_in_use(ids uuid[]) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ BEGIN
    RETURN EXISTS (SELECT 1 FROM data_table t WHERE t.id = ANY (ids))
        OR EXISTS (SELECT 1 FROM data_field f WHERE f.id = ANY (ids))
        OR EXISTS (SELECT 1 FROM table_relationship r WHERE r.id = ANY (ids));
END $$"""
TABLES = ("data_table", "data_field", "table_relationship")


def up(migrator, db):
    db.execute_sql(CREATE)
    for table in TABLES:
        db.execute_sql(
            f"CREATE POLICY {table}_read_definer ON {table} FOR SELECT USING (rls_definer())"
        )


def down(migrator, db):
    for table in TABLES:
        db.execute_sql(f"DROP POLICY {table}_read_definer ON {table}")
    db.execute_sql("DROP FUNCTION rls_ids_in_use(uuid[])")
