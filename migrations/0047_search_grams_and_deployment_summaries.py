"""Table searches served by an index under row-level security, and deployment listings that
do not read plans (issue #27).

Searches. A search matches a table when its search_text (migrations 0013, 0038) contains
the lower-cased query. Under row-level security PostgreSQL applies a condition that is not
leakproof (strpos, ILIKE, lower()) only after the policies', so no index can serve it: each
search read all of a project's tables (30,000 rows, 108-271 ms). pg_trgm is not in every
server the designer runs on (not in the embedded one), so the trigrams are kept here:
search_gram holds, for each table, the distinct trigrams of its search_text as integers
(search_grams), with a GIN index, and rls_search_tables(project, needle, cap) answers the ids of
the project's tables whose text has every trigram of `needle`: a superset of those whose
text contains it, which the caller's own query then checks (strpos) under the policies.
A search that may match more than a thousand tables reads the project's tables instead.

The wall: search_gram has row-level security on with no policy and not forced, so the app
role (whatever it is granted) reads and writes none of its rows; only the owner does, in its
SECURITY DEFINER functions: the trigger keeping it, and rls_search_tables, which answers
nothing unless `project` is one of the caller's (rls_projects, as the policies ask) and only
that project's tables, through data_table's own policies (rls_definer). It returns ids alone,
raises no error that depends on a row, and pins its search_path (its operators are
pg_catalog's, never a caller's). The caller then reads the rows under its own policies.

Deployments. A listing showed each deployment's step count and the names of the tables its
steps changed, read from its plan (jsonb, megabytes at 3,000 tables, read whole per row:
api.list_deployments 564 ms). A trigger now keeps step_count, table_count and the first
three names (as the tables were named when it was recorded) on the row.
"""

# The distinct trigrams of `body`, each three characters' code points folded into an int
# (two trigrams may share one: the index then finds a superset, which strpos checks).
GRAMS = r"""
CREATE FUNCTION search_grams(body text) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT mod((c[i]::bigint * 1114112 + c[i + 1]) * 1114112
                                           + c[i + 2], 2147483647)::integer), '{}')
    FROM (SELECT ARRAY(SELECT pg_catalog.ascii(ch)
                       FROM unnest(pg_catalog.string_to_array(body, NULL)) ch) AS c) chars,
         generate_series(1, cardinality(c) - 2) i
$$"""

TABLE = """
CREATE TABLE search_gram (
    table_id uuid PRIMARY KEY REFERENCES data_table (id) ON DELETE CASCADE,
    grams integer[] NOT NULL
)"""

# The tables a statement gave a new search_text (a table's own trigger, 0013, writes it on
# insert; data_field's, 0038, on update). Runs as the owner: the app role cannot touch
# search_gram's rows.
WRITE = """
CREATE FUNCTION search_gram_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$ BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.search_gram (table_id, grams)
            SELECT n.id, public.search_grams(n.search_text) FROM added n
            ON CONFLICT (table_id) DO UPDATE SET grams = excluded.grams;
    ELSE
        UPDATE public.search_gram g SET grams = public.search_grams(n.search_text)
            FROM added n JOIN removed o ON o.id = n.id
            WHERE g.table_id = n.id AND n.search_text IS DISTINCT FROM o.search_text;
    END IF;
    RETURN NULL;
END $$"""

TRIGGERS = [
    "CREATE TRIGGER data_table_search_gram_added AFTER INSERT ON data_table"
    " REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION search_gram_write()",
    "CREATE TRIGGER data_table_search_gram_changed AFTER UPDATE ON data_table"
    " REFERENCING NEW TABLE AS added OLD TABLE AS removed"
    " FOR EACH STATEMENT EXECUTE FUNCTION search_gram_write()",
]

# The ids of `project`'s tables whose search_text has every trigram of `needle` (lower-cased
# as search_text is; three characters or more: shorter has no trigram, and every table would
# be answered), `cap` of them at most. Nothing unless the caller may read `project`, or is
# logged in as a role that bypasses row-level security (session_user: an app role cannot
# change it).
SEARCH = """
CREATE FUNCTION rls_search_tables(project uuid, needle text, cap integer)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT g.table_id
    FROM public.search_gram g
    JOIN public.data_table t ON t.id = g.table_id
    WHERE g.grams @> public.search_grams(needle)
      AND char_length(needle) >= 3
      AND t.project_id = project
      AND (project = ANY (public.rls_projects(0))
           -- A login that bypasses row-level security (a superuser's) sees every row anyway.
           OR EXISTS (SELECT FROM pg_roles r WHERE r.rolname = session_user
                      AND (r.rolsuper OR r.rolbypassrls)))
    LIMIT cap
$$"""

DEPLOYMENT_COLUMNS = [
    "ALTER TABLE deployment ADD COLUMN step_count integer NOT NULL DEFAULT 0",
    "ALTER TABLE deployment ADD COLUMN table_count integer NOT NULL DEFAULT 0",
    "ALTER TABLE deployment ADD COLUMN table_names text[] NOT NULL DEFAULT '{}'",
]

# What a listing shows of a deployment's plan, kept as it is written (once: a deploy records
# its outcome when it ends). The names are the tables' own, as the caller's policies show.
SUMMARY = r"""
CREATE FUNCTION deployment_summary() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    NEW.step_count := jsonb_array_length(NEW.plan);
    SELECT count(*), coalesce((array_agg(t.table_name ORDER BY t.table_name))[1:3], '{}')
        INTO NEW.table_count, NEW.table_names
        FROM public.data_table t
        WHERE t.project_id = NEW.project_id AND t.id IN (
            SELECT (s ->> 'table_id')::uuid FROM jsonb_array_elements(NEW.plan) s
            WHERE s ->> 'table_id' ~ '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$');
    RETURN NEW;
END $$"""

SUMMARY_TRIGGER = (
    "CREATE TRIGGER deployment_summary BEFORE INSERT OR UPDATE OF plan ON deployment"
    " FOR EACH ROW EXECUTE FUNCTION deployment_summary()"
)


def up(migrator, db):
    for statement in (GRAMS, TABLE, WRITE, *TRIGGERS, SEARCH):
        db.execute_sql(statement)
    # Only the owner's definer functions reach its rows (see above).
    db.execute_sql("ALTER TABLE search_gram ENABLE ROW LEVEL SECURITY")
    db.execute_sql("REVOKE EXECUTE ON FUNCTION search_gram_write() FROM PUBLIC")
    db.execute_sql(
        "INSERT INTO search_gram (table_id, grams) SELECT id, search_grams(search_text)"
        " FROM data_table"
    )
    # Without a pending list: a search read every row written since the last vacuum (3,000
    # after a bulk insert: 300-400 ms a search until autovacuum came by).
    db.execute_sql(
        "CREATE INDEX search_gram_grams ON search_gram USING gin (grams) WITH (fastupdate = off)"
    )
    for statement in (*DEPLOYMENT_COLUMNS, SUMMARY, SUMMARY_TRIGGER):
        db.execute_sql(statement)
    db.execute_sql("UPDATE deployment SET plan = plan")


def down(migrator, db):
    db.execute_sql("DROP TRIGGER deployment_summary ON deployment")
    db.execute_sql("DROP FUNCTION deployment_summary()")
    for column in ("step_count", "table_count", "table_names"):
        db.execute_sql(f"ALTER TABLE deployment DROP COLUMN {column}")
    db.execute_sql("DROP FUNCTION rls_search_tables(uuid, text, integer)")
    db.execute_sql("DROP TRIGGER data_table_search_gram_added ON data_table")
    db.execute_sql("DROP TRIGGER data_table_search_gram_changed ON data_table")
    db.execute_sql("DROP TABLE search_gram")
    db.execute_sql("DROP FUNCTION search_gram_write()")
    db.execute_sql("DROP FUNCTION search_grams(text)")
