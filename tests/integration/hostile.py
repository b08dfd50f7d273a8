"""What the hostile-input tests read: the designer's row counts, the target's catalog and
roles, and another tenant whose deployed rows must stay as they are."""

from designer import projects
from designer.database import deploy
from designer.database.tenant_roles import role_for
from designer.design import fields
from designer.design import tables
from designer.models import ActivityEntry
from designer.models import DataField
from designer.models import DataTable
from designer.models import Deployment
from designer.models import Project
from designer.models import SchemaVersion
from designer.models import TableRelationship
from tests.on_target import on_target

INJECTION = "bigint); DROP TABLE other.customers; CREATE TABLE public.pwned (id bigint"
PAYLOADS = [
    INJECTION,
    "x'); DROP TABLE other.customers; --",
    '"; ALTER ROLE CURRENT_USER SET search_path = pwned; --',
    "$$; DROP TABLE other.customers; $$",
    "\\'; COMMIT; DROP TABLE other.customers; --",
    "*/ DROP TABLE other.customers; /*",
    "line\nDROP TABLE other.customers;",
]
COUNTED = (
    Project, DataTable, DataField, TableRelationship, SchemaVersion, ActivityEntry, Deployment,
)  # fmt: skip


def design_rows():
    """How many rows each of the designer's tables holds (every project's: tests see all)."""
    return {model.__name__: model.select().count() for model in COUNTED}


RELATIONS = """
SELECT n.nspname, c.relname, c.relkind FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
ORDER BY 1, 2
"""
ROLES = """
SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolbypassrls,
       (SELECT array_agg(s.setconfig ORDER BY s.setdatabase) FROM pg_db_role_setting s
        WHERE s.setrole = r.oid)
FROM pg_roles r ORDER BY 1
"""


def target_catalog(outside=None):
    """The target's relations and its roles' powers and settings; outside one project, when
    given (its schema, and the role of its own that a first deploy makes)."""
    schema = outside.target_schema if outside else None
    role = role_for(outside.id) if outside else None
    return {
        "relations": [row for row in on_target(RELATIONS) if row[0] != schema],
        "roles": [row for row in on_target(ROLES) if row[0] != role],
    }


def other_tenant(make_user):
    """Bob's project Other, deployed to the schema `other`: customers with three rows."""
    bob = make_user("bob")
    other = projects.create_project(bob, "Other")
    assert other.target_schema == "other"
    table = tables.create_table(bob, other.id, "Customers")
    fields.create_field(bob, table.id, {"name": "Paid", "data_type": "number"})
    deploy.transition(bob, table.id, "active")
    on_target("INSERT INTO other.customers (paid) VALUES (10), (20), (30)")
    return other


def tenant_rows():
    return on_target("SELECT id, paid FROM other.customers ORDER BY id")


def column_default(schema, table, column):
    """The default expression PostgreSQL holds for a column, as pg_get_expr writes it."""
    return on_target(
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
        " JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
        " WHERE d.adrelid = format('%%I.%%I', %s::text, %s::text)::regclass AND a.attname = %s",
        (schema, table, column),
    )[0][0]
