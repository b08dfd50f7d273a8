"""Row-level security, beneath the application: raw SQL as the app's role sees and changes
only the rows of the projects whose member it acts for, and nothing while it acts for nobody."""

import contextlib
import hashlib
import uuid

import psycopg2
import pytest
from psycopg2 import errors

from designer import api_tokens
from designer import branches
from designer import create_app
from designer import locks
from designer import merge_requests
from designer import projects
from designer import rls
from designer.database import expectations
from designer.design import enums
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import versions
from designer.interchange import downloads
from designer.interchange import exports
from designer.rls import UnsafeDatabaseRole

# Each protected table, and its column naming the project of a row.
PROJECT_OF = {
    "project": "id",
    "project_member": "project_id",
    "data_table": "project_id",
    "data_field": "project_id",
    "table_relationship": "project_id",
    "schema_version": "project_id",
    "schema_part": "project_id",
    "working_part": "project_id",
    "table_lock": "project_id",
    "activity_entry": "project_id",
    "deployment": "project_id",
    "target_reservation": "project_id",
    "project_enum": "project_id",
    "project_change": "project_id",
    "entry_order": "project_id",
    "export_file": "project_id",
    "export_member": "project_id",
    "drift_expectation": "project_id",
    "sound_part": "project_id",
    "branch_origin": "project_id",
    "merge_request": "project_id",
    "merge_approval": "project_id",
    "merge_comment": "project_id",
}
# A row's key, where it is not `id`: a version's part is named by its hash in its project,
# a working copy's part by its entry's id, a project's change counter by its project,
# an entry's place in a version's order by its id.
KEY_OF = {
    "schema_part": "hash",
    "working_part": "entry_id",
    "project_change": "project_id",
    "entry_order": "entry_id",
    "export_file": "key",
    "export_member": "key",
    "drift_expectation": "key",
    "sound_part": "hash",
    "branch_origin": "local_id",
    "merge_approval": "user_id",
}
# Append-only for the app role (migrations/0016): test_app_role_rights checks it.
APPEND_ONLY = {"activity_entry"}
WRITABLE = [table for table in PROJECT_OF if table not in APPEND_ONLY]
# Derived from what a viewer reads, and written when they view it (migrations/0032).
# A downloaded file is kept when any member downloads it (migrations/0040), a table's
# expected catalog when any member checks drift (0046), the tables the rules accepted when
# any member exports (0050).
VIEWERS_WRITE = {"entry_order", "export_file", "export_member", "drift_expectation", "sound_part"}


def test_every_protected_table_is_checked_here():
    assert set(PROJECT_OF) | {"api_token"} == set(rls.PROTECTED_TABLES)


# The owner's alone: row-level security on with no policy, so the app role reads and writes
# none of its rows; only the owner's definer functions do (migration 0051).
OWNER_ONLY = {"search_name"}


def test_every_table_holding_a_project_id_has_forced_policies(app, admin):
    admin.execute(
        "SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity"
        " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
        " AND a.attname = 'project_id' AND NOT a.attisdropped"
    )
    forced = dict(admin.fetchall())
    assert set(forced) == set(PROJECT_OF) - {"project"} | {"api_token"} | OWNER_ONLY
    assert all(forced[name] for name in set(forced) - OWNER_ONLY), forced
    admin.execute(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
        " (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)"
        " FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
        " AND c.relname = ANY (%s)",
        (sorted(OWNER_ONLY),),
    )
    assert {row[0]: row[1:] for row in admin.fetchall()} == {
        name: (True, False, 0) for name in OWNER_ONLY
    }
    admin.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relrowsecurity AND relforcerowsecurity"
    )
    assert {name for (name,) in admin.fetchall()} == set(rls.PROTECTED_TABLES)


def fill(user, name):
    """A project with a row in every protected table; returns the project."""
    project = projects.create_project(user, name)
    one = tables.create_table(user, project.id, "Customers")
    two = tables.create_table(user, project.id, "Orders")
    fields.create_field(user, one.id, {"name": "Email"})
    enums.create_enum(user, project.id, "status", ["new", "done"])
    relationships.create_relationship(
        user, project.id, {"source_table_id": one.id, "target_table_id": two.id}
    )
    version = versions.save_version(user, project.id, "first")
    # A version page viewed: its tables' order is kept (migrations/0032).
    assert versions.entries_page(version, "tables", 0, 10)[1] == 2
    locks.acquire(two.id, user, "pessimistic", "raw SQL test")
    # A download kept (migrations/0040).
    downloads.keep(project.id, ["rls", str(project.id)], ["rls"], lambda: "-- kept")
    # A table's expected catalog kept for drift (migrations/0046).
    expectations.keep(str(project.id), {f"rls-{project.id}"[:64]: {"tables": []}})
    # The tables the rules accepted, kept when a file is exported (migrations/0050).
    "".join(exports.Source(user, project.id, "sql").text_parts())
    # A branch of it (its origins are the project's rows), offered and commented on (0052).
    branch = branches.fork(user, project.id, "rls")
    tables.create_table(user, branch.id, "Invoices")
    merge_requests.open_request(user, branch.id, "Invoices")
    merge_requests.comment(user, project.id, 1, "looks right")
    return project


@pytest.fixture
def world(make_user, database_url):
    """alice owns Shop (dave edits it, carol views it); bob owns Other. Both projects have
    rows in every protected table (a deployment record inserted directly)."""
    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    shop, other = fill(alice, "Shop"), fill(bob, "Other")
    projects.add_member(alice, shop.id, "carol", "viewer")
    projects.add_member(alice, shop.id, "dave", "editor")
    with contextlib.closing(psycopg2.connect(database_url)) as admin, admin:
        for project in (shop, other):
            admin.cursor().execute(
                "INSERT INTO deployment (project_id, target_schema, to_hash, status)"
                " VALUES (%s, 'x', 'h', 'dry_run_ok')",
                (str(project.id),),
            )
            # An approval, by a user of its own: the author cannot approve (0052).
            admin.cursor().execute(
                "INSERT INTO merge_approval (merge_request_id, user_id, project_id, branch_hash)"
                " SELECT id, %s, project_id, repeat('a', 64) FROM merge_request"
                " WHERE project_id = %s",
                (str(carol.id), str(project.id)),
            )
    for user in (alice, bob):
        api_tokens.issue_token(user, "raw")
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "shop": shop, "other": other}


@pytest.fixture
def admin(database_url):
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    yield conn.cursor()
    conn.close()


@pytest.fixture
def raw(app_database_url):
    """raw(user or None): a cursor of the app's role, acting for `user` (None: nobody)."""
    opened = []

    def connect(user=None, url=app_database_url):
        conn = psycopg2.connect(url)
        opened.append(conn)
        cursor = conn.cursor()
        cursor.execute(rls.ACT_FOR, (str(user.id) if user else "",))
        conn.commit()
        return cursor

    yield connect
    for conn in opened:
        conn.close()


def ids(cursor, sql, params=()):
    cursor.execute(sql, params)
    return {row[0] for row in cursor.fetchall()}


def rows_of(admin, table, project, branches=True):
    """The ids of `table`'s rows that belong to `project` or (unless `branches` is false) to
    one of its branches, whose members are its own (migration 0052), as a superuser sees."""
    key = KEY_OF.get(table, "id")
    family = "(SELECT p.id FROM project p WHERE p.id = %(p)s OR p.branch_of_id = %(p)s)"
    if not branches:
        family = "(%(p)s)"
    return ids(
        admin,
        f"SELECT {key} FROM {table} WHERE {PROJECT_OF[table]} IN {family}",
        {"p": str(project.id)},
    )


def count_of(admin, table, project):
    """How many rows of `table` belong to `project` or its branches (keys such as a part's
    hash may repeat across them)."""
    family = "(SELECT p.id FROM project p WHERE p.id = %(p)s OR p.branch_of_id = %(p)s)"
    admin.execute(
        f"SELECT count(*) FROM {table} WHERE {PROJECT_OF[table]} IN {family}",
        {"p": str(project.id)},
    )
    return admin.fetchone()[0]


def test_every_table_has_rows_of_both_projects(world, admin):
    for table in PROJECT_OF:
        assert rows_of(admin, table, world["shop"], branches=False), table
        assert rows_of(admin, table, world["other"], branches=False), table


def test_a_member_selects_exactly_their_projects_rows(world, admin, raw):
    for who, project in (("alice", "shop"), ("carol", "shop"), ("bob", "other")):
        cursor = raw(world[who])
        for table in PROJECT_OF:
            seen = ids(cursor, f"SELECT {KEY_OF.get(table, 'id')} FROM {table}")
            assert seen == rows_of(admin, table, world[project]), (who, table)


def test_acting_for_nobody_selects_nothing_and_changes_nothing(world, raw):
    cursor = raw(None)
    for table in [*PROJECT_OF, "api_token"]:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == 0, table
    for table in [*WRITABLE, "api_token"]:
        cursor.execute(f"UPDATE {table} SET {KEY_OF.get(table, 'id')} = {KEY_OF.get(table, 'id')}")
        assert cursor.rowcount == 0, table
        cursor.execute(f"DELETE FROM {table}")
        assert cursor.rowcount == 0, table


# Deleted in this order, a project's rows go without tripping a foreign key.
DELETION_ORDER = [
    ["merge_comment", "merge_approval", "merge_request", "branch_origin"]
    + ["deployment", "table_lock", "schema_version", "table_relationship"]
    + ["data_field", "data_table"],
    ["project_member"],  # once gone, its user is no member: nothing else would be theirs
    ["project"],
]


def test_an_owner_updates_and_deletes_only_their_projects_rows(world, admin, raw):
    cursor = raw(world["alice"])
    for table in WRITABLE:
        cursor.execute(f"UPDATE {table} SET {KEY_OF.get(table, 'id')} = {KEY_OF.get(table, 'id')}")
        assert cursor.rowcount == count_of(admin, table, world["shop"]), table
    cursor.connection.rollback()
    for batch in DELETION_ORDER:
        for table in batch:
            cursor.execute(f"DELETE FROM {table}")
            assert cursor.rowcount == count_of(admin, table, world["shop"]), table
        cursor.connection.rollback()
    cursor.execute("DELETE FROM data_table")
    cursor.connection.commit()
    assert not rows_of(admin, "data_table", world["shop"])
    assert len(rows_of(admin, "data_table", world["other"], branches=False)) == 2


def test_nobody_writes_into_another_project(world, raw):
    cursor = raw(world["alice"])
    for statement in (
        "INSERT INTO data_table (project_id, name, table_name) VALUES (%s, 'Spy', 'spy')",
        "INSERT INTO project_member (project_id, user_id, role) VALUES (%s, %s, 'owner')",
        "UPDATE data_table SET project_id = %s",
    ):
        params = (str(world["other"].id), str(world["alice"].id))[: statement.count("%s")]
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            cursor.execute(statement, params)
        cursor.connection.rollback()


def test_a_viewer_cannot_write_even_by_raw_sql(world, raw):
    cursor = raw(world["carol"])
    for table in set(WRITABLE) - VIEWERS_WRITE:
        cursor.execute(f"UPDATE {table} SET {KEY_OF.get(table, 'id')} = {KEY_OF.get(table, 'id')}")
        assert cursor.rowcount == 0, table
        cursor.execute(f"DELETE FROM {table}")
        assert cursor.rowcount == 0, table
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        cursor.execute(
            "INSERT INTO data_table (project_id, name, table_name) VALUES (%s, 'Mine', 'mine')",
            (str(world["shop"].id),),
        )


def test_an_editor_designs_but_does_not_manage(world, admin, raw):
    cursor = raw(world["dave"])
    cursor.execute("UPDATE data_table SET description = 'edited'")
    assert cursor.rowcount == count_of(admin, "data_table", world["shop"])
    cursor.execute("DELETE FROM project")
    assert cursor.rowcount == 0


def test_an_editor_cannot_change_who_is_a_member_even_by_raw_sql(world, admin, raw):
    shop = world["shop"]
    members = memberships(admin, shop)
    cursor = raw(world["dave"])
    for statement in ("UPDATE project_member SET role = 'owner'", "DELETE FROM project_member"):
        cursor.execute(statement)
        assert cursor.rowcount == 0, statement
        cursor.connection.commit()
    # Neither a stranger as editor, nor the editor themself as the project's owner.
    for user, role in ((world["bob"], "editor"), (world["dave"], "owner")):
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            cursor.execute(
                "INSERT INTO project_member (project_id, user_id, role) VALUES (%s, %s, %s)",
                (str(shop.id), str(user.id), role),
            )
        cursor.connection.rollback()
    assert memberships(admin, shop) == members


def memberships(admin, project):
    admin.execute(
        "SELECT user_id, role FROM project_member WHERE project_id = %s ORDER BY user_id",
        (str(project.id),),
    )
    return admin.fetchall()


def test_api_tokens_are_their_users_own(world, admin, raw):
    cursor = raw(world["alice"])
    seen = ids(cursor, "SELECT user_id FROM api_token")
    assert seen == {world["alice"].id}
    assert ids(admin, "SELECT user_id FROM api_token") == {world["alice"].id, world["bob"].id}


def test_the_no_user_paths_are_the_owners_definer_functions(world, admin, raw):
    token, _ = api_tokens.issue_token(world["bob"], "lookup")
    cursor = raw(None)
    digest = hashlib.sha256(token.encode()).hexdigest()
    cursor.execute("SELECT username FROM rls_token_owner(%s)", (digest,))
    assert cursor.fetchone() == ("bob",)
    admin.execute("UPDATE table_lock SET locked_at = now() - interval '1 hour',"
                  " expires_at = now() - interval '1 minute'")  # fmt: skip
    cursor.execute("SELECT rls_expire_locks()")
    assert cursor.fetchone() == (2,)  # Shop's and Other's: the sweep acts for every project
    cursor.execute("SELECT count(*) FROM table_lock")
    assert cursor.fetchone() == (0,)  # while the app's own statements still see none


def test_force_binds_the_tables_owner_too(world, raw, owner_database_url):
    cursor = raw(None, url=owner_database_url)
    for table in PROJECT_OF:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == 0, table


def test_a_view_that_forgets_access_shows_nothing_of_another_project(world, signed_in):
    alice = signed_in(world["alice"])
    theirs = alice.get(f"/test/unchecked/projects/{world['other'].id}").get_json()
    assert theirs == {"project": None, "tables": [], "fields": []}
    mine = alice.get(f"/test/unchecked/projects/{world['shop'].id}").get_json()
    # The test view lists rows in no promised order (no ORDER BY): compare the names only.
    assert (mine["project"], sorted(mine["tables"])) == ("Shop", ["Customers", "Orders"])
    assert "Email" in mine["fields"]


def backend_and_user(client, path, **kwargs):
    body = client.get(path, **kwargs).get_json()
    return body["backend"], body["user"]


def test_no_request_leaves_its_user_on_a_pooled_connection(world, signed_in, api, app):
    from designer.db import database

    pool = database.obj.app_pool
    pool.close_all()  # one connection from here on: every request below reuses it
    alice = signed_in(world["alice"])
    token_user = api(world["bob"])
    anonymous = signed_in()
    first, user = backend_and_user(alice, "/test/acting")
    assert user == str(world["alice"].id)
    assert backend_and_user(anonymous, "/test/acting") == (first, None)
    headers = {"Authorization": f"Bearer {token_user.token}"}
    assert backend_and_user(token_user.client, "/test/api/acting", headers=headers) == (
        first,
        str(world["bob"].id),
    )
    assert backend_and_user(anonymous, "/test/acting") == (first, None)


def test_startup_refuses_a_role_that_could_bypass_row_level_security(
    app, database_url, owner_database_url, tmp_path
):
    from designer.db import database
    from designer.settings import configure

    for url, reason in ((database_url, "is a superuser"), (owner_database_url, "owns")):
        with pytest.raises(UnsafeDatabaseRole, match=reason):
            create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path)})
    serving = database.obj
    try:
        allowed = create_app(
            {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path), "ALLOW_RLS_BYPASS": "1"}
        )
        assert allowed.config["ALLOW_RLS_BYPASS"]
    finally:
        database.initialize(serving)
        configure(app.config)


@pytest.fixture
def member_of(admin):
    """member_of(power): a LOGIN role with no power of its own, a member of a NOLOGIN role
    that has `power` (SUPERUSER or BYPASSRLS); both dropped after the test."""
    made = []

    def make(power):
        suffix = uuid.uuid4().hex[:10]
        powerful, member = f"dmd_powerful_{suffix}", f"dmd_member_{suffix}"
        admin.execute(f"CREATE ROLE {powerful} NOLOGIN {power}")
        admin.execute(f"CREATE ROLE {member} LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE {powerful}")
        made.extend((member, powerful))
        return member

    yield make
    for role in made:
        admin.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("power", ["BYPASSRLS", "SUPERUSER"])
def test_startup_refuses_a_role_that_inherits_a_bypass_through_membership(
    app, database_url, member_of, power, tmp_path
):
    from designer.db import database
    from designer.settings import configure

    url = rls.with_user(database_url, member_of(power))
    serving = database.obj
    try:
        with pytest.raises(UnsafeDatabaseRole, match="is a member of a superuser or BYPASSRLS"):
            create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path)})
    finally:  # an app that did start would have taken over the shared database
        database.initialize(serving)
        configure(app.config)
