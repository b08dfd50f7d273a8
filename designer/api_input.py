"""What each JSON API request body may hold: pydantic models, strict about types.

A string is a JSON string, a number a JSON number, a boolean true or false:
nothing is coerced ("false" is not false, null is not "None"). Unknown keys
are refused, every free text has a length limit, and choices are listed. The
same models make the request bodies of /api/v1/openapi.json. Whatever the
domain modules check beyond types (identifiers, ranges, cycles) they still do.
"""

from typing import Annotated
from typing import Literal

from pydantic import AfterValidator
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import StringConstraints
from pydantic import ValidationError
from pydantic import WithJsonSchema
from pydantic_core import PydanticCustomError

from designer.design.column_types import MAX_NAMED_TYPE
from designer.design.field_types import DATE_TYPES
from designer.design.field_types import NUMBER_TYPES
from designer.design.field_types import TEXT_TYPES
from designer.errors import ValidationFailed
from designer.models import DATA_TYPES
from designer.models import LOCK_TYPES
from designer.models import MAX_DESCRIPTION
from designer.models import ROLES
from designer.models import TABLE_STATUSES

Name = Annotated[str, StringConstraints(max_length=200)]
Identifier = Annotated[str, StringConstraints(max_length=200)]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]
Message = Annotated[str, StringConstraints(max_length=500)]
Reason = Annotated[str, StringConstraints(max_length=500)]
Login = Annotated[str, StringConstraints(max_length=254)]
Password = Annotated[str, StringConstraints(max_length=1024)]
Id = Annotated[str, StringConstraints(max_length=64)]
Revision = Annotated[int, Field(ge=1, le=2**31 - 1)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]
# A bound or default: a JSON number, or a string for what a number cannot say exactly.
Value = (
    int
    | Annotated[float, Field(allow_inf_nan=False)]
    | Annotated[str, StringConstraints(max_length=1_000)]
)
Action = Literal["no_action", "restrict", "cascade", "set_null", "set_default"]
TOKEN_DAYS = (7, 30, 90, 365)


def token_days(days):
    # A Literal of numbers takes 7.0 for 7 even in strict mode: an int is checked first.
    if days not in TOKEN_DAYS:
        raise PydanticCustomError("literal_error", "Input should be 7, 30, 90 or 365")
    return days


TokenDays = Annotated[
    int,
    AfterValidator(token_days),
    WithJsonSchema({"type": "integer", "enum": list(TOKEN_DAYS)}),
]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class TokenRequest(Body):
    username: Login
    password: Password
    name: Annotated[
        str, StringConstraints(min_length=1, max_length=100), Field(description="What uses it.")
    ]
    expires_in_days: TokenDays | None = Field(
        default=90, description="Days the token lives; null: until revoked."
    )
    read_only: bool = Field(default=False, description="Only reads: every other method gets 403.")
    project_id: Id | None = Field(
        default=None,
        description="Reaches only this project (others are 404, as to a non-member); "
        "null: all of the user's projects.",
    )


class ProjectCreate(Body):
    name: Name = ""
    description: Description = ""


class SampleRequest(Body):
    """POST /projects/sample takes no settings: the sample is designer/sample.toml."""


class ProjectChange(Body):
    name: Name = None
    description: Description = None
    is_active: bool = None
    target_schema: Identifier = None
    approvals_required: Annotated[int, Field(ge=0, le=10, strict=True)] = None
    revision: Revision = None


class MemberAdd(Body):
    username: Login = None
    email: Login = None
    role: Literal[ROLES] = None


class MemberChange(Body):
    role: Literal[ROLES]
    revision: Revision = None


class TableCreate(Body):
    name: Name = ""
    table_name: Identifier = ""
    description: Description = ""


class TableChange(Body):
    name: Name = None
    table_name: Identifier = None
    description: Description = None
    revision: Revision = None


class DeploymentRequest(Body):
    table_ids: list[Id] = Field(default=None, max_length=10_000)
    dry_run: bool = False
    confirm_destructive: bool = False


class ActivationRequest(Body):
    table_ids: list[Id] = Field(
        default=None, max_length=10_000, description="The Draft tables to activate."
    )
    all_drafts: bool = Field(default=False, description="Activate every Draft table instead.")
    dry_run: bool = False
    confirm_destructive: bool = False


class DriftResolution(Body):
    resolve: Literal["redeploy", "adopt"]
    dry_run: bool = False
    confirm_destructive: bool = False
    # One item of the drift report (its "key"), or all of it.
    difference: Annotated[str, StringConstraints(max_length=2000)] = None


class ProjectDelete(Body):
    # Sent as "schema"; named otherwise here, as BaseModel has a schema() of its own.
    schema_choice: Literal["drop", "keep"] = Field(default=None, alias="schema")
    confirm_name: Annotated[str, StringConstraints(max_length=200)] = None


class TableDrop(Body):
    confirm_name: Identifier = ""


class Transition(Body):
    status: Literal[TABLE_STATUSES]
    confirm: bool = False
    dry_run: bool = False


class FieldSettings(Body):
    """The settings of a field's type and its rules (flat in the body, or in field_config)."""

    description: Description = None
    unique: bool = None
    indexed: bool = None
    max_length: Count = None
    min_length: Count = None
    pattern: Annotated[str, StringConstraints(max_length=1_000)] = None
    text_type: Literal[TEXT_TYPES] = None
    enum_id: Id = None
    named_type: Annotated[str, StringConstraints(max_length=MAX_NAMED_TYPE)] = None
    number_type: Literal[NUMBER_TYPES] = None
    precision: Count = None
    scale: Count = None
    min: Value = None
    max: Value = None
    date_type: Literal[DATE_TYPES] = None
    time_precision: Count = None
    array_dimensions: Count = None
    collation: Identifier | None = None
    identity: Literal["always", "by_default"] | None = None
    serial: bool = None
    sequence_name: Identifier | None = None
    sequence_start: int | None = None
    sequence_increment: int | None = None
    generated: Annotated[str, StringConstraints(max_length=4_000)] | None = None
    virtual: bool = None


class FieldInput(FieldSettings):
    name: Name = None
    field_name: Identifier = None
    data_type: Literal[DATA_TYPES] = None
    is_required: bool = None
    default_value: Value | bool | None = None
    default_empty: bool = None
    field_config: FieldSettings = None
    sort_order: Count | None = None
    revision: Revision = None


Label = Annotated[str, StringConstraints(min_length=1, max_length=63)]


class EnumInput(Body):
    name: Identifier
    labels: list[Label] = Field(max_length=1000)


class EnumChange(Body):
    name: Identifier = None
    labels: list[Label] = Field(default=None, max_length=1000)
    revision: Revision = None


Expression = Annotated[str, StringConstraints(max_length=4_000)]
ColumnNames = (
    Annotated[list[Identifier], Field(max_length=32)]
    | Annotated[str, StringConstraints(max_length=4_000)]
)


class IndexKey(Body):
    """One key of an index: a column (by name) or an expression, and how it is ordered."""

    column: Identifier | None = None
    expression: Expression | None = None
    collation: Identifier | None = None
    opclass: Identifier | None = None
    descending: bool = False
    nulls: Literal["first", "last"] | None = None


class StructureItem(Body):
    """A unique constraint (columns), a check (expression) or an index (keys, method, unique,
    include, where); columns by name; name null for a generated one."""

    name: Identifier | None = None
    comment: Description | None = None
    columns: ColumnNames = None
    expression: Expression = None
    method: Literal["btree", "hash", "gin", "gist", "brin", "spgist"] = None
    unique: bool = None
    keys: Annotated[list[IndexKey], Field(max_length=32)] | Expression = None
    include: ColumnNames = None
    where: Expression | None = None


class PartitionKey(Body):
    # The method, null to stop partitioning; keys as an index's keys are typed.
    method: Literal["range", "list", "hash"] | None
    keys: Annotated[str, Field(max_length=4000)] = ""


class PartitionCreate(Body):
    table_name: Identifier
    bound: Annotated[str, Field(min_length=1, max_length=4000)]


class PartitionBound(Body):
    bound: Annotated[str, Field(min_length=1, max_length=4000)]


class FieldOrder(Body):
    field_ids: list[Id]


class PrimaryKey(Body):
    # The key's columns in order ([] for no primary key); null for the designer's `id`.
    field_ids: Annotated[list[Id], Field(max_length=32)] | None


class CascadeConfig(Body):
    on_delete: Action = None
    on_update: Action = None


class RelationshipCreate(Body):
    source_table_id: Id
    target_table_id: Id
    source_field_id: Id | None = None
    target_field_id: Id | None = None
    relationship_name: Identifier = None
    relationship_type: Literal["one_to_many", "many_to_many"] = "one_to_many"
    # A composite foreign key: [key column id, foreign key column id or "new"] pairs in order.
    pairs: Annotated[
        list[Annotated[list[Id], Field(min_length=2, max_length=2)]], Field(max_length=32)
    ] = None
    junction_table_name: Identifier = None
    cascade_config: CascadeConfig = None
    on_delete: Action = None
    on_update: Action = None


class RelationshipChange(Body):
    relationship_name: Identifier = None
    cascade_config: CascadeConfig = None
    on_delete: Action = None
    on_update: Action = None
    revision: Revision = None


class LockRequest(Body):
    lock_type: Literal[LOCK_TYPES] = "pessimistic"
    reason: Reason = ""


class LockToken(Body):
    lock_token: Id


class LockRelease(Body):
    lock_token: Id = None
    force: bool = False


class VersionCreate(Body):
    message: Message = ""


class Restore(Body):
    confirm: bool = False


class BranchCreate(Body):
    name: Name = Field(description="The branch's name, one of its kind among main's branches.")
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        default=None,
        description="The number of main's version to fork from; absent or null: the working "
        "copy (saved as a version first when it changed since the last one).",
    )
    description: Description = ""


class MergeRequestCreate(Body):
    branch_id: Id = Field(description="A branch of this project.")
    title: Annotated[str, StringConstraints(max_length=200)]
    description: Description = ""


class ConflictDecision(Body):
    conflict_id: Annotated[str, StringConstraints(max_length=2000)] = Field(
        description="A conflict's id, as the merge request lists it."
    )
    side: Literal["ours", "theirs"] | None = Field(
        description="Whose change lands: ours (main's) or theirs (the branch's); null "
        "undecides the conflict."
    )


class CommentCreate(Body):
    body: Annotated[str, StringConstraints(max_length=5000)]


class MergeRequestMerge(Body):
    message: Message = Field(default="", description="The message of main's new version.")


# An imported file's text (the request body itself is limited to 16 MB).
SourceText = Annotated[str, StringConstraints(max_length=16 * 1024 * 1024)]


class ImportRequest(Body):
    source: SourceText
    confirm: bool = False


class ProjectImport(ImportRequest):
    name: Name = ""
    description: Description = ""


class DatabaseImport(Body):
    # Sent as "schema"; named otherwise here, as BaseModel has a schema() of its own.
    schema_name: Identifier = Field(alias="schema")
    url: Annotated[str, StringConstraints(max_length=2000)] = None
    confirm: bool = False
    name: Name = ""
    description: Description = ""


def parse_body(model, raw):
    """The JSON text `raw` as `model` (only the keys sent), or ValidationFailed naming each
    wrong key."""
    try:
        parsed = model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise ValidationFailed("Please correct the marked fields.", problems(exc)) from None
    return parsed.model_dump(exclude_unset=True, by_alias=True)


def problems(error):
    """{key: message} from a pydantic error, by top-level key ("body" for the whole)."""
    found = {}
    for item in error.errors(include_url=False):
        key = str(item["loc"][0]) if item["loc"] else "body"
        found.setdefault(key, item["msg"] + ".")
    return found
