"""Which schema of the deploy target is whose: a project's reservation, its role, and what
happens to both when the project moves its target or is deleted.

Row-level security shows a user only the reservations of their projects and those kept for
them, so every answer here is about the user's own; another tenant's name shows up only as
the primary key refusing it, with the same words as a name that exists on the target.
"""

import psycopg2
from peewee import IntegrityError

from designer.database import target
from designer.database import tenant_roles
from designer.database.catalog import schema_exists
from designer.database.tenant_roles import Tenant
from designer.db import database
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.models import Deployment
from designer.models import ProjectMember
from designer.models import TargetReservation

TAKEN = "This schema name is taken; choose another."


def reserve(project_id, schema):
    """Hold `schema` for a new project (raises IntegrityError when any reservation holds it)."""
    return TargetReservation.create(
        schema_name=schema, role_name=tenant_roles.role_for(project_id), project=project_id
    )


def reservation_of(project):
    row = TargetReservation.get_or_none(TargetReservation.project == project.id)
    if row is None:  # a project made by a raw insert, before any reservation
        with database.atomic():
            row = reserve(project.id, project.target_schema)
    return row


def tenant_of(project):
    """The project's schema and role on the target, both made there on first use."""
    row = reservation_of(project)
    tenant = Tenant(row.schema_name, row.role_name)
    url = target.target_url()
    if not tenant_roles.is_ready(url, tenant.role, tenant.schema):
        try:
            tenant_roles.provision(url, tenant.schema, tenant.role, handover=row.handover)
        except psycopg2.OperationalError as exc:
            reason = target.first_line(exc)
            raise Conflict(f"The deploy target cannot be reached: {reason}") from exc
        except tenant_roles.SchemaTaken as exc:
            message = (
                f"The schema {tenant.schema} exists on the deploy target and is not this "
                "project's: choose another target schema in the project's settings."
            )
            raise ValidationFailed(message, {"target_schema": message}) from exc
        if row.handover:
            TargetReservation.update(handover=False).where(
                TargetReservation.schema_name == row.schema_name
            ).execute()
    return tenant


def schema_on_target(schema):
    """Whether the target holds a schema of this name (anyone's)."""
    conn = target.connect()
    try:
        with conn.cursor() as cursor:
            return schema_exists(cursor, schema)
    finally:
        conn.close()


def move(project, schema):
    """The project deploys into `schema` from now on (nothing of it is deployed yet)."""
    row = reservation_of(project)
    if schema_on_target(schema):
        raise ValidationFailed(TAKEN, {"target_schema": TAKEN})
    try:
        with database.atomic():
            TargetReservation.update(schema_name=schema).where(
                TargetReservation.schema_name == row.schema_name
            ).execute()
    except IntegrityError as exc:
        raise ValidationFailed(TAKEN, {"target_schema": TAKEN}) from exc
    # The old schema is empty (nothing was deployed): it goes with the role, made anew later.
    tenant_roles.drop(target.target_url(), row.role_name)


def has_deployed(project):
    return (
        Deployment.select()
        .where(Deployment.project == project.id, Deployment.status == "applied")
        .exists()
    )


def deployed_rows(project):
    """[(table name, rows)] of the project's schema on the target, counted as its role."""
    tenant = tenant_of(project)
    conn = target.connect_as(tenant)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', '10000ms', true)")
            cursor.execute(
                "SELECT format('%%I.%%I', n.nspname, c.relname), c.relname FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
                (tenant.schema,),
            )
            counted = []
            for relation, name in cursor.fetchall():
                cursor.execute(f"SELECT count(*) FROM {relation}")
                counted.append((name, cursor.fetchone()[0]))
        conn.rollback()
        return counted
    finally:
        conn.close()


def release(project, keep):
    """Before the project is deleted: keep its schema for its owners, or drop it."""
    row = reservation_of(project)
    if keep:
        owners = [
            m.user_id
            for m in ProjectMember.select().where(
                ProjectMember.project == project.id, ProjectMember.role == "owner"
            )
        ]
        TargetReservation.update(kept_for=owners, kept_name=project.name).where(
            TargetReservation.schema_name == row.schema_name
        ).execute()
        return
    TargetReservation.delete().where(TargetReservation.schema_name == row.schema_name).execute()
    tenant_roles.drop(target.target_url(), row.role_name)


def kept_reservation(schema):
    """The user's kept reservation of `schema` (a deleted project's), or None."""
    return TargetReservation.get_or_none(
        TargetReservation.schema_name == schema, TargetReservation.project.is_null()
    )


def own_reservations(names):
    """Of these names, the reservations the user sees: their projects' and kept for them."""
    return {
        row.schema_name: row
        for row in TargetReservation.select().where(TargetReservation.schema_name.in_(list(names)))
    }
