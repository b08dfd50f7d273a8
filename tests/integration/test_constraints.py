"""Every constraint of the spec, violated straight against PostgreSQL.

Each test writes SQL that breaks one rule and expects the database itself
(not the application) to refuse it, naming the constraint it enforced.
"""

import uuid

import psycopg2
import psycopg2.errors
import pytest


@pytest.fixture
def sql(database_url, clean_database):
    conn = psycopg2.connect(database_url)
    yield Sql(conn)
    conn.rollback()
    conn.close()


class Sql:
    def __init__(self, conn):
        self.conn = conn

    def one(self, statement, *params):
        with self.conn.cursor() as cur:
            cur.execute(statement, params)
            row = cur.fetchone() if cur.description else None
        self.conn.commit()
        return row[0] if row and len(row) == 1 else row

    def refused(self, error, statement, *params):
        """Run a statement that must fail; returns the constraint PostgreSQL named."""
        with pytest.raises(error) as caught, self.conn.cursor() as cur:
            cur.execute(statement, params)
        self.conn.rollback()
        return caught.value.diag.constraint_name

    def count(self, table, where="true", *params):
        return self.one(f"SELECT count(*) FROM {table} WHERE {where}", *params)

    # Fixtures of the data model, built with plain SQL.
    def user(self, name="alice"):
        return self.one(
            "INSERT INTO app_user (username, email, password_hash)"
            " VALUES (%s, %s, 'x') RETURNING id",
            name,
            f"{name}@example.com",
        )

    def project(self, owner):
        return self.one("INSERT INTO project (name, owner_id) VALUES ('P', %s) RETURNING id", owner)

    def table(self, project, name="Customers", table_name=None):
        return self.one(
            "INSERT INTO data_table (project_id, name, table_name)"
            " VALUES (%s, %s, %s) RETURNING id",
            project,
            name,
            table_name or name.lower(),
        )

    def field(self, table, name="Email", field_name=None, sort_order=1):
        return self.one(
            "INSERT INTO data_field (table_id, name, field_name, data_type, sort_order)"
            " VALUES (%s, %s, %s, 'text', %s) RETURNING id",
            table,
            name,
            field_name or name.lower(),
            sort_order,
        )

    def relationship(self, project, source, target, name="fk", source_field=None):
        return self.one(
            "INSERT INTO table_relationship (project_id, source_table_id, target_table_id,"
            " source_field_id, relationship_name) VALUES (%s, %s, %s, %s, %s) RETURNING id",
            project,
            source,
            target,
            source_field,
            name,
        )

    def version(self, project, number=1):
        return self.one(
            "INSERT INTO schema_version (project_id, version_number, schema_hash, schema_snapshot)"
            " VALUES (%s, %s, 'h', '{}') RETURNING id",
            project,
            number,
        )

    def lock(self, table, user, lock_type="pessimistic", released=False):
        return self.one(
            "INSERT INTO table_lock (table_id, user_id, lock_token, lock_type, expires_at,"
            " released_at, end_reason) VALUES (%s, %s, %s, %s, now() + interval '1 minute',"
            " CASE WHEN %s THEN now() END, CASE WHEN %s THEN 'released' END) RETURNING id",
            table,
            user,
            str(uuid.uuid4()),
            lock_type,
            released,
            released,
        )


@pytest.fixture
def world(sql):
    """A user, a project and a table with one field."""
    user = sql.user()
    project = sql.project(user)
    table = sql.table(project)
    field = sql.field(table)
    return {"user": user, "project": project, "table": table, "field": field}


# Foreign keys with ON DELETE CASCADE


def test_deleting_a_project_deletes_its_tables_fields_relationships_versions(sql, world):
    sql.relationship(world["project"], world["table"], world["table"])
    sql.version(world["project"])
    sql.one("DELETE FROM project WHERE id = %s", world["project"])
    for table in ("data_table", "data_field", "table_relationship", "schema_version"):
        assert sql.count(table) == 0, table


def test_a_table_needs_an_existing_project(sql, world):
    name = sql.refused(
        psycopg2.errors.ForeignKeyViolation,
        "INSERT INTO data_table (project_id, name, table_name) VALUES (%s, 'X', 'x')",
        str(uuid.uuid4()),
    )
    assert name == "data_table_project_id_fkey"


def test_deleting_a_table_deletes_its_fields_and_locks(sql, world):
    sql.lock(world["table"], world["user"])
    sql.one("DELETE FROM data_table WHERE id = %s", world["table"])
    assert sql.count("data_field") == 0
    assert sql.count("table_lock") == 0


def test_a_field_needs_an_existing_table(sql, world):
    name = sql.refused(
        psycopg2.errors.ForeignKeyViolation,
        "INSERT INTO data_field (table_id, name, field_name, data_type, sort_order)"
        " VALUES (%s, 'A', 'a', 'text', 1)",
        str(uuid.uuid4()),
    )
    assert name == "data_field_table_id_fkey"


def test_a_relationship_needs_an_existing_project(sql, world):
    name = sql.refused(
        psycopg2.errors.ForeignKeyViolation,
        "INSERT INTO table_relationship (project_id, source_table_id, target_table_id,"
        " relationship_name) VALUES (%s, %s, %s, 'r')",
        str(uuid.uuid4()),
        world["table"],
        world["table"],
    )
    assert name.startswith("table_relationship_project_id")


def test_a_version_needs_an_existing_project(sql, world):
    name = sql.refused(
        psycopg2.errors.ForeignKeyViolation,
        "INSERT INTO schema_version (project_id, version_number, schema_hash, schema_snapshot)"
        " VALUES (%s, 1, 'h', '{}')",
        str(uuid.uuid4()),
    )
    assert name == "schema_version_project_id_fkey"


def test_a_lock_needs_an_existing_table(sql, world):
    name = sql.refused(
        psycopg2.errors.ForeignKeyViolation,
        "INSERT INTO table_lock (table_id, user_id, lock_token, lock_type, expires_at)"
        " VALUES (%s, %s, gen_random_uuid(), 'critical', now() + interval '1 minute')",
        str(uuid.uuid4()),
        world["user"],
    )
    assert name == "table_lock_table_id_fkey"


# Relationship integrity beyond the spec's list: same project, fields of their tables.


def test_relationship_tables_must_share_the_relationship_project(sql, world):
    other_project = sql.project(world["user"])
    other_table = sql.table(other_project, "Orders")
    name = sql.refused(
        psycopg2.errors.ForeignKeyViolation,
        "INSERT INTO table_relationship (project_id, source_table_id, target_table_id,"
        " relationship_name) VALUES (%s, %s, %s, 'r')",
        world["project"],
        world["table"],
        other_table,
    )
    assert name == "table_relationship_project_id_target_table_id_fkey"


def test_relationship_field_must_belong_to_its_side_table(sql, world):
    orders = sql.table(world["project"], "Orders")
    name = sql.refused(
        psycopg2.errors.ForeignKeyViolation,
        "INSERT INTO table_relationship (project_id, source_table_id, target_table_id,"
        " source_field_id, relationship_name) VALUES (%s, %s, %s, %s, 'r')",
        world["project"],
        orders,
        world["table"],
        world["field"],
    )
    assert name == "table_relationship_source_table_id_source_field_id_fkey"


def test_a_field_used_by_a_relationship_cannot_be_deleted_alone(sql, world):
    sql.relationship(world["project"], world["table"], world["table"], source_field=world["field"])
    name = sql.refused(
        psycopg2.errors.ForeignKeyViolation, "DELETE FROM data_field WHERE id = %s", world["field"]
    )
    assert name.startswith("table_relationship_source")


# Unique constraints


def test_table_names_are_unique_within_a_project(sql, world):
    name = sql.refused(
        psycopg2.errors.UniqueViolation,
        "INSERT INTO data_table (project_id, name, table_name) VALUES (%s, 'Customers', 'other')",
        world["project"],
    )
    assert name == "data_table_project_id_name"


def test_same_table_name_is_fine_in_another_project(sql, world):
    other = sql.project(world["user"])
    assert sql.table(other, "Customers")


def test_table_identifiers_are_unique_within_a_project(sql, world):
    name = sql.refused(
        psycopg2.errors.UniqueViolation,
        "INSERT INTO data_table (project_id, name, table_name) VALUES (%s, 'Clients', 'customers')",
        world["project"],
    )
    assert name == "data_table_project_id_table_name"


def test_field_names_are_unique_within_a_table(sql, world):
    name = sql.refused(
        psycopg2.errors.UniqueViolation,
        "INSERT INTO data_field (table_id, name, field_name, data_type, sort_order)"
        " VALUES (%s, 'Email', 'email_2', 'text', 2)",
        world["table"],
    )
    assert name == "data_field_table_id_name"


def test_field_column_names_are_unique_within_a_table(sql, world):
    name = sql.refused(
        psycopg2.errors.UniqueViolation,
        "INSERT INTO data_field (table_id, name, field_name, data_type, sort_order)"
        " VALUES (%s, 'Mail', 'email', 'text', 2)",
        world["table"],
    )
    assert name == "data_field_table_id_field_name"


def test_version_numbers_are_unique_within_a_project(sql, world):
    sql.version(world["project"], 1)
    name = sql.refused(
        psycopg2.errors.UniqueViolation,
        "INSERT INTO schema_version (project_id, version_number, schema_hash, schema_snapshot)"
        " VALUES (%s, 1, 'other', '{}')",
        world["project"],
    )
    assert name == "schema_version_project_id_version_number"


def test_only_one_active_lock_per_table(sql, world):
    sql.lock(world["table"], world["user"])
    other = sql.user("bob")
    name = sql.refused(
        psycopg2.errors.UniqueViolation,
        "INSERT INTO table_lock (table_id, user_id, lock_token, lock_type, expires_at)"
        " VALUES (%s, %s, gen_random_uuid(), 'critical', now() + interval '1 minute')",
        world["table"],
        other,
    )
    assert name == "table_lock_one_active_per_table"


def test_ended_locks_do_not_block_a_new_one(sql, world):
    sql.lock(world["table"], world["user"], released=True)
    sql.lock(world["table"], world["user"], released=True)
    assert sql.lock(world["table"], world["user"])
    assert sql.count("table_lock", "released_at IS NULL") == 1


def test_usernames_are_unique_ignoring_case(sql, world):
    name = sql.refused(
        psycopg2.errors.UniqueViolation,
        "INSERT INTO app_user (username, email, password_hash) VALUES ('ALICE', 'x@y.z', 'h')",
    )
    assert name == "app_user_username_lower"


def test_a_user_is_a_member_of_a_project_once(sql, world):
    sql.one(
        "INSERT INTO project_member (project_id, user_id, role) VALUES (%s, %s, 'owner')",
        world["project"],
        world["user"],
    )
    name = sql.refused(
        psycopg2.errors.UniqueViolation,
        "INSERT INTO project_member (project_id, user_id, role) VALUES (%s, %s, 'viewer')",
        world["project"],
        world["user"],
    )
    assert name == "project_member_project_id_user_id"


# Check constraints


@pytest.mark.parametrize("status", ["Published", "", "DRAFT", "archived"])
def test_table_status_must_be_a_lifecycle_state(sql, world, status):
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        "UPDATE data_table SET status = %s WHERE id = %s",
        status,
        world["table"],
    )
    assert name == "data_table_status_check"


@pytest.mark.parametrize("status", ["draft", "active", "deprecated", "deleted"])
def test_each_lifecycle_state_is_accepted(sql, world, status):
    sql.one("UPDATE data_table SET status = %s WHERE id = %s", status, world["table"])
    assert sql.one("SELECT status FROM data_table WHERE id = %s", world["table"]) == status


@pytest.mark.parametrize("data_type", ["varchar", "integer", "json", "TEXT", ""])
def test_field_data_type_must_be_supported(sql, world, data_type):
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        "UPDATE data_field SET data_type = %s WHERE id = %s",
        data_type,
        world["field"],
    )
    assert name == "data_field_data_type_check"


def test_relationship_type_must_be_one_to_many(sql, world):
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        "INSERT INTO table_relationship (project_id, source_table_id, target_table_id,"
        " relationship_name, relationship_type) VALUES (%s, %s, %s, 'r', 'many_to_many')",
        world["project"],
        world["table"],
        world["table"],
    )
    assert name == "table_relationship_relationship_type_check"


def test_lock_must_expire_after_it_was_taken(sql, world):
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        "INSERT INTO table_lock (table_id, user_id, lock_token, lock_type, locked_at, expires_at)"
        " VALUES (%s, %s, gen_random_uuid(), 'critical', now(), now() - interval '1 second')",
        world["table"],
        world["user"],
    )
    assert name == "table_lock_check"


@pytest.mark.parametrize("lock_type", ["exclusive", "shared", ""])
def test_lock_type_must_be_known(sql, world, lock_type):
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        "INSERT INTO table_lock (table_id, user_id, lock_token, lock_type, expires_at)"
        " VALUES (%s, %s, gen_random_uuid(), %s, now() + interval '1 minute')",
        world["table"],
        world["user"],
        lock_type,
    )
    assert name == "table_lock_lock_type_check"


def test_lock_token_must_be_a_uuid(sql, world):
    # The uuid column type refuses it, before any constraint is consulted.
    assert None is sql.refused(
        psycopg2.errors.InvalidTextRepresentation,
        "INSERT INTO table_lock (table_id, user_id, lock_token, lock_type, expires_at)"
        " VALUES (%s, %s, 'not-a-uuid', 'critical', now() + interval '1 minute')",
        world["table"],
        world["user"],
    )


def test_sort_order_cannot_be_negative(sql, world):
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        "UPDATE data_field SET sort_order = -1 WHERE id = %s",
        world["field"],
    )
    assert name == "data_field_sort_order_check"


def test_member_role_must_be_known(sql, world):
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        "INSERT INTO project_member (project_id, user_id, role) VALUES (%s, %s, 'admin')",
        world["project"],
        world["user"],
    )
    assert name == "project_member_role_check"


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("data_table", "schema_definition", "[1, 2]"),
        ("data_field", "field_config", '"text"'),
    ],
)
def test_json_configuration_must_be_an_object(sql, world, table, column, value):
    row = world["table"] if table == "data_table" else world["field"]
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        f"UPDATE {table} SET {column} = %s::jsonb WHERE id = %s",
        value,
        row,
    )
    assert name == f"{table}_{column}_check"


def test_invalid_json_is_refused(sql, world):
    assert None is sql.refused(
        psycopg2.errors.InvalidTextRepresentation,
        "UPDATE data_table SET schema_definition = '{not json' WHERE id = %s",
        world["table"],
    )


def test_version_changes_must_be_an_array(sql, world):
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        "INSERT INTO schema_version (project_id, version_number, schema_hash, schema_snapshot,"
        " changes) VALUES (%s, 1, 'h', '{}', '{}')",
        world["project"],
    )
    assert name == "schema_version_changes_check"


@pytest.mark.parametrize("value", ["[1, 2]", '"text"', "null", "1"])
def test_a_version_snapshot_must_be_a_json_object(sql, world, value):
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        "INSERT INTO schema_version (project_id, version_number, schema_hash, schema_snapshot)"
        " VALUES (%s, 1, 'h', %s::json)",
        world["project"],
        value,
    )
    assert name == "schema_version_schema_snapshot_check"


@pytest.mark.parametrize("text", ["{not json", '{"tables": {}', '{"a": 1} trailing', ""])
def test_a_version_snapshot_must_be_valid_json(sql, world, text):
    # Stored as json text (migration 0011): PostgreSQL still checks every byte of it.
    assert None is sql.refused(
        psycopg2.errors.InvalidTextRepresentation,
        "INSERT INTO schema_version (project_id, version_number, schema_hash, schema_snapshot)"
        " VALUES (%s, 1, 'h', %s)",
        world["project"],
        text,
    )


def test_revisions_are_positive(sql, world):
    name = sql.refused(
        psycopg2.errors.CheckViolation,
        "UPDATE data_table SET revision = 0 WHERE id = %s",
        world["table"],
    )
    assert name == "data_table_revision_check"


# Indexes of the spec's indexing strategy


def index_definitions(sql):
    with sql.conn.cursor() as cur:
        cur.execute("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        return cur.fetchall()


def leading_columns(sql):
    found = set()
    for table, definition in index_definitions(sql):
        columns = definition.split("(", 1)[1].split(")")[0]
        found.add((table, columns.split(",")[0].strip()))
    return found


def test_every_foreign_key_column_leads_an_index(sql):
    with sql.conn.cursor() as cur:
        cur.execute(
            "SELECT conrelid::regclass::text, a.attname FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE c.contype = 'f' AND connamespace = 'public'::regnamespace"
        )
        foreign_keys = set(cur.fetchall())
    missing = foreign_keys - leading_columns(sql)
    assert not missing


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("data_table", "name"),
        ("data_table", "table_name"),
        ("data_field", "name"),
        ("data_field", "field_name"),
        ("data_table", "project_id, status"),
        ("data_field", "table_id, sort_order"),
        ("schema_version", "project_id, version_number"),
    ],
)
def test_search_and_composite_indexes_exist(sql, table, columns):
    wanted = f"({columns})"
    assert any(t == table and d.endswith(wanted) for t, d in index_definitions(sql))
