"""Which deploy-target schemas belong to projects the acting user is not a member of.

Row-level security hides other people's projects, so a query for "is this schema another
project's?" run as the user finds nothing and would let an import read someone else's
deployed tables. This SECURITY DEFINER function answers it for names the caller already
sees in the target's catalog, and tells nothing else.
"""

CREATE = """
CREATE FUNCTION rls_schemas_of_others(names text[]) RETURNS text[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ BEGIN
    RETURN (SELECT coalesce(array_agg(p.target_schema::text), '{}') FROM project p
            WHERE p.target_schema = ANY (names)
            AND NOT EXISTS (SELECT 1 FROM project_member m
                            WHERE m.project_id = p.id AND m.user_id = rls_user_id()));
END $$"""


# Inside the owner's definer functions only (rls_definer), every project can be read.
POLICY = "CREATE POLICY project_read_definer ON project FOR SELECT USING (rls_definer())"


def up(migrator, db):
    db.execute_sql(CREATE)
    db.execute_sql(POLICY)


def down(migrator, db):
    db.execute_sql("DROP POLICY project_read_definer ON project")
    db.execute_sql("DROP FUNCTION rls_schemas_of_others(text[])")
