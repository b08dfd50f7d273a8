"""Branches and merge requests (#28) against a hostile member of another project: raw SQL as
the app's database role, acting for the attacker, judged by what PostgreSQL holds after."""

import uuid

import pytest
from psycopg2 import errors

from designer import branches
from designer import merge_requests
from designer import projects
from designer.design import tables
from designer.errors import NotFound
from designer.history import versions
from designer.models import Project
from designer.models import ProjectMember

# Main's rows of a branch's review, each with its key.
REVIEW_TABLES = {
    "branch_origin": "local_id",
    "merge_request": "id",
    "merge_approval": "user_id",
    "merge_comment": "id",
}


@pytest.fixture
def world(make_user):
    """alice owns Shop (dave edits it, carol views it); bob owns Other (erin edits it), which
    has a branch offered in a merge request, approved by erin and commented on."""
    alice, bob, carol, dave, erin = (
        make_user(n) for n in ("alice", "bob", "carol", "dave", "erin")
    )
    shop, other = projects.create_project(alice, "Shop"), projects.create_project(bob, "Other")
    projects.add_member(alice, shop.id, "carol", "viewer")
    projects.add_member(alice, shop.id, "dave", "editor")
    projects.add_member(bob, other.id, "erin", "editor")
    for user, project in ((alice, shop), (bob, other)):
        tables.create_table(user, project.id, "Customers")
        versions.save_version(user, project.id, "start")
    shop_branch = branches.fork(alice, shop.id, "mine")
    branch = branches.fork(bob, other.id, "theirs")
    tables.create_table(bob, branch.id, "Invoices")
    merge_requests.open_request(bob, branch.id, "Invoices")
    merge_requests.approve(erin, other.id, 1)
    merge_requests.comment(bob, other.id, 1, "looks right")
    return {
        "alice": alice, "bob": bob, "carol": carol, "dave": dave, "erin": erin,
        "shop": shop, "other": other, "shop_branch": shop_branch, "branch": branch,
        "request": merge_requests.get_request(bob, other.id, 1)[1],
        "other_version": versions.latest(other.id), "shop_version": versions.latest(shop.id),
    }  # fmt: skip


def count(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


def refused(cursor, sql, params, *kinds):
    """The statement fails with one of `kinds` (default: a row-level security refusal), and
    the transaction it was in is rolled back."""
    kinds = kinds or (errors.InsufficientPrivilege,)
    with pytest.raises(kinds) as caught:
        cursor.execute(sql, params)
    cursor.connection.rollback()
    return caught.value


def fork_row(user, main, version):
    return (str(uuid.uuid4()), str(user.id), str(main.id), str(version.id))


FORK = (
    "INSERT INTO project (id, owner_id, name, branch_of_id, fork_version_id, target_schema)"
    " VALUES (%s, %s, 'spy', %s, %s, 'b_0123456789abcdef')"
)


@pytest.fixture
def tx(app_database_url):
    """tx(user): a cursor of the app's role in a transaction of its own, acting for `user`."""
    import psycopg2

    from designer import rls

    opened = []

    def connect(user):
        conn = psycopg2.connect(app_database_url)
        opened.append(conn)
        cursor = conn.cursor()
        cursor.execute(rls.ACT_FOR, (str(user.id),))
        conn.commit()
        return cursor

    yield connect
    for conn in opened:
        conn.close()


# Forking


def test_a_stranger_cannot_fork_anothers_project(world, tx, admin_count):
    cursor = tx(world["alice"])
    # The fork policy refuses the row as it is inserted (the version is checked at commit).
    refused(
        cursor, FORK, fork_row(world["alice"], world["other"], world["other_version"]),
        errors.InsufficientPrivilege, errors.CheckViolation,
    )  # fmt: skip
    # So it does with a version of her own, which would not pair with Other anyway.
    refused(
        cursor, FORK, fork_row(world["alice"], world["other"], world["shop_version"]),
        errors.InsufficientPrivilege, errors.CheckViolation,
    )  # fmt: skip
    with pytest.raises(NotFound):
        branches.fork(world["alice"], world["other"].id, "spy")
    assert admin_count("SELECT count(*) FROM project WHERE name = 'spy'") == 0


def test_a_viewer_of_main_cannot_fork_it_even_by_raw_sql(world, tx, admin_count):
    """Carol sees Shop and its versions, so only the fork policy stands in her way."""
    cursor = tx(world["carol"])
    error = refused(cursor, FORK, fork_row(world["carol"], world["shop"], world["shop_version"]))
    assert "project_fork" in str(error) or "row-level security" in str(error)
    assert admin_count("SELECT count(*) FROM project WHERE name = 'spy'") == 0


def test_an_editor_of_main_may_fork_it_by_raw_sql(world, tx, admin_count):
    """The policy's other side: the same statement by an editor of main is let in."""
    cursor = tx(world["dave"])
    cursor.execute(FORK, fork_row(world["dave"], world["shop"], world["shop_version"]))
    cursor.connection.commit()
    assert admin_count("SELECT count(*) FROM project WHERE name = 'spy'") == 1


# Members of a branch

MEMBERS = "SELECT count(*) FROM project_member WHERE project_id = %s"


def test_a_stranger_cannot_gain_a_branch_membership_through_the_copy_function(
    world, tx, admin_count
):
    branch = world["branch"]
    # A branch with no member yet (the state the fork is in when it calls the function).
    admin_count("DELETE FROM project_member WHERE project_id = %s RETURNING 1", (branch.id,))
    cursor = tx(world["alice"])
    cursor.execute("SELECT rls_branch_members(%s)", (str(branch.id),))
    assert cursor.fetchone()[0] == 0
    cursor.connection.commit()
    assert (
        admin_count("SELECT count(*) FROM project_member WHERE project_id = %s", (branch.id,)) == 0
    )
    # Nor does a viewer of main copy its members onto its branch.
    shop_branch = world["shop_branch"]
    admin_count("DELETE FROM project_member WHERE project_id = %s RETURNING 1", (shop_branch.id,))
    cursor = tx(world["carol"])
    cursor.execute("SELECT rls_branch_members(%s)", (str(shop_branch.id),))
    assert cursor.fetchone()[0] == 0


def test_nobody_adds_a_member_to_a_branch_directly(world, tx, admin_count):
    """Not even the owner of main, the branch's owner: a branch has main's members."""
    branch = world["shop_branch"]
    before = admin_count(MEMBERS, (branch.id,))
    cursor = tx(world["alice"])
    error = refused(
        cursor,
        "INSERT INTO project_member (project_id, user_id, role) VALUES (%s, %s, 'owner')",
        (str(branch.id), str(world["bob"].id)),
    )
    assert "members of its main project" in str(error)
    refused(
        cursor,
        "UPDATE project_member SET role = 'owner' WHERE project_id = %s AND user_id = %s",
        (str(branch.id), str(world["carol"].id)),
    )
    after = admin_count(MEMBERS, (branch.id,))
    assert after == before
    assert projects.access(world["carol"], branch.id).role == "viewer"


def roles_on(project):
    return dict(
        ProjectMember.select(ProjectMember.user, ProjectMember.role)
        .where(ProjectMember.project == project.id)
        .tuples()
    )


def test_main_members_added_changed_and_removed_are_mirrored_onto_its_branches(world):
    alice, bob, shop = world["alice"], world["bob"], world["shop"]
    second = branches.fork(world["dave"], shop.id, "second")
    projects.add_member(alice, shop.id, "bob", "viewer")
    for branch in (world["shop_branch"], second):
        assert roles_on(branch) == roles_on(shop)
        assert roles_on(branch)[bob.id] == "viewer"
    projects.change_role(alice, shop.id, bob.id, "editor")
    for branch in (world["shop_branch"], second):
        assert roles_on(branch)[bob.id] == "editor"
    projects.remove_member(alice, shop.id, bob.id)
    for branch in (world["shop_branch"], second):
        assert bob.id not in roles_on(branch)
        with pytest.raises(NotFound):
            projects.access(bob, branch.id)
    # Another project's branch is untouched.
    assert roles_on(world["branch"]) == roles_on(world["other"])


# Main's rows of a review


def test_a_stranger_reads_none_of_anothers_review_rows(world, tx, admin_count):
    other = world["other"]
    cursor = tx(world["alice"])
    for table in REVIEW_TABLES:
        held = admin_count(f"SELECT count(*) FROM {table} WHERE project_id = %s", (other.id,))
        assert held > 0, table
        assert (
            count(cursor, f"SELECT count(*) FROM {table} WHERE project_id = %s", (str(other.id),))
            == 0
        ), table
    assert (
        count(cursor, "SELECT count(*) FROM project WHERE id = %s", (str(world["branch"].id),)) == 0
    )


def test_a_stranger_changes_none_of_anothers_review_rows(world, tx, admin_count):
    other = world["other"]
    cursor = tx(world["alice"])
    before = {
        table: admin_count(f"SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM {table} t")
        for table in REVIEW_TABLES
    }
    for table, key in REVIEW_TABLES.items():
        cursor.execute(f"UPDATE {table} SET {key} = {key} WHERE project_id = %s", (str(other.id),))
        assert cursor.rowcount == 0, table
        cursor.execute(f"DELETE FROM {table} WHERE project_id = %s", (str(other.id),))
        assert cursor.rowcount == 0, table
    cursor.execute("UPDATE merge_request SET state = 'closed'")
    assert cursor.rowcount == 0
    cursor.connection.commit()
    request = world["request"]
    inserts = {
        "merge_request": (
            "INSERT INTO merge_request (project_id, branch_id, number, title)"
            " VALUES (%s, %s, 2, 'spy')",
            (str(other.id), str(world["branch"].id)),
        ),
        "merge_approval": (
            "INSERT INTO merge_approval (merge_request_id, user_id, project_id, branch_hash)"
            " VALUES (%s, %s, %s, repeat('a', 64))",
            (str(request.id), str(world["alice"].id), str(other.id)),
        ),
        "merge_comment": (
            "INSERT INTO merge_comment (merge_request_id, project_id, body) VALUES (%s, %s, 'x')",
            (str(request.id), str(other.id)),
        ),
        "branch_origin": (
            "INSERT INTO branch_origin (project_id, branch_id, local_id, origin_id)"
            " VALUES (%s, %s, gen_random_uuid(), gen_random_uuid())",
            (str(other.id), str(world["branch"].id)),
        ),
    }
    for sql, params in inserts.values():
        refused(cursor, sql, params)
    after = {
        table: admin_count(f"SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM {table} t")
        for table in REVIEW_TABLES
    }
    assert after == before


# Filed under a project the attacker edits (row-level security lets that in), pointing at
# another project's request or branch: 0052's composite foreign keys tie a row's project to
# its request's, and an origin's to its branch's main.
FORGED = {
    "merge_approval": (
        "INSERT INTO merge_approval (merge_request_id, user_id, project_id, branch_hash)"
        " VALUES (%(request)s, %(user)s, %(own)s, repeat('a', 64))"
    ),
    "merge_comment": (
        "INSERT INTO merge_comment (merge_request_id, project_id, author_id, body)"
        " VALUES (%(request)s, %(own)s, %(user)s, 'forged')"
    ),
    "branch_origin": (
        "INSERT INTO branch_origin (project_id, branch_id, local_id, origin_id)"
        " VALUES (%(own)s, %(branch)s, gen_random_uuid(), gen_random_uuid())"
    ),
}


@pytest.mark.parametrize("table", sorted(FORGED))
def test_a_review_row_cannot_be_forged_for_another_projects_request(world, tx, admin_count, table):
    """An approval (or comment, or origin) under alice's own project, naming bob's request or
    branch."""
    cursor = tx(world["alice"])
    params = {
        "request": str(world["request"].id), "branch": str(world["branch"].id),
        "user": str(world["alice"].id), "own": str(world["shop"].id),
    }  # fmt: skip
    held = admin_count(f"SELECT count(*) FROM {table}")
    refused(
        cursor, FORGED[table], params,
        errors.InsufficientPrivilege, errors.CheckViolation, errors.ForeignKeyViolation,
    )  # fmt: skip
    assert admin_count(f"SELECT count(*) FROM {table}") == held


def test_a_merge_request_cannot_offer_another_projects_branch(world, tx, admin_count):
    cursor = tx(world["alice"])
    error = refused(
        cursor,
        "INSERT INTO merge_request (project_id, branch_id, number, title) VALUES (%s, %s, 1, 'x')",
        (str(world["shop"].id), str(world["branch"].id)),
        errors.CheckViolation,
    )
    assert "a branch of its own project" in str(error)
    assert (
        admin_count("SELECT count(*) FROM merge_request WHERE project_id = %s", (world["shop"].id,))
        == 0
    )


def test_a_branch_is_not_moved_to_another_main(world, tx):
    cursor = tx(world["alice"])
    error = refused(
        cursor,
        "UPDATE project SET branch_of_id = %s WHERE id = %s",
        (str(world["other"].id), str(world["shop_branch"].id)),
        errors.CheckViolation,
    )
    assert "keeps the project and version it forked from" in str(error)
    assert Project.get_by_id(world["shop_branch"].id).branch_of_id == world["shop"].id


@pytest.fixture
def admin_count(database_url):
    """admin_count(sql, params): the first column of the first row, as a superuser (UUIDs
    in params are passed as text); a statement returning no row gives None."""
    import psycopg2

    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    cursor = conn.cursor()

    def run(sql, params=()):
        cursor.execute(sql, tuple(str(p) for p in params))
        row = cursor.fetchone() if cursor.description else None
        return row[0] if row else None

    yield run
    conn.close()
