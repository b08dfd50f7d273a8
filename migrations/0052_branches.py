"""Branches and merge requests (issue #28).

A branch is a project of its own (so every page, lock, rule and route of a project works on
it) whose row names the project it branches (`branch_of_id`) and the saved version of that
project it forked from (`fork_version_id`). Its rows have ids of their own; `branch_origin`
maps each id the fork gave to the id it copies, so a branch compares with its main by id.

Membership follows main: forking copies main's members onto the branch, and a trigger
mirrors every later change of main's members onto its branches. Nobody changes a branch's
members directly (the app refuses it, and so does a trigger here for the app's role).

Only an editor of main may fork it (a restrictive policy on project inserts), and a branch
of a branch is refused. Once a branch is merged (`merged_at`), the change counter's trigger
(migration 0031, at commit) refuses every change to its design, after it took the branch's
counter row: a merge holds that row, so an edit committing during a merge waits for it and
is then refused, and an edit that committed first is in the merge whole.

Merge requests, their approvals and comments belong to main (`project_id`): its members
read them, its editors write them. Composite foreign keys tie each approval's and comment's
project to its request's, and each origin's project to its branch's main, so a row filed
under one's own project cannot point at another project's request or branch.
`approvals_required` is main's setting (default 1).
"""

# The version a branch forked from has no foreign key: a version goes only with its project,
# and then so do the project's branches; the trigger below checks it is one of main's.
COLUMNS = [
    "ALTER TABLE project ADD COLUMN branch_of_id uuid REFERENCES project (id) ON DELETE CASCADE",
    "ALTER TABLE project ADD COLUMN fork_version_id uuid",
    "ALTER TABLE project ADD COLUMN merged_at timestamptz",
    "ALTER TABLE project ADD COLUMN approvals_required integer NOT NULL DEFAULT 1"
    " CHECK (approvals_required BETWEEN 0 AND 10)",
    "ALTER TABLE project ADD CONSTRAINT project_branch_forked"
    " CHECK ((branch_of_id IS NULL) = (fork_version_id IS NULL))",
    "ALTER TABLE project ADD CONSTRAINT project_branch_merged"
    " CHECK (merged_at IS NULL OR branch_of_id IS NOT NULL)",
    "ALTER TABLE project ADD CONSTRAINT project_branch_other CHECK (branch_of_id <> id)",
    "CREATE INDEX project_branch_of_id ON project (branch_of_id)",
    "CREATE UNIQUE INDEX project_branch_name ON project (branch_of_id, lower(name))"
    " WHERE branch_of_id IS NOT NULL",
    # What the review rows' keys point at: a branch with its main, a request with its project.
    "CREATE UNIQUE INDEX project_id_branch_of_id ON project (id, branch_of_id)",
]

# Forking needs editing rights on main; a branch's main is never a branch itself. The check
# runs with the inserting user's rights: an editor of main sees main and its versions.
FORKING = [
    "CREATE POLICY project_fork ON project AS RESTRICTIVE FOR INSERT WITH CHECK ("
    " branch_of_id IS NULL OR branch_of_id = ANY ((SELECT rls_projects(1))::uuid[]))",
    """
    CREATE FUNCTION branch_checked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.branch_of_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM public.project p
            WHERE p.id = NEW.branch_of_id AND p.branch_of_id IS NOT NULL
        ) THEN
            RAISE EXCEPTION 'a branch is forked from a main project, not from a branch'
                USING ERRCODE = 'check_violation';
        END IF;
        IF TG_OP = 'UPDATE' AND (NEW.branch_of_id IS DISTINCT FROM OLD.branch_of_id
                OR NEW.fork_version_id IS DISTINCT FROM OLD.fork_version_id) THEN
            RAISE EXCEPTION 'a branch keeps the project and version it forked from'
                USING ERRCODE = 'check_violation';
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.merged_at IS NOT NULL
                AND NEW.merged_at IS DISTINCT FROM OLD.merged_at THEN
            RAISE EXCEPTION 'a merged branch stays merged' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER project_branch_checked BEFORE INSERT OR UPDATE ON project"
    " FOR EACH ROW EXECUTE FUNCTION branch_checked()",
    # At commit, as a foreign key would be: rows put back together may come in any order.
    """
    CREATE FUNCTION branch_forked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM public.schema_version v
            WHERE v.id = NEW.fork_version_id AND v.project_id = NEW.branch_of_id
        ) AND EXISTS (SELECT 1 FROM public.project p WHERE p.id = NEW.id) THEN
            RAISE EXCEPTION 'a branch forks from a version of its own main project'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE CONSTRAINT TRIGGER project_fork_version_checked AFTER INSERT ON project"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.fork_version_id IS NOT NULL)"
    " EXECUTE FUNCTION branch_forked()",
]

# Members: copied at the fork, mirrored from main after it, never changed on a branch by the
# app's role. The definer functions write them through a policy of their own.
MEMBERS = [
    "CREATE POLICY project_member_mirror ON project_member"
    " USING (rls_definer()) WITH CHECK (rls_definer())",
    # Main's members onto a new branch: its creator (an editor of main, so the fork policy
    # let the row in) calls it once, while the branch has no member yet.
    """
    CREATE FUNCTION rls_branch_members(branch uuid) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
        main uuid := (SELECT p.branch_of_id FROM project p WHERE p.id = branch);
        copied integer;
    BEGIN
        IF main IS NULL OR NOT (main = ANY (rls_projects(1)))
           OR EXISTS (SELECT 1 FROM project_member m WHERE m.project_id = branch) THEN
            RETURN 0;
        END IF;
        INSERT INTO project_member (project_id, user_id, role)
            SELECT branch, m.user_id, m.role FROM project_member m WHERE m.project_id = main;
        GET DIAGNOSTICS copied = ROW_COUNT;
        RETURN copied;
    END $$""",
    """
    CREATE FUNCTION branch_members_mirrored() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$ BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            DELETE FROM project_member m USING project b
            WHERE b.branch_of_id = OLD.project_id AND m.project_id = b.id
            AND m.user_id = OLD.user_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO project_member (project_id, user_id, role)
            SELECT b.id, NEW.user_id, NEW.role FROM project b WHERE b.branch_of_id = NEW.project_id
            ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER project_member_mirrored AFTER INSERT OR UPDATE OR DELETE ON project_member"
    " FOR EACH ROW WHEN (pg_trigger_depth() < 1) EXECUTE FUNCTION branch_members_mirrored()",
    # Nobody bound by row security writes a branch's members itself: the app's role never
    # does (invoker's rights: rls_definer is true only inside the owner's functions above).
    """
    CREATE FUNCTION branch_members_kept() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF TG_OP = 'UPDATE' AND (NEW.project_id, NEW.user_id, NEW.role)
                IS NOT DISTINCT FROM (OLD.project_id, OLD.user_id, OLD.role) THEN
            RETURN NEW;
        END IF;
        IF row_security_active('public.project_member') AND NOT public.rls_definer() AND EXISTS (
            SELECT 1 FROM public.project p WHERE p.id = NEW.project_id
            AND p.branch_of_id IS NOT NULL
        ) THEN
            RAISE EXCEPTION 'a branch has the members of its main project'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER project_member_branch_kept BEFORE INSERT OR UPDATE ON project_member"
    " FOR EACH ROW EXECUTE FUNCTION branch_members_kept()",
]

ORIGIN = [
    """
    CREATE TABLE branch_origin (
        project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        branch_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        local_id uuid NOT NULL,
        origin_id uuid NOT NULL,
        PRIMARY KEY (branch_id, local_id),
        CONSTRAINT branch_origin_of_main FOREIGN KEY (branch_id, project_id)
            REFERENCES project (id, branch_of_id) ON DELETE CASCADE
    )""",
    "CREATE INDEX branch_origin_project_id ON branch_origin (project_id)",
    "CREATE UNIQUE INDEX branch_origin_branch_id_origin_id ON branch_origin (branch_id, origin_id)",
]

# A merged branch's design no longer changes: 0031's counter trigger, which runs at commit
# once per transaction and project after taking the project's counter row, now also refuses
# a change to a merged branch's design (checked once per transaction and project, for every
# watched table but the feed). A row trigger of its own would cost every row of a bulk
# statement one more function call.
UNMERGED = """
CREATE OR REPLACE FUNCTION project_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    changed uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.project_id ELSE NEW.project_id END;
BEGIN
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;
    IF current_setting('designer.changed_project', true) IS DISTINCT FROM changed::text THEN
        PERFORM set_config('designer.changed_project', changed::text, true);
        UPDATE public.project_change SET counter = counter + 1 WHERE project_id = changed;
    END IF;
    IF TG_TABLE_NAME <> 'activity_entry'
       AND current_setting('designer.unmerged_project', true) IS DISTINCT FROM changed::text
    THEN
        PERFORM set_config('designer.unmerged_project', changed::text, true);
        IF EXISTS (SELECT 1 FROM public.project p
                   WHERE p.id = changed AND p.merged_at IS NOT NULL) THEN
            RAISE EXCEPTION 'this branch was merged: its design no longer changes'
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;
    RETURN NULL;
END $$"""

# 0031's, for down().
COUNTED_ONLY = """
CREATE OR REPLACE FUNCTION project_changed() RETURNS trigger
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

REQUESTS = [
    """
    CREATE TABLE merge_request (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        branch_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        number integer NOT NULL CHECK (number > 0),
        author_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
        title varchar(200) NOT NULL CHECK (btrim(title) <> ''),
        description text NOT NULL DEFAULT '',
        state varchar(16) NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'merged', 'closed')),
        resolutions jsonb NOT NULL DEFAULT '{}'::jsonb
            CHECK (jsonb_typeof(resolutions) = 'object'),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        merged_at timestamptz,
        merged_by_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
        merged_version_id uuid REFERENCES schema_version (id) ON DELETE SET NULL,
        revision integer NOT NULL DEFAULT 1 CHECK (revision > 0),
        CONSTRAINT merge_request_merged CHECK ((state = 'merged') = (merged_at IS NOT NULL)),
        CONSTRAINT merge_request_other CHECK (branch_id <> project_id)
    )""",
    "CREATE INDEX merge_request_branch_id ON merge_request (branch_id)",
    "CREATE INDEX merge_request_author_id ON merge_request (author_id)",
    "CREATE INDEX merge_request_merged_by_id ON merge_request (merged_by_id)",
    "CREATE INDEX merge_request_merged_version_id ON merge_request (merged_version_id)",
    "CREATE UNIQUE INDEX merge_request_project_id_number ON merge_request (project_id, number)",
    "CREATE UNIQUE INDEX merge_request_id_project_id ON merge_request (id, project_id)",
    # One open request per branch.
    "CREATE UNIQUE INDEX merge_request_open_branch ON merge_request (branch_id)"
    " WHERE state = 'open'",
    """
    CREATE TABLE merge_approval (
        merge_request_id uuid NOT NULL REFERENCES merge_request (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        approved_at timestamptz NOT NULL DEFAULT now(),
        branch_hash varchar(64) NOT NULL CHECK (branch_hash ~ '^[0-9a-f]{64}$'),
        conflicts jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(conflicts) = 'array'),
        PRIMARY KEY (merge_request_id, user_id),
        CONSTRAINT merge_approval_of_project FOREIGN KEY (merge_request_id, project_id)
            REFERENCES merge_request (id, project_id) ON DELETE CASCADE
    )""",
    "CREATE INDEX merge_approval_user_id ON merge_approval (user_id)",
    "CREATE INDEX merge_approval_project_id ON merge_approval (project_id)",
    """
    CREATE TABLE merge_comment (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        merge_request_id uuid NOT NULL REFERENCES merge_request (id) ON DELETE CASCADE,
        project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        author_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
        body text NOT NULL CHECK (btrim(body) <> '' AND length(body) <= 5000),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT merge_comment_of_project FOREIGN KEY (merge_request_id, project_id)
            REFERENCES merge_request (id, project_id) ON DELETE CASCADE
    )""",
    "CREATE INDEX merge_comment_project_id ON merge_comment (project_id)",
    "CREATE INDEX merge_comment_author_id ON merge_comment (author_id)",
    "CREATE INDEX merge_comment_merge_request_id_created_at"
    " ON merge_comment (merge_request_id, created_at)",
    # A request's branch is a branch of the request's project.
    """
    CREATE FUNCTION merge_request_checked() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM project b
                       WHERE b.id = NEW.branch_id AND b.branch_of_id = NEW.project_id) THEN
            RAISE EXCEPTION 'a merge request merges a branch of its own project'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER merge_request_checked BEFORE INSERT OR UPDATE OF project_id, branch_id"
    " ON merge_request FOR EACH ROW EXECUTE FUNCTION merge_request_checked()",
]


def up(migrator, db):
    for statement in COLUMNS + FORKING + MEMBERS:
        db.execute_sql(statement)
    for statement in ORIGIN:
        db.execute_sql(statement)
    db.execute_sql("SELECT rls_protect('branch_origin', 'project_id')")
    db.execute_sql(UNMERGED)
    for statement in REQUESTS:
        db.execute_sql(statement)
    for table in ("merge_request", "merge_approval", "merge_comment"):
        db.execute_sql(f"SELECT rls_protect('{table}', 'project_id')")


def down(migrator, db):
    for table in ("merge_comment", "merge_approval", "merge_request"):
        db.execute_sql(f"DROP TABLE {table}")
    db.execute_sql("DROP FUNCTION merge_request_checked()")
    db.execute_sql(COUNTED_ONLY)
    db.execute_sql("DROP TABLE branch_origin")
    db.execute_sql("DROP TRIGGER project_member_branch_kept ON project_member")
    db.execute_sql("DROP FUNCTION branch_members_kept()")
    db.execute_sql("DROP TRIGGER project_member_mirrored ON project_member")
    db.execute_sql("DROP FUNCTION branch_members_mirrored()")
    db.execute_sql("DROP FUNCTION rls_branch_members(uuid)")
    db.execute_sql("DROP POLICY project_member_mirror ON project_member")
    db.execute_sql("DROP TRIGGER project_fork_version_checked ON project")
    db.execute_sql("DROP FUNCTION branch_forked()")
    db.execute_sql("DROP TRIGGER project_branch_checked ON project")
    db.execute_sql("DROP FUNCTION branch_checked()")
    db.execute_sql("DROP POLICY project_fork ON project")
    db.execute_sql("DROP INDEX project_branch_name")
    db.execute_sql("DROP INDEX project_branch_of_id")
    for constraint in ("project_branch_other", "project_branch_merged", "project_branch_forked"):
        db.execute_sql(f"ALTER TABLE project DROP CONSTRAINT {constraint}")
    for column in ("approvals_required", "merged_at", "fork_version_id", "branch_of_id"):
        db.execute_sql(f"ALTER TABLE project DROP COLUMN {column}")
