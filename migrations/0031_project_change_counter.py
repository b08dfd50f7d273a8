"""A counter per project that every change to its design or its feed moves (issue #27).

Open pages poll whether the project changed, and caches of built answers (working copies,
plans, the diagram) are kept against the same stamp. It was an aggregate over every table of
the project (count, sum of revisions and timestamps, and the feed's): 427 ms a poll at
30,000 tables. Now triggers move project_change.counter in the transaction that changes a
table, a field, a relationship, an enum or the feed, so reading the stamp is one row.

The triggers are deferred constraint triggers: they run at commit, after every other row the
transaction locks, so taking the counter's row lock last cannot deadlock two transactions
editing different tables, and it is held only while the commit ends. A transaction moves
the counter once per project (a transaction-local setting remembers the project it last
moved), however many rows it writes: an import of thousands of fields costs one update.
Each project gets its counter row when it is created; a project deleted in the same
transaction has none left to move. The functions are the owner's definers (rls_definer):
a change by someone whose membership ends in the same transaction still moves the counter.
"""

COUNTER = """
CREATE TABLE project_change (
    project_id uuid PRIMARY KEY REFERENCES project (id) ON DELETE CASCADE,
    counter bigint NOT NULL DEFAULT 0
)"""

COUNTED = """
CREATE FUNCTION project_counted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$ BEGIN
    INSERT INTO project_change (project_id) VALUES (NEW.id);
    RETURN NULL;
END $$"""

# Names are schema-qualified rather than pinned by SET search_path, which would cost every
# row a configuration change (as rls_projects, migration 0009).
MOVE = """
CREATE FUNCTION project_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    changed uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.project_id ELSE NEW.project_id END;
BEGIN
    IF changed IS NULL
       OR current_setting('designer.changed_project', true) = changed::text THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('designer.changed_project', changed::text, true);
    UPDATE public.project_change SET counter = counter + 1 WHERE project_id = changed;
    RETURN NULL;
END $$"""

WATCHED = ("data_table", "data_field", "table_relationship", "project_enum", "activity_entry")


def trigger(table):
    return (
        f"CREATE CONSTRAINT TRIGGER {table}_project_changed"
        f" AFTER INSERT OR UPDATE OR DELETE ON {table}"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION project_changed()"
    )


def up(migrator, db):
    db.execute_sql(COUNTER)
    # Before its policies: FORCE would bind the owner running this migration.
    db.execute_sql("INSERT INTO project_change (project_id) SELECT id FROM project")
    # Members read it; only the definer functions write it.
    db.execute_sql("SELECT rls_protect('project_change', 'project_id', 'owner', true)")
    db.execute_sql(COUNTED)
    db.execute_sql(
        "CREATE TRIGGER project_counted AFTER INSERT ON project"
        " FOR EACH ROW EXECUTE FUNCTION project_counted()"
    )
    db.execute_sql(MOVE)
    for table in WATCHED:
        db.execute_sql(trigger(table))


def down(migrator, db):
    for table in WATCHED:
        db.execute_sql(f"DROP TRIGGER {table}_project_changed ON {table}")
    db.execute_sql("DROP TRIGGER project_counted ON project")
    db.execute_sql("DROP FUNCTION project_changed()")
    db.execute_sql("DROP FUNCTION project_counted()")
    db.execute_sql("DROP TABLE project_change")
