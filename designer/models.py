"""The designer's data model (spec: data-model.md) as peewee models.

Every rule the spec states as a constraint is declared here so that
PostgreSQL, not only this code, enforces it; migrations/0001 creates exactly
this schema (tests/integration/test_migrations.py compares the two).
"""

from peewee import SQL
from peewee import BigIntegerField
from peewee import BlobField
from peewee import BooleanField
from peewee import Case
from peewee import CharField
from peewee import Check
from peewee import Column
from peewee import CompositeKey
from peewee import FieldAccessor
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import JSONField
from peewee import TextField
from peewee import UUIDField
from peewee import fn
from playhouse.postgres_ext import ArrayField

from designer.db import BaseModel
from designer.db import Timestamp

TABLE_STATUSES = ("draft", "active", "deprecated", "deleted")
DATA_TYPES = ("text", "number", "date", "boolean")
RELATIONSHIP_TYPES = ("one_to_many",)
LOCK_TYPES = ("optimistic", "pessimistic", "critical")
LOCK_ENDINGS = ("released", "expired", "forced")
PART_KINDS = ("table", "relationship", "other")
ROLES = ("viewer", "editor", "owner")
# Free texts shown to every member: long enough for prose, short enough to serve.
MAX_DESCRIPTION = 10_000
# running: a live process runs it; unknown: its process died mid-way (designer.database.in_flight).
DEPLOYMENT_STATUSES = (
    "dry_run_ok", "dry_run_failed", "applied", "failed", "running", "unknown",
)  # fmt: skip


def one_of(column, values):
    listed = ", ".join(f"'{value}'" for value in values)
    return Check(f"{column} IN ({listed})")


class JSONTextField(JSONField):
    """A `json` column (the text as written, validated), not peewee's default `jsonb`."""

    field_type = "json"


class AssembledSnapshotField(JSONTextField):
    """schema_version.schema_snapshot: NULL for a version stored in parts (migration 0026),
    so a select of it reads the snapshot its manifest names, assembled by PostgreSQL; a
    version written whole is read as written. Writes and conditions see the column."""

    def __sql__(self, ctx):
        if not ctx.state.in_projection:
            return super().__sql__(ctx)
        table = self.model._meta.table
        assembled = fn.version_snapshot(Column(table, "manifest"), Column(table, "project_id"))
        return ctx.sql(fn.coalesce(Column(table, self.column_name), assembled))


class EverythingAddedAccessor(FieldAccessor):
    """A version's `changes` read from an instance: those of a version whose changes are
    everything added (stored as []) are derived from its snapshot on first use."""

    def __get__(self, instance, instance_type=None):
        value = super().__get__(instance, instance_type)
        if instance is None or value != [] or not instance.__data__.get("adds_everything"):
            return value
        if "_derived_changes" not in instance.__dict__:
            from designer.history import versions  # (versions imports the models)

            instance._derived_changes = versions.everything_added(instance.id)
        return instance._derived_changes


class ChangesField(JSONTextField):
    """schema_version.changes. A version that adds everything (a first version, migration
    0035) stores [] and `adds_everything`: a select of the column reads a marker naming the
    version, and its changes come back derived from the version's snapshot by the diff
    engine (designer.history.versions.everything_added), exactly the list it once stored.
    Writes and conditions see the column."""

    accessor_class = EverythingAddedAccessor
    MARKER = "everything_added"

    def __sql__(self, ctx):
        if not ctx.state.in_projection:
            return super().__sql__(ctx)
        table = self.model._meta.table
        marker = fn.json_build_array(fn.json_build_object(self.MARKER, Column(table, "id")))
        stored = Column(table, self.column_name)
        return ctx.sql(Case(None, [(Column(table, "adds_everything"), marker)], stored))

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
            named = value[0].get(self.MARKER)
            if named is not None and len(value[0]) == 1:
                from designer.history import versions  # (versions imports the models)

                return versions.everything_added(named)
        return value


def revision_field():
    return IntegerField(default=1, constraints=[SQL("DEFAULT 1"), Check("revision > 0")])


class User(BaseModel):
    username = CharField(max_length=40)
    email = CharField(max_length=254, unique=True)
    password_hash = TextField()
    is_active = BooleanField(default=True, constraints=[SQL("DEFAULT true")])
    created_at = Timestamp()
    # A session is valid only while it carries this number: bumping it signs out everywhere.
    session_epoch = IntegerField(default=1, constraints=[SQL("DEFAULT 1")])

    class Meta:
        table_name = "app_user"

    # Flask-Login reads these four; they are plain attributes, not a Flask import.
    is_authenticated = True
    is_anonymous = False

    # An API token's scope, on the user it signs in (designer.api_tokens).
    token_read_only = False
    token_project_id = None
    # The token a request came with (None for a signed-in page).
    token_id = None

    def get_id(self):
        return str(self.id)


User.add_index(User.index(fn.lower(User.username), unique=True, name="app_user_username_lower"))


class UserName(User):
    """A user's id and username, all the app reads of anyone else's account: the view
    `user_name` (migrations/0016), where app_user shows the app only its own user's row.
    A User, so that a join can hang it on a foreign key (`lock.user.username`)."""

    email = None
    password_hash = None
    is_active = None
    created_at = None
    session_epoch = None

    class Meta:
        table_name = "user_name"


class Project(BaseModel):
    name = CharField(max_length=200)
    description = TextField(default="", constraints=[SQL("DEFAULT ''")])
    owner = ForeignKeyField(User, backref="owned_projects")
    created_at = Timestamp()
    updated_at = Timestamp()
    is_active = BooleanField(default=True, constraints=[SQL("DEFAULT true")])
    revision = revision_field()
    # The schema of the deploy target this project's tables are deployed into; the
    # app derives it from the name, the database default only serves raw inserts.
    target_schema = CharField(
        max_length=63,
        unique=True,
        constraints=[SQL("DEFAULT ('p_' || substr(md5(random()::text), 1, 16))")],
    )
    # A branch (migration 0052): the project it branches, the version of that project it
    # forked from, and when it was merged. NULL, NULL, NULL for a main project.
    branch_of = ForeignKeyField("self", null=True, on_delete="CASCADE", backref="branches")
    fork_version_id = UUIDField(null=True)
    merged_at = Timestamp(null=True, server_default=False)
    # How many editors other than its author approve a merge request before it merges.
    approvals_required = IntegerField(
        default=1, constraints=[SQL("DEFAULT 1"), Check("approvals_required BETWEEN 0 AND 10")]
    )

    class Meta:
        indexes = ((("id", "branch_of"), True),)
        constraints = [
            SQL(
                "CONSTRAINT project_branch_forked"
                " CHECK ((branch_of_id IS NULL) = (fork_version_id IS NULL))"
            ),
            SQL(
                "CONSTRAINT project_branch_merged"
                " CHECK (merged_at IS NULL OR branch_of_id IS NOT NULL)"
            ),
            SQL("CONSTRAINT project_branch_other CHECK (branch_of_id <> id)"),
        ]

    @property
    def is_branch(self):
        return self.branch_of_id is not None


# A branch's name is its own among main's branches, whatever its case.
Project.add_index(
    Project.index(
        Project.branch_of, SQL("lower(name)"), unique=True, name="project_branch_name"
    ).where(Project.branch_of.is_null(False))
)


class ApiToken(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE", backref="tokens")
    name = CharField(max_length=100, constraints=[Check("btrim(name) <> ''")])
    token_hash = CharField(max_length=64, unique=True)
    created_at = Timestamp()
    last_used_at = Timestamp(null=True, server_default=False)
    revoked_at = Timestamp(null=True, server_default=False)
    expires_at = Timestamp(null=True, server_default=False)
    # The token's scope: reading only, and one project (None: all of its user's projects).
    read_only = BooleanField(default=False, constraints=[SQL("DEFAULT false")])
    project = ForeignKeyField(Project, null=True, on_delete="CASCADE")


class ProjectMember(BaseModel):
    project = ForeignKeyField(Project, on_delete="CASCADE", backref="members", index=False)
    user = ForeignKeyField(User, on_delete="CASCADE", backref="memberships")
    role = CharField(max_length=16, constraints=[one_of("role", ROLES)])
    created_at = Timestamp()
    revision = revision_field()

    class Meta:
        indexes = ((("project", "user"), True),)


class DataTable(BaseModel):
    project = ForeignKeyField(Project, on_delete="CASCADE", backref="tables", index=False)
    name = CharField(max_length=200)
    description = TextField(default="", constraints=[SQL("DEFAULT ''")])
    table_name = CharField(max_length=63)
    schema_definition = JSONField(
        default=dict,
        constraints=[
            SQL("DEFAULT '{}'::jsonb"),
            Check("jsonb_typeof(schema_definition) = 'object'"),
        ],
    )
    status = CharField(
        max_length=16,
        default="draft",
        constraints=[SQL("DEFAULT 'draft'"), one_of("status", TABLE_STATUSES)],
    )
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = Timestamp()
    updated_at = Timestamp()
    revision = revision_field()
    # When the table was first deployed to the target; NULL while it never was
    # (or after it was dropped from the database).
    deployed_at = Timestamp(null=True, server_default=False)
    # What a search looks in: its and its columns' names and descriptions, lower case,
    # one a line. Triggers write it (migrations/0011); whatever is saved here is replaced.
    search_text = TextField(default="", constraints=[SQL("DEFAULT ''")])

    class Meta:
        indexes = (
            (("project", "name"), True),
            (("project", "table_name"), True),
            # Target of the composite keys that keep relationships inside one project.
            (("project", "id"), True),
            (("project", "status"), False),
            (("name",), False),
            (("table_name",), False),
        )


class SearchGram(BaseModel):
    """The trigrams of a table's search_text, kept by a trigger for the index that serves
    searches under row-level security (migration 0047). Row-level security is on with no
    policy: only the owner's definer functions read or write it, never the app's role."""

    data_table = ForeignKeyField(
        DataTable, column_name="table_id", primary_key=True, on_delete="CASCADE", backref="+"
    )
    grams = ArrayField(IntegerField, index=False)


# Without a pending list (migration 0047), which every search would read.
SearchGram.add_index(
    SQL("CREATE INDEX search_gram_grams ON search_gram USING gin (grams) WITH (fastupdate = off)")
)


class SearchName(BaseModel):
    """What a broad search's best groups ask of a table: its project, status and name, and
    its name, table name and description lower-cased, kept by a trigger (migration 0051).
    Row-level security is on with no policy, as SearchGram's: only the owner's definer
    functions read or write it, never the app's role."""

    data_table = ForeignKeyField(
        DataTable, column_name="table_id", primary_key=True, on_delete="CASCADE", backref="+"
    )
    project_id = UUIDField()
    status = TextField()
    name = TextField()
    name_lower = TextField()
    table_name_lower = TextField()
    description_lower = TextField()


SearchName.add_index(SQL("CREATE INDEX search_name_project ON search_name (project_id)"))


class DataField(BaseModel):
    data_table = ForeignKeyField(
        DataTable,
        column_name="table_id",
        on_delete="CASCADE",
        backref="fields",
        index=False,
    )
    # The table's project, filled by a trigger (migrations/0009), for row-level security.
    project_id = UUIDField(null=True, index=False)
    name = CharField(max_length=200)
    field_name = CharField(max_length=63)
    data_type = CharField(max_length=16, constraints=[one_of("data_type", DATA_TYPES)])
    is_required = BooleanField(default=False, constraints=[SQL("DEFAULT false")])
    default_value = TextField(null=True)
    field_config = JSONField(
        default=dict,
        constraints=[
            SQL("DEFAULT '{}'::jsonb"),
            Check("jsonb_typeof(field_config) = 'object'"),
        ],
    )
    sort_order = IntegerField(constraints=[Check("sort_order >= 0")])
    created_at = Timestamp()
    updated_at = Timestamp()
    revision = revision_field()

    class Meta:
        indexes = (
            (("data_table", "name"), True),
            (("data_table", "field_name"), True),
            # Target of the composite keys that tie a relationship's field to its table.
            (("data_table", "id"), True),
            (("data_table", "sort_order"), False),
            (("name",), False),
            (("field_name",), False),
        )
        constraints = (
            SQL(
                "FOREIGN KEY (table_id, project_id)"
                " REFERENCES data_table (id, project_id) ON DELETE CASCADE"
            ),
        )


# Fields of an enum type by project and enum (migration 0043): which enums a deploy's
# tables use is read from these alone (designer/database/pending.py).
DataField.add_index(
    DataField.index(
        DataField.project_id, SQL("(field_config ->> 'enum_id')"), name="data_field_enum"
    ).where(SQL("field_config ->> 'text_type' = 'enum'"))
)


class TableRelationship(BaseModel):
    project = ForeignKeyField(Project, on_delete="CASCADE", backref="relationships", index=False)
    source_table = ForeignKeyField(DataTable, on_delete="CASCADE", backref="outgoing")
    target_table = ForeignKeyField(DataTable, on_delete="CASCADE", backref="incoming")
    # No cascade from fields: a field a relationship uses cannot be dropped
    # until the relationship goes (the designer asks before doing both).
    source_field = ForeignKeyField(DataField, null=True, backref="+")
    target_field = ForeignKeyField(DataField, null=True, backref="+")
    relationship_name = CharField(max_length=63)
    # Every (key field, foreign key field) pair of a composite foreign key, in order, as
    # [[id, id], ...]; [] for one pair, which source_field and target_field hold (0023).
    field_pairs = JSONField(
        default=list,
        constraints=[SQL("DEFAULT '[]'::jsonb"), Check("jsonb_typeof(field_pairs) = 'array'")],
    )
    relationship_type = CharField(
        max_length=16,
        default="one_to_many",
        constraints=[
            SQL("DEFAULT 'one_to_many'"),
            one_of("relationship_type", RELATIONSHIP_TYPES),
        ],
    )
    cascade_config = JSONField(
        default=dict,
        constraints=[
            SQL("DEFAULT '{}'::jsonb"),
            Check("jsonb_typeof(cascade_config) = 'object'"),
        ],
    )
    status = CharField(
        max_length=16,
        default="draft",
        constraints=[SQL("DEFAULT 'draft'"), one_of("status", TABLE_STATUSES)],
    )
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = Timestamp()
    updated_at = Timestamp()
    revision = revision_field()

    class Meta:
        indexes = ((("project", "relationship_name"), True),)
        constraints = (
            # Source and target tables belong to the relationship's project,
            # and each chosen field belongs to its side's table.
            SQL(
                "FOREIGN KEY (project_id, source_table_id)"
                " REFERENCES data_table (project_id, id) ON DELETE CASCADE"
            ),
            SQL(
                "FOREIGN KEY (project_id, target_table_id)"
                " REFERENCES data_table (project_id, id) ON DELETE CASCADE"
            ),
            SQL(
                "FOREIGN KEY (source_table_id, source_field_id)"
                " REFERENCES data_field (table_id, id)"
            ),
            SQL(
                "FOREIGN KEY (target_table_id, target_field_id)"
                " REFERENCES data_field (table_id, id)"
            ),
        )


class SchemaVersion(BaseModel):
    project = ForeignKeyField(Project, on_delete="CASCADE", backref="versions", index=False)
    version_number = IntegerField(constraints=[Check("version_number > 0")])
    schema_hash = CharField(max_length=64)
    # json, not jsonb: stored and read whole, never queried inside (migration 0011). NULL
    # when the version is stored in parts (0026): selecting it assembles them.
    schema_snapshot = AssembledSnapshotField(
        null=True, constraints=[Check("json_typeof(schema_snapshot) = 'object'")]
    )
    # The canonical JSON naming the version's parts; schema_hash is its sha256 (0026).
    manifest = JSONTextField(null=True)
    # json too: read whole, never queried inside (migration 0014). [] for a version that
    # adds everything (a first version): its changes are derived on read (ChangesField).
    changes = ChangesField(
        default=list,
        constraints=[
            SQL("DEFAULT '[]'::json"),
            Check("json_typeof(changes) = 'array'"),
        ],
    )
    # Its changes are everything its snapshot holds, added: diff(None, snapshot), derived
    # on read rather than stored (hundreds of megabytes at 30,000 tables, migration 0035).
    adds_everything = BooleanField(
        default=False,
        constraints=[
            SQL("DEFAULT false"),
            Check("NOT adds_everything OR json_array_length(changes) = 0"),
        ],
    )
    parent_version = ForeignKeyField("self", null=True, on_delete="SET NULL", backref="children")
    is_merged = BooleanField(default=False, constraints=[SQL("DEFAULT false")])
    message = TextField(default="", constraints=[SQL("DEFAULT ''")])
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = Timestamp()
    # Counts of `changes` (designer.history.diff.summarize), so listings never load them.
    change_summary = JSONField(default=dict, constraints=[SQL("DEFAULT '{}'::jsonb")])
    # Saved by the designer itself (on a deploy, before an import or a restore): folded
    # away in the timeline until asked for (migration 0021).
    automatic = BooleanField(default=False, constraints=[SQL("DEFAULT false")])

    class Meta:
        indexes = ((("project", "version_number"), True),)


class SchemaPart(BaseModel):
    """One part of stored versions (designer/history/parts.py): a table, a relationship, a
    bucket of their hashes, or another top-level key, by the sha256 of its canonical JSON,
    stored once per project whatever the number of versions that have it."""

    id = None
    project = ForeignKeyField(Project, on_delete="CASCADE", index=False)
    hash = CharField(max_length=64)
    body = JSONTextField()
    # The table's or relationship's name, from the body as it is stored (migration 0026):
    # a version page sorts entries by it.
    label = TextField(null=True)
    # A table, a relationship or another part (a bucket, a key kept whole), as the statement
    # storing it says (migration 0049): no default, so one that does not say fails.
    kind = CharField(max_length=16, constraints=[one_of("kind", PART_KINDS)])

    class Meta:
        primary_key = CompositeKey("project", "hash")


# What a comparison looks up in the parts (migration 0039, designer/history/compare.py):
# the relationships of some tables, and the tables of some names.
for _end in ("source_table_id", "target_table_id"):
    SchemaPart.add_index(
        SchemaPart.index(
            SchemaPart.project, SQL(f"(body ->> '{_end}')"), name=f"schema_part_{_end[:6]}"
        ).where(SchemaPart.kind == "relationship")
    )
SchemaPart.add_index(
    SchemaPart.index(SchemaPart.project, SchemaPart.label, name="schema_part_label").where(
        SchemaPart.label.is_null(False)
    )
)


class WorkingPart(BaseModel):
    """A part of the working copy (designer/history/parts.py): a table or relationship's
    canonical JSON and its hash, rewritten by triggers whenever the design changes
    (migration 0030); NULL body and hash where SQL does not write that JSON."""

    id = None
    project = ForeignKeyField(Project, on_delete="CASCADE", index=False)
    kind = TextField(constraints=[one_of("kind", ("tables", "relationships"))])
    entry_id = TextField()
    bucket = TextField()
    label = TextField(null=True)
    body = JSONTextField(null=True)
    hash = CharField(max_length=64, null=True)

    class Meta:
        primary_key = CompositeKey("project", "kind", "entry_id")


WorkingPart.add_index(
    WorkingPart.index(WorkingPart.project, name="working_part_unwritten").where(
        WorkingPart.hash.is_null()
    )
)
WorkingPart.add_index(
    WorkingPart.index(
        WorkingPart.project, WorkingPart.kind, WorkingPart.bucket, name="working_part_bucket"
    )
)


class EntryOrder(BaseModel):
    """A version's tables (or relationships) in the order its page lists them, written the
    first time a page of them is viewed (migration 0032, designer/history/versions.py)."""

    id = None
    project = ForeignKeyField(Project, on_delete="CASCADE", index=False)
    tree = CharField(max_length=32)
    position = IntegerField()
    entry_id = TextField()
    leaf = CharField(max_length=64)

    class Meta:
        primary_key = CompositeKey("project", "tree", "position")


class ExportFile(BaseModel):
    """A downloaded file kept for the next download of it (migration 0040,
    designer/interchange/downloads.py): its sizes and how many gzip members it has."""

    id = None
    project = ForeignKeyField(Project, on_delete="CASCADE", index=False)
    key = CharField(max_length=64)
    slot = CharField(max_length=64)
    raw_size = BigIntegerField(constraints=[Check("raw_size >= 0")])
    gzip_size = BigIntegerField(constraints=[Check("gzip_size >= 0")])
    members = IntegerField(constraints=[Check("members >= 0")])
    created_at = Timestamp()

    class Meta:
        primary_key = CompositeKey("project", "key")


ExportFile.add_index(ExportFile.index(ExportFile.project, ExportFile.slot, name="export_file_slot"))


class ExportMember(BaseModel):
    """One gzip member of a kept file, in its place."""

    id = None
    project_id = UUIDField()
    key = CharField(max_length=64)
    position = IntegerField()
    body = BlobField()

    class Meta:
        primary_key = CompositeKey("project_id", "key", "position")
        constraints = [
            SQL(
                "FOREIGN KEY (project_id, key) REFERENCES export_file (project_id, key)"
                " ON DELETE CASCADE"
            )
        ]


class DriftExpectation(BaseModel):
    """One deployed table's share of drift's expected catalog, kept under the sha256 of what
    decides it (migration 0046, designer/database/expectations.py)."""

    id = None
    project = ForeignKeyField(Project, on_delete="CASCADE", index=False)
    key = CharField(max_length=64)
    digest = CharField(max_length=64)
    body = BlobField()
    size = IntegerField(constraints=[Check("size >= 0")])
    created_at = Timestamp()

    class Meta:
        primary_key = CompositeKey("project", "key")


HEX64 = "'^[0-9a-f]{64}$'"


class SoundPart(BaseModel):
    """A stored part the rules of a stored design accept as it is (migration 0050,
    designer/interchange/sound_parts.py): by the digest of the rules and of the enums."""

    id = None
    project = ForeignKeyField(Project, on_delete="CASCADE", index=False)
    hash = CharField(max_length=64, constraints=[Check(f"hash ~ {HEX64}")])
    rules = CharField(max_length=64, constraints=[Check(f"rules ~ {HEX64}")])
    enums = CharField(max_length=64, constraints=[Check("enums ~ '^([0-9a-f]{64})?$'")])

    class Meta:
        primary_key = CompositeKey("project", "rules", "enums", "hash")


class ProjectChange(BaseModel):
    """How many transactions changed a project's design or feed: moved by triggers
    (migration 0031), read as the stamp open pages poll and caches are kept against."""

    id = None
    project = ForeignKeyField(Project, primary_key=True, on_delete="CASCADE")
    counter = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])


class TableLock(BaseModel):
    data_table = ForeignKeyField(
        DataTable,
        column_name="table_id",
        on_delete="CASCADE",
        backref="locks",
        index=False,
    )
    # The table's project, filled by a trigger (migrations/0009), for row-level security.
    project_id = UUIDField(null=True, index=False)
    user = ForeignKeyField(User, on_delete="CASCADE", backref="locks")
    lock_token = UUIDField(unique=True)
    lock_type = CharField(max_length=16, constraints=[one_of("lock_type", LOCK_TYPES)])
    locked_at = Timestamp()
    expires_at = Timestamp(server_default=False)
    heartbeat_at = Timestamp()
    reason = TextField(default="", constraints=[SQL("DEFAULT ''")])
    released_at = Timestamp(null=True, server_default=False)
    end_reason = CharField(
        max_length=16, null=True, constraints=[one_of("end_reason", LOCK_ENDINGS)]
    )
    # The open page whose leave beacon cut the lease (migrations/0044): its heartbeats sent
    # before it closed, landing after the beacon, renew nothing.
    left_page = TextField(null=True, constraints=[SQL("CHECK (left_page ~ '^[a-z0-9]{1,40}$')")])

    class Meta:
        indexes = ((("data_table", "locked_at"), False),)
        constraints = (
            Check("expires_at > locked_at"),
            Check("(released_at IS NULL) = (end_reason IS NULL)"),
            SQL(
                "FOREIGN KEY (table_id, project_id)"
                " REFERENCES data_table (id, project_id) ON DELETE CASCADE"
            ),
        )


# A lock is active until it is released, expired by the sweep, or forced.
# PostgreSQL itself keeps a table to one such row, whatever the application does.
# The sweep and the lock checks find unreleased locks through it. No index covers
# expires_at, so a heartbeat (which moves it) updates its row in place (migrations/0011).
TableLock.add_index(
    TableLock.index(
        TableLock.data_table,
        unique=True,
        where=TableLock.released_at.is_null(),
        name="table_lock_one_active_per_table",
    )
)


class ActivityEntry(BaseModel):
    """Who changed what in a project, and when (the project page's feed)."""

    project = ForeignKeyField(Project, on_delete="CASCADE", backref="activity", index=False)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    action = CharField(max_length=40)
    summary = TextField()
    subject_id = UUIDField(null=True)
    created_at = Timestamp()

    class Meta:
        indexes = ((("project", "created_at"), False),)


class Deployment(BaseModel):
    """One dry run or deploy of a project's design to its target schema."""

    project = ForeignKeyField(Project, on_delete="CASCADE", backref="deployments", index=False)
    version = ForeignKeyField(SchemaVersion, null=True, on_delete="SET NULL", backref="+")
    target_schema = CharField(max_length=63)
    from_hash = CharField(max_length=64, null=True)
    to_hash = CharField(max_length=64)
    sql = TextField(default="", constraints=[SQL("DEFAULT ''")])
    plan = JSONField(
        default=list,
        constraints=[SQL("DEFAULT '[]'::jsonb"), Check("jsonb_typeof(plan) = 'array'")],
    )
    status = CharField(max_length=16, constraints=[one_of("status", DEPLOYMENT_STATUSES)])
    error = TextField(null=True)
    duration_ms = IntegerField(null=True, constraints=[Check("duration_ms >= 0")])
    # What the target holds after an applied deployment (the next plan's starting point).
    deployed_snapshot = JSONField(null=True)
    # The same as a manifest of parts (designer/history/parts.py), for an applied deployment
    # (migration 0042): pages compare its leaves with the working copy's.
    manifest = JSONTextField(null=True)
    # What a listing shows of the plan, kept by a trigger as the plan is written (migration
    # 0047): its steps, the tables they change and the first three of their names.
    step_count = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    table_count = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    table_names = ArrayField(
        TextField, default=list, index=False, constraints=[SQL("DEFAULT '{}'")]
    )
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = Timestamp()

    class Meta:
        indexes = ((("project", "created_at"), False),)

    @property
    def adopted(self):
        """Recorded by adopting drift: the design took what the target holds; nothing ran."""
        return (self.sql or "").startswith(ADOPTED_SQL)


class TargetReservation(BaseModel):
    """A schema of the deploy target, held for one project, and the role that owns it there.

    Schema names are one namespace across every tenant: a unique index refuses a name that
    any reservation holds, whoever's. When a project is deleted with its schema kept, the
    reservation stays, held for the owners it had then (`kept_for`), who alone may import it.
    """

    schema_name = CharField(max_length=63, unique=True)
    role_name = CharField(max_length=63, unique=True)
    project = ForeignKeyField(
        Project, null=True, unique=True, on_delete="SET NULL", backref="reservations"
    )
    kept_for = ArrayField(UUIDField, default=list, constraints=[SQL("DEFAULT '{}'")])
    kept_name = CharField(max_length=200, null=True)
    # A schema made before projects had roles (or allowed by an administrator): on first
    # use, its objects are handed over to the project's role.
    handover = BooleanField(default=False, constraints=[SQL("DEFAULT false")])
    created_at = Timestamp()


class ProjectEnum(BaseModel):
    """A project's enum type: `CREATE TYPE name AS ENUM (labels...)` in its schema, which
    fields of the text family name by id (field_config.enum_id). Labels keep their order."""

    project = ForeignKeyField(Project, on_delete="CASCADE", backref="enums", index=False)
    name = CharField(max_length=63)
    labels = JSONField(
        default=list,
        constraints=[SQL("DEFAULT '[]'::jsonb"), Check("jsonb_typeof(labels) = 'array'")],
    )
    created_at = Timestamp()
    updated_at = Timestamp()
    revision = revision_field()

    class Meta:
        table_name = "project_enum"
        indexes = ((("project", "name"), True),)


# The SQL text of a Deployment that adopted the target's schema.
ADOPTED_SQL = "-- adopted what the database holds; nothing ran on it\n"


class BranchOrigin(BaseModel):
    """Which row of main a branch's row was copied from when the branch forked (0052)."""

    id = None
    project = ForeignKeyField(Project, on_delete="CASCADE", backref="+")
    branch = ForeignKeyField(Project, on_delete="CASCADE", index=False, backref="+")
    local_id = UUIDField()
    origin_id = UUIDField()

    class Meta:
        table_name = "branch_origin"
        primary_key = CompositeKey("branch", "local_id")
        indexes = ((("branch", "origin_id"), True),)
        constraints = [
            SQL(
                "CONSTRAINT branch_origin_of_main FOREIGN KEY (branch_id, project_id)"
                " REFERENCES project (id, branch_of_id) ON DELETE CASCADE"
            )
        ]


MERGE_STATES = ("open", "merged", "closed")


class MergeRequest(BaseModel):
    """A request to merge a branch into its main project (0052): main's row."""

    project = ForeignKeyField(Project, on_delete="CASCADE", backref="merge_requests", index=False)
    branch = ForeignKeyField(Project, on_delete="CASCADE", backref="+")
    number = IntegerField(constraints=[Check("number > 0")])
    author = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    title = CharField(max_length=200, constraints=[Check("btrim(title) <> ''")])
    description = TextField(default="", constraints=[SQL("DEFAULT ''")])
    state = CharField(
        max_length=16,
        default="open",
        constraints=[SQL("DEFAULT 'open'"), one_of("state", MERGE_STATES)],
    )
    resolutions = JSONField(
        default=dict,
        constraints=[SQL("DEFAULT '{}'::jsonb"), Check("jsonb_typeof(resolutions) = 'object'")],
    )
    created_at = Timestamp()
    updated_at = Timestamp()
    merged_at = Timestamp(null=True, server_default=False)
    merged_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    merged_version = ForeignKeyField(SchemaVersion, null=True, on_delete="SET NULL", backref="+")
    revision = revision_field()

    class Meta:
        table_name = "merge_request"
        indexes = ((("project", "number"), True), (("id", "project"), True))
        constraints = [
            SQL(
                "CONSTRAINT merge_request_merged"
                " CHECK ((state = 'merged') = (merged_at IS NOT NULL))"
            ),
            SQL("CONSTRAINT merge_request_other CHECK (branch_id <> project_id)"),
        ]


# One open request per branch.
MergeRequest.add_index(
    MergeRequest.index(MergeRequest.branch, unique=True, name="merge_request_open_branch").where(
        MergeRequest.state == "open"
    )
)


class MergeApproval(BaseModel):
    """An editor's approval of a merge request, with what the branch and the conflicts
    were when they approved (0052)."""

    id = None
    merge_request = ForeignKeyField(
        MergeRequest, on_delete="CASCADE", backref="approvals", index=False
    )
    user = ForeignKeyField(User, on_delete="CASCADE", backref="+")
    project = ForeignKeyField(Project, on_delete="CASCADE", backref="+")
    approved_at = Timestamp()
    branch_hash = CharField(max_length=64, constraints=[Check(f"branch_hash ~ {HEX64}")])
    conflicts = JSONField(
        default=list,
        constraints=[SQL("DEFAULT '[]'::jsonb"), Check("jsonb_typeof(conflicts) = 'array'")],
    )

    class Meta:
        table_name = "merge_approval"
        primary_key = CompositeKey("merge_request", "user")
        constraints = [
            SQL(
                "CONSTRAINT merge_approval_of_project FOREIGN KEY (merge_request_id, project_id)"
                " REFERENCES merge_request (id, project_id) ON DELETE CASCADE"
            )
        ]


class MergeComment(BaseModel):
    """A comment on a merge request (0052)."""

    merge_request = ForeignKeyField(
        MergeRequest, on_delete="CASCADE", backref="comments", index=False
    )
    project = ForeignKeyField(Project, on_delete="CASCADE", backref="+")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    body = TextField(constraints=[Check("btrim(body) <> '' AND length(body) <= 5000")])
    created_at = Timestamp()

    class Meta:
        table_name = "merge_comment"
        indexes = ((("merge_request", "created_at"), False),)
        constraints = [
            SQL(
                "CONSTRAINT merge_comment_of_project FOREIGN KEY (merge_request_id, project_id)"
                " REFERENCES merge_request (id, project_id) ON DELETE CASCADE"
            )
        ]


MODELS = (
    User,
    ApiToken,
    Project,
    ProjectMember,
    DataTable,
    SearchGram,
    SearchName,
    DataField,
    TableRelationship,
    SchemaVersion,
    SchemaPart,
    WorkingPart,
    EntryOrder,
    ExportFile,
    ExportMember,
    DriftExpectation,
    SoundPart,
    ProjectChange,
    TableLock,
    ActivityEntry,
    Deployment,
    TargetReservation,
    ProjectEnum,
    BranchOrigin,
    MergeRequest,
    MergeApproval,
    MergeComment,
)
