"""A broad search's best matches read from a narrow table, not from the project's tables
(issue #27).

A search that matches too many tables for the trigram index (migration 0047) to name them
reads its best groups (search ranks 0-3: a table's name, table name or description holds
the query) from the project's tables: every row of data_table, schema_definition inline,
83 MB at 30,000 tables, to rank a few. search_name holds, for each table, only what those
groups ask of it: its project, status and name, and its name, table name and description
lower-cased, a few MB at 30,000 tables. rls_search_names(project, needle, shown, after_rank,
after_name, cap) answers the ids of the project's tables of those groups, in the order a
search shows them (rank, then name), after a cursor and `cap` of them at most. The caller
then reads those ids under its own policies and ranks them itself.

The wall is search_gram's (migration 0047): row-level security on with no policy and not
forced, so the app role reads and writes none of its rows; only the owner's SECURITY DEFINER
functions do: the trigger keeping it, and rls_search_names, which answers nothing unless
`project` is one of the caller's (rls_projects, as the policies ask). It returns ids alone,
raises no error that depends on a row, and pins its search_path.
"""

TABLE = """
CREATE TABLE search_name (
    table_id uuid PRIMARY KEY REFERENCES data_table (id) ON DELETE CASCADE,
    project_id uuid NOT NULL,
    status text NOT NULL,
    name text NOT NULL,
    name_lower text NOT NULL,
    table_name_lower text NOT NULL,
    description_lower text NOT NULL
)"""

# What the tables a statement wrote now say. Runs as the owner: the app role cannot touch
# search_name's rows.
WRITE = """
CREATE FUNCTION search_name_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$ BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.search_name (table_id, project_id, status, name, name_lower,
                                        table_name_lower, description_lower)
            SELECT n.id, n.project_id, n.status, n.name, lower(n.name), lower(n.table_name),
                   lower(n.description)
            FROM added n
            ON CONFLICT (table_id) DO UPDATE SET project_id = excluded.project_id,
                status = excluded.status, name = excluded.name,
                name_lower = excluded.name_lower, table_name_lower = excluded.table_name_lower,
                description_lower = excluded.description_lower;
    ELSE
        UPDATE public.search_name s SET project_id = n.project_id, status = n.status,
                name = n.name, name_lower = lower(n.name),
                table_name_lower = lower(n.table_name), description_lower = lower(n.description)
            FROM added n JOIN removed o ON o.id = n.id
            WHERE s.table_id = n.id
              AND (n.project_id, n.status, n.name, n.table_name, n.description)
                  IS DISTINCT FROM (o.project_id, o.status, o.name, o.table_name, o.description);
    END IF;
    RETURN NULL;
END $$"""

TRIGGERS = [
    "CREATE TRIGGER data_table_search_name_added AFTER INSERT ON data_table"
    " REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION search_name_write()",
    "CREATE TRIGGER data_table_search_name_changed AFTER UPDATE ON data_table"
    " REFERENCING NEW TABLE AS added OLD TABLE AS removed"
    " FOR EACH STATEMENT EXECUTE FUNCTION search_name_write()",
]

# The ids of `project`'s tables of a status in `shown` whose name, table name or description
# holds `needle` (lower-cased as the columns are), by search rank (designer/design/table_list:
# search_rank) and name, after (after_rank, after_name) when after_rank is not null, `cap` of
# them at most. Nothing unless the caller may read `project`, or is logged in as a role that
# bypasses row-level security (session_user: an app role cannot change it).
SEARCH = """
CREATE FUNCTION rls_search_names(project uuid, needle text, shown text[], after_rank integer,
                                 after_name text, cap integer)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT m.table_id FROM (
        SELECT s.table_id, s.name,
               CASE WHEN s.name_lower = needle OR s.table_name_lower = needle THEN 0
                    WHEN starts_with(s.name_lower, needle)
                         OR starts_with(s.table_name_lower, needle) THEN 1
                    WHEN strpos(s.name_lower, needle) > 0
                         OR strpos(s.table_name_lower, needle) > 0 THEN 2
                    ELSE 3 END AS rank
        FROM public.search_name s
        WHERE s.project_id = project
          AND s.status = ANY (shown)
          AND (strpos(s.name_lower, needle) > 0 OR strpos(s.table_name_lower, needle) > 0
               OR strpos(s.description_lower, needle) > 0)
          AND (project = ANY (public.rls_projects(0))
               -- A login that bypasses row-level security (a superuser's) sees every row.
               OR EXISTS (SELECT FROM pg_roles r WHERE r.rolname = session_user
                          AND (r.rolsuper OR r.rolbypassrls)))
    ) m
    WHERE after_rank IS NULL OR (m.rank, m.name) > (after_rank, after_name)
    ORDER BY m.rank, m.name
    LIMIT cap
$$"""


def up(migrator, db):
    for statement in (TABLE, WRITE, *TRIGGERS, SEARCH):
        db.execute_sql(statement)
    # Only the owner's definer functions reach its rows (see above).
    db.execute_sql("ALTER TABLE search_name ENABLE ROW LEVEL SECURITY")
    db.execute_sql("REVOKE EXECUTE ON FUNCTION search_name_write() FROM PUBLIC")
    db.execute_sql(
        "INSERT INTO search_name (table_id, project_id, status, name, name_lower,"
        " table_name_lower, description_lower)"
        " SELECT id, project_id, status, name, lower(name), lower(table_name), lower(description)"
        " FROM data_table"
    )
    db.execute_sql("CREATE INDEX search_name_project ON search_name (project_id)")


def down(migrator, db):
    db.execute_sql("DROP FUNCTION rls_search_names(uuid, text, text[], integer, text, integer)")
    db.execute_sql("DROP TRIGGER data_table_search_name_added ON data_table")
    db.execute_sql("DROP TRIGGER data_table_search_name_changed ON data_table")
    db.execute_sql("DROP TABLE search_name")
    db.execute_sql("DROP FUNCTION search_name_write()")
