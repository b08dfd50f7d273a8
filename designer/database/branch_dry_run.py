"""A branch's dry run: main's plan once the branch is merged, run on main's target and always
rolled back, so a branch's risks are known before review (#28).

Only main deploys. The design main would have after the merge is the merge's own
(designer.history.merge, every conflict decided), so it has passed the rules every design
passes. The plan goes from what main's target holds (its last applied deployment) to that
design, for every table the design keeps, Draft ones too: what main's target would hold
once each is activated. It runs as a dry run of main runs (designer.database.target): as
main's own role, in main's target schema, each statement guarded, in one transaction that
is rolled back whatever happens. Nothing is recorded; the statements and what each did
(affected rows, outcome, PostgreSQL's error) go back to the caller. Flask-free.
"""

from dataclasses import dataclass

from designer import branches
from designer.database import reservations
from designer.database import target
from designer.database.plans import Plan
from designer.database.plans import has_pending
from designer.database.plans import named_types
from designer.errors import Conflict
from designer.history import merge as merging


@dataclass
class BranchDryRun:
    """What the branch's plan did on main's target before it was rolled back."""

    # Per statement: sql, kind, reason, affected_rows, outcome ("ok", "failed", "refused",
    # "not_run"), error, duration_ms, needs_confirmation.
    steps: list
    # The failing statement and PostgreSQL's message, or None when every statement ran.
    error: str | None
    duration_ms: int
    schema: str

    @property
    def ok(self):
        return self.error is None

    @property
    def statements(self):
        return [step["sql"] for step in self.steps]


def kept_tables(design):
    """Every table of the design but the Deleted ones (which stay as deployed until dropped
    by a confirmed action of main's)."""
    return {table_id for table_id, t in design["tables"].items() if t["status"] != "deleted"}


def branch_plan(user, branch_id, resolutions=None):
    """(main, the Plan from main's deployed state to the merged design). An undecided
    conflict refuses it (409), as it refuses the merge."""
    # A branch has main's members (0052): its editors are main's.
    branch = branches.branch_access(user, branch_id, "editor").project
    main = branches.main_of(branch)
    found = branches.sides(user, branch.id)
    result = merging.merged(found.base, found.ours, found.theirs, resolutions)
    kept = kept_tables(result)
    return main, Plan(main, sorted(kept), also=kept, design=result)


def dry_run(user, branch_id, resolutions=None):
    """Run the branch's plan on main's target as main's role, roll it back: BranchDryRun."""
    main, plan = branch_plan(user, branch_id, resolutions)
    if not has_pending(plan):
        raise Conflict("Nothing to dry-run: main's database already holds the merged design.")
    outcome = target.run_plan(
        plan.steps, reservations.tenant_of(main), apply=False, named_types=named_types(plan)
    )
    return BranchDryRun(outcome.steps, outcome.error, outcome.duration_ms, plan.schema)
