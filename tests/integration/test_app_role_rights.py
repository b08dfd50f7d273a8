"""What the app's database role may do to accounts, to the migration history and to activity,
judged by PostgreSQL itself: raw SQL as the app role is refused what migrations/0016 took away,
and the owner's definer functions give back only what sign-in, sign-up and pages need."""

from urllib.parse import urlsplit

import psycopg2
import pytest
from psycopg2 import errors

from designer import projects
from designer import rls
from designer.design import tables

# The owner's definer functions that read app_user (or delete activity) for the app.
PRIVATE_FUNCTIONS = [
    "rls_sign_in(text)",
    "rls_account_of(text)",
    "rls_logins_taken(text,text)",
    "rls_sign_up(text,text,text)",
    "rls_member_emails(uuid)",
    "rls_rotate_activity(uuid,integer)",
    "rls_token_owner(text)",
]
# Statements each refused to the app role outright (InsufficientPrivilege), whoever it acts for.
REFUSED = {
    "schema_migration": [
        "INSERT INTO schema_migration (name, applied) VALUES ('9999_forged', now())",
        "UPDATE schema_migration SET name = name",
        "DELETE FROM schema_migration",
        "TRUNCATE schema_migration",
    ],
    "app_user": [
        "SELECT password_hash FROM app_user",
        "SELECT * FROM app_user",
        "UPDATE app_user SET username = 'mallory'",
        "UPDATE app_user SET email = 'mallory@example.com'",
        "UPDATE app_user SET is_active = false",
        "INSERT INTO app_user (username, email, password_hash) VALUES ('m', 'm@example.com', 'h')",
        "DELETE FROM app_user",
    ],
    "user_name": [
        "UPDATE user_name SET username = 'mallory'",
        "INSERT INTO user_name (id, username) VALUES (gen_random_uuid(), 'mallory')",
        "DELETE FROM user_name",
    ],
    "activity_entry": [
        "UPDATE activity_entry SET summary = 'rewritten'",
        "DELETE FROM activity_entry",
        "TRUNCATE activity_entry",
    ],
}


@pytest.fixture
def admin(database_url):
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    yield conn.cursor()
    conn.close()


@pytest.fixture
def team(make_user):
    """alice owns Shop (dave edits it, carol views it); bob owns Other. Both have activity."""
    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    shop, other = projects.create_project(alice, "Shop"), projects.create_project(bob, "Other")
    projects.add_member(alice, shop.id, "carol", "viewer")
    projects.add_member(alice, shop.id, "dave", "editor")
    for name in ("Customers", "Orders", "Invoices"):
        tables.create_table(alice, shop.id, name)
    tables.create_table(bob, other.id, "Notes")
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "shop": shop, "other": other}


def everything(admin, table):
    admin.execute(f"SELECT * FROM {table} ORDER BY 1")
    return admin.fetchall()


@pytest.mark.parametrize("table", REFUSED)
def test_the_app_role_is_refused_these_writes_and_reads_and_nothing_changes(
    table, team, raw, admin
):
    before = everything(admin, "app_user" if table == "user_name" else table)
    for acting in (team["alice"], team["dave"], None):
        cursor = raw(acting)
        for statement in REFUSED[table]:
            with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
                cursor.execute(statement)
    assert everything(admin, "app_user" if table == "user_name" else table) == before


def test_the_app_role_reads_the_migration_history(raw, admin):
    cursor = raw(None)  # the readiness check does (designer.serving)
    cursor.execute("SELECT name FROM schema_migration ORDER BY name")
    admin.execute("SELECT name FROM schema_migration ORDER BY name")
    names = admin.fetchall()
    assert ("0016_accounts_behind_definers",) in names
    assert cursor.fetchall() == names


def test_of_app_user_the_app_role_sees_only_its_users_row(team, raw):
    alice = team["alice"]
    cursor = raw(alice)
    cursor.execute("SELECT id, username, email, session_epoch FROM app_user")
    assert cursor.fetchall() == [(alice.id, "alice", "alice@example.com", 1)]
    cursor.execute("SELECT count(*) FROM app_user WHERE id = %s", (str(team["bob"].id),))
    assert cursor.fetchone() == (0,)
    nobody = raw(None)
    nobody.execute("SELECT count(*) FROM app_user")
    assert nobody.fetchone() == (0,)


def test_of_app_user_the_app_role_updates_only_its_users_row(team, raw, admin):
    cursor = raw(team["alice"])
    cursor.execute("UPDATE app_user SET session_epoch = session_epoch + 1")
    assert cursor.rowcount == 1
    cursor.execute(
        "UPDATE app_user SET session_epoch = 99, password_hash = 'x' WHERE id = %s",
        (str(team["bob"].id),),
    )
    assert cursor.rowcount == 0
    admin.execute("SELECT username, session_epoch, password_hash LIKE '$argon2id$%%' FROM app_user")
    epochs = {name: (epoch, hashed) for name, epoch, hashed in admin.fetchall()}
    assert epochs == {"alice": (2, True), "bob": (1, True), "carol": (1, True), "dave": (1, True)}


def test_other_users_are_seen_by_id_and_username_only(team, raw, admin):
    cursor = raw(team["carol"])
    cursor.execute("SELECT * FROM user_name")
    assert [column.name for column in cursor.description] == ["id", "username"]
    admin.execute("SELECT id, username FROM app_user")
    assert sorted(cursor.fetchall()) == sorted(admin.fetchall())


def test_sign_in_and_sign_up_look_ups_return_only_what_they_need(team, raw, admin):
    cursor = raw(None)
    cursor.execute("SELECT * FROM rls_sign_in(' Alice@Example.COM ')")
    assert [column.name for column in cursor.description] == [
        "user_id",
        "password_hash",
        "session_epoch",
    ]
    (found,) = cursor.fetchall()
    assert found[0] == team["alice"].id and found[1].startswith("$argon2id$")
    admin.execute("UPDATE app_user SET is_active = false WHERE username = 'bob'")
    cursor.execute("SELECT * FROM rls_sign_in('bob')")
    assert cursor.fetchall() == []  # a deactivated account signs in no more
    cursor.execute("SELECT * FROM rls_account_of('DAVE')")
    assert [column.name for column in cursor.description] == ["user_id", "username"]
    assert cursor.fetchall() == [(team["dave"].id, "dave")]
    cursor.execute("SELECT * FROM rls_logins_taken('ALICE', 'nobody@example.com')")
    assert cursor.fetchall() == [(True, False)]


def test_members_emails_are_given_to_the_projects_owners_only(team, raw):
    shop = str(team["shop"].id)
    emails = {}
    for who in ("alice", "dave", "carol", "bob"):
        cursor = raw(team[who])
        cursor.execute("SELECT email FROM rls_member_emails(%s)", (shop,))
        emails[who] = sorted(email for (email,) in cursor.fetchall())
    assert emails["alice"] == ["alice@example.com", "carol@example.com", "dave@example.com"]
    assert emails["dave"] == emails["carol"] == emails["bob"] == []


def activity_of(admin, project):
    admin.execute(
        "SELECT id FROM activity_entry WHERE project_id = %s ORDER BY created_at DESC, id DESC",
        (str(project.id),),
    )
    return [row[0] for row in admin.fetchall()]


def test_an_editor_adds_activity_but_neither_rewrites_nor_deletes_it(team, raw, admin):
    before = everything(admin, "activity_entry")
    cursor = raw(team["dave"])
    cursor.execute(
        "INSERT INTO activity_entry (project_id, user_id, action, summary)"
        " VALUES (%s, %s, 'table.created', 'by hand')",
        (str(team["shop"].id), str(team["dave"].id)),
    )
    for statement in REFUSED["activity_entry"]:
        with pytest.raises(errors.InsufficientPrivilege):
            cursor.execute(statement)
    after = everything(admin, "activity_entry")
    assert len(after) == len(before) + 1
    assert set(before) <= set(after)


def test_only_the_rotation_deletes_activity_and_only_for_the_projects_editors(team, raw, admin):
    shop, other = team["shop"], team["other"]
    entries, others = activity_of(admin, shop), activity_of(admin, other)
    assert len(entries) >= 4 and others
    rotate = "SELECT rls_rotate_activity(%s, %s)"
    for who, project in (("carol", shop), ("bob", shop), ("dave", other)):
        cursor = raw(team[who])
        cursor.execute(rotate, (str(project.id), 1))
        assert cursor.fetchone() == (0,), who
    assert (activity_of(admin, shop), activity_of(admin, other)) == (entries, others)
    cursor = raw(team["dave"])
    with pytest.raises(errors.RaiseException, match="keeps at least one"):
        cursor.execute(rotate, (str(shop.id), 0))
    cursor.execute(rotate, (str(shop.id), 2))
    assert cursor.fetchone() == (len(entries) - 2,)
    assert (activity_of(admin, shop), activity_of(admin, other)) == (entries[:2], others)


def app_rights(admin, app):
    """What the catalog says the app role may do to the relations 0016 narrowed."""
    checks = {
        "write schema_migration": "has_table_privilege(%(app)s, 'schema_migration', 'INSERT')",
        "read password hashes": "has_column_privilege(%(app)s, 'app_user', 'password_hash',"
        " 'SELECT')",
        "rename users": "has_column_privilege(%(app)s, 'app_user', 'username', 'UPDATE')",
        "add users": "has_table_privilege(%(app)s, 'app_user', 'INSERT')",
        "write user_name": "has_table_privilege(%(app)s, 'user_name', 'UPDATE')",
        "delete activity": "has_table_privilege(%(app)s, 'activity_entry', 'DELETE')",
        "update activity": "has_table_privilege(%(app)s, 'activity_entry', 'UPDATE')",
        "delete tables": "has_table_privilege(%(app)s, 'data_table', 'DELETE')",
    }
    admin.execute("SELECT " + ", ".join(checks.values()), {"app": app})
    return {name for name, allowed in zip(checks, admin.fetchone(), strict=True) if allowed}


def test_provisioning_again_gives_back_none_of_the_rights_taken(database_url, roles, admin):
    assert app_rights(admin, roles["app"]) == {"delete tables"}
    name = urlsplit(database_url).path.lstrip("/")
    rls.provision(database_url, name, roles["owner"], roles["app"], app_creates_schemas=True)
    assert app_rights(admin, roles["app"]) == {"delete tables"}


def test_member_lists_show_usernames_to_members_and_emails_to_owners_only(team, api, signed_in):
    members = f"/projects/{team['shop'].id}/members"
    listed = {
        who: {m["username"]: m["email"] for m in api(team[who]).get(members).json}
        for who in ("alice", "dave")
    }
    emails = {name: f"{name}@example.com" for name in ("alice", "carol", "dave")}
    assert listed["alice"] == emails
    assert listed["dave"] == {"alice": None, "carol": None, "dave": "dave@example.com"}
    added = api(team["alice"]).post(members, json={"username": "bob", "role": "viewer"})
    assert (added.json["username"], added.json["email"]) == ("bob", "bob@example.com")
    owner_page = signed_in(team["alice"]).get(members, htmx=False).text
    viewer_page = signed_in(team["carol"]).get(members, htmx=False).text
    assert "bob@example.com" in owner_page and "dave@example.com" in owner_page
    assert "Remove dave" in owner_page and ">dave<" in viewer_page
    assert "@example.com" not in viewer_page.replace("carol@example.com", "")


def test_only_the_app_role_may_call_the_functions_that_give_out_accounts(roles, admin):
    stranger = f"{roles['app']}_stranger"  # any other role that can connect to the database
    admin.execute(f"CREATE ROLE {stranger} LOGIN")
    try:
        admin.execute(
            "SELECT p.oid::regprocedure::text, has_function_privilege(%s, p.oid, 'EXECUTE'),"
            " has_function_privilege(%s, p.oid, 'EXECUTE') FROM pg_proc p"
            " WHERE p.oid::regprocedure::text = ANY (%s)",
            (roles["app"], stranger, PRIVATE_FUNCTIONS),
        )
        rights = {name: (app, other) for name, app, other in admin.fetchall()}
    finally:
        admin.execute(f"DROP ROLE {stranger}")
    assert rights == dict.fromkeys(PRIVATE_FUNCTIONS, (True, False))
