"""What the JSON API answers, for the routes that document it: pydantic models that become
the response schemas of /api/v1/openapi.json (views say which with api.messages.answers).

The views build their answers as dicts; the tests check those answers against these models
(extra keys refused), so the document says what the API sends.
"""

from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

Side = Literal["ours", "theirs"]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Change(Answer):
    """One side's change of one property, or of an object added or removed whole."""

    path: list[str] = Field(description="Into the design's snapshot, by main's ids.")
    object_path: list[str] = Field(description="The table, field, ... the change is about.")
    verb: Literal["added", "removed", "renamed", "changed"]
    before: Any = Field(description="The value before; null for an object added.")
    after: Any = Field(description="The value after; null for an object removed.")
    sentence: str


class MergeConflict(Answer):
    """Both sides changed one property, one dropped what the other changed, both chose one
    name, or (rules) the merged design breaks a rule: no side can be picked, edit a design."""

    id: str = Field(description="Stable across comparisons: what a decision names.")
    kind: Literal["changed", "deleted", "name", "rules"]
    path: list[str]
    sentence: str
    ours: list[Change]
    theirs: list[Change]
    decided: Side | None = Field(description="The side picked; null: undecided.")


class Comparison(Answer):
    """Base: the fork version; ours: main now; theirs: the branch now."""

    project_id: str
    branch_id: str
    fork_version: int
    ours: list[Change]
    theirs: list[Change]
    conflicts: list[MergeConflict]
    undecided: list[str] = Field(description="The ids of the conflicts left undecided.")
    sql: str | None = Field(
        description="The migration main would deploy after the merge; null while any "
        "conflict is undecided."
    )


class MergeRequestSummary(Answer):
    number: int
    state: Literal["open", "merged", "closed"]


class Branch(Answer):
    """A branch: a project of its own id (its routes are /projects/<id>/...)."""

    id: str
    name: str
    description: str
    owner_id: str
    is_active: bool
    created_at: str
    updated_at: str
    revision: int
    target_schema: str
    approvals_required: int
    role: Literal["viewer", "editor", "owner"]
    branch_of: str = Field(description="The main project's id.")
    fork_version: int | None = Field(description="The number of main's version it forked from.")
    merged_at: str | None
    merge_request: MergeRequestSummary | None = Field(
        description="Its open merge request, else its latest; null: none."
    )


class MergeRequest(Answer):
    number: int = Field(description="Main's own numbering: !1, !2, ...")
    project_id: str
    branch_id: str
    title: str
    description: str
    state: Literal["open", "merged", "closed"]
    author_id: str | None
    resolutions: dict[str, Side] = Field(description="{conflict id: the side picked}.")
    created_at: str
    updated_at: str
    merged_at: str | None
    merged_by: str | None
    merged_version_id: str | None
    revision: int


class Approval(Answer):
    user_id: str
    username: str
    approved_at: str
    stands: bool | None = Field(
        description="Whether it still counts: the branch is as approved and no conflict "
        "appeared since; null once the request is merged or closed."
    )


class Review(MergeRequest):
    """A merge request as it stands now (merged or closed: no comparison)."""

    approvals: list[Approval]
    approvals_required: int | None
    approved: bool | None
    undecided: list[str]
    mergeable: bool
    comparison: Comparison | None


class Comment(Answer):
    id: str
    author_id: str | None
    username: str | None
    body: str
    created_at: str


class Version(Answer):
    """A saved version of a project (its summary)."""

    id: str
    project_id: str
    version_number: int
    schema_hash: str
    message: str
    parent_version_id: str | None
    is_merged: bool
    automatic: bool
    created_by: str | None
    created_at: str
    summary: Any


class DryRunStep(Answer):
    """One statement of the plan (and what the plan says of it: its table, its measure)."""

    model_config = ConfigDict(extra="allow")
    sql: str
    kind: str
    reason: Any = None
    affected_rows: Any = None
    outcome: str = Field(description="ok, failed, refused or not_run.")
    error: Any = Field(default=None, description="PostgreSQL's message when it failed.")
    duration_ms: Any = None
    needs_confirmation: Any = None


class BranchDryRun(Answer):
    """Main's plan once the branch is merged, run on main's database and rolled back."""

    schema_name: str = Field(alias="schema", description="Main's target schema.")
    ok: bool
    error: str | None = Field(description="The failing statement and PostgreSQL's message.")
    duration_ms: int
    steps: list[DryRunStep]
