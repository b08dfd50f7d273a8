"""Branches (#28): fork, three-way comparison by id, merge into main, and what a merged branch
refuses, judged by what PostgreSQL holds afterwards."""

import logging

import pytest

from designer import branches
from designer import kept
from designer import projects
from designer.database import deploy
from designer.db import counting_queries
from designer.db import database
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Forbidden
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.history import versions
from designer.history.snapshot import build
from designer.interchange.import_json import with_ids
from designer.models import BranchOrigin
from designer.models import DataField
from designer.models import DataTable
from designer.models import Project
from designer.models import ProjectMember
from designer.models import SchemaVersion
from tests.integration.conftest import column_names


def local_of(branch, origin_id):
    return str(
        BranchOrigin.get(
            BranchOrigin.branch == branch.id, BranchOrigin.origin_id == origin_id
        ).local_id
    )


def test_a_fork_copies_the_version_with_ids_of_its_own_and_chains_to_it(alice, shop, designed):
    branch = branches.fork(alice, shop.id, "redesign")
    assert branch.branch_of_id == shop.id
    fork_version = versions.latest(shop.id)
    assert branch.fork_version_id == fork_version.id
    assert column_names(branch.id) == column_names(shop.id)
    own_ids = {str(t.id) for t in DataTable.select().where(DataTable.project == branch.id)}
    main_ids = {str(t.id) for t in DataTable.select().where(DataTable.project == shop.id)}
    assert own_ids and not own_ids & main_ids
    assert local_of(branch, designed["orders"].id) in own_ids
    first = SchemaVersion.get(SchemaVersion.project == branch.id)
    assert first.version_number == 1 and first.parent_version_id == fork_version.id
    # Main's list of projects does not show branches; main lists it.
    assert [p.id for p in projects.projects_for(alice)] == [shop.id]
    assert [b.id for b in branches.branches_of(shop.id)] == [branch.id]


def test_a_fork_of_the_working_copy_saves_main_first(alice, shop, designed):
    tables.create_table(alice, shop.id, "Invoices")
    branch = branches.fork(alice, shop.id, "later")
    fork_version = SchemaVersion.get_by_id(branch.fork_version_id)
    assert fork_version.version_number == 2 and fork_version.automatic
    assert "invoices" in {
        t.table_name for t in DataTable.select().where(DataTable.project == branch.id)
    }


def test_a_branch_has_main_members_and_follows_their_changes(alice, shop, designed, bob, make_user):
    branch = branches.fork(bob, shop.id, "bobs")
    roles = dict(
        ProjectMember.select(ProjectMember.user, ProjectMember.role)
        .where(ProjectMember.project == branch.id)
        .tuples()
    )
    assert roles == {alice.id: "owner", bob.id: "editor"}
    carol = make_user("carol")
    projects.add_member(alice, shop.id, "carol", "viewer")
    assert projects.access(carol, branch.id).role == "viewer"
    projects.remove_member(alice, shop.id, carol.id)
    with pytest.raises(NotFound):
        projects.access(carol, branch.id)


def test_names_branches_and_refuses_a_branch_of_a_branch(alice, shop, designed):
    branch = branches.fork(alice, shop.id, "one")
    with pytest.raises(ValidationFailed):
        branches.fork(alice, shop.id, " ONE ")
    with pytest.raises(ValidationFailed):
        branches.fork(alice, shop.id, "   ")
    with pytest.raises(Conflict):
        branches.fork(alice, branch.id, "nested")


def test_a_rename_on_each_side_merges_by_id(alice, shop, designed, bob):
    branch = branches.fork(bob, shop.id, "rename-total")
    total_here = DataField.get_by_id(local_of(branch, designed["total"].id))
    amount = {"name": "Amount", "field_name": "amount", "data_type": "number"}
    fields.update_field(bob, total_here.id, total_here.revision, amount)
    tables.create_table(bob, branch.id, "Invoices")
    email = DataField.get_by_id(designed["email"].id)
    fields.update_field(alice, email.id, email.revision,
                        {"name": "Mail", "field_name": "mail"})  # fmt: skip
    found, compared = branches.comparison(alice, branch.id)
    assert compared.conflicts == []
    assert {c.path[3] for c in compared.ours} == {str(designed["email"].id)}
    assert {c.path[1] for c in compared.theirs} >= {str(designed["orders"].id)}
    version = branches.merge(alice, branch.id)
    assert version.message == "Merged the branch rename-total"
    names = column_names(shop.id)
    assert ("orders", "amount") in names and ("customers", "mail") in names
    assert ("orders", "total") not in names
    # Same field, renamed: main's row keeps its id.
    assert DataField.get_by_id(designed["total"].id).field_name == "amount"
    assert "invoices" in {
        t.table_name for t in DataTable.select().where(DataTable.project == shop.id)
    }
    head = versions.latest(branch.id)
    assert head.is_merged
    assert Project.get_by_id(branch.id).merged_at is not None
    # The branch's rows stay its own.
    assert DataTable.select().where(DataTable.project == branch.id).count() == 3


def test_both_sides_renaming_one_field_conflict_until_a_side_is_picked(alice, shop, designed, bob):
    branch = branches.fork(bob, shop.id, "clash")
    total_here = DataField.get_by_id(local_of(branch, designed["total"].id))
    amount = {"name": "Amount", "field_name": "amount", "data_type": "number"}
    fields.update_field(bob, total_here.id, total_here.revision, amount)
    total = DataField.get_by_id(designed["total"].id)
    fields.update_field(alice, total.id, total.revision,
                        {"name": "Sum", "field_name": "sum", "data_type": "number"})  # fmt: skip
    _, compared = branches.comparison(alice, branch.id)
    # The display name and the column name: one conflict each.
    assert sorted((c.kind, c.path[-1]) for c in compared.conflicts) == [
        ("changed", "field_name"),
        ("changed", "name"),
    ]
    with pytest.raises(Conflict):
        branches.merge(alice, branch.id)
    assert DataField.get_by_id(total.id).field_name == "sum"
    branches.merge(alice, branch.id, {c.id: "theirs" for c in compared.conflicts})
    assert DataField.get_by_id(total.id).field_name == "amount"


def test_both_sides_renaming_one_table_conflict_and_a_picked_side_names_it(
    alice, shop, designed, bob
):
    """The property test's examples never renamed one table on both sides."""
    branch = branches.fork(bob, shop.id, "table clash")
    orders_here = DataTable.get_by_id(local_of(branch, designed["orders"].id))
    tables.update_table(bob, orders_here.id, orders_here.revision, table_name="purchases")
    orders = DataTable.get_by_id(designed["orders"].id)
    tables.update_table(alice, orders.id, orders.revision, table_name="sales")
    _, compared = branches.comparison(alice, branch.id)
    assert [(c.kind, c.path[-1]) for c in compared.conflicts] == [("changed", "table_name")]
    with pytest.raises(Conflict):
        branches.merge(alice, branch.id)
    assert DataTable.get_by_id(orders.id).table_name == "sales"
    branches.merge(alice, branch.id, {c.id: "theirs" for c in compared.conflicts})
    assert DataTable.get_by_id(orders.id).table_name == "purchases"
    assert column_names(shop.id) == [("customers", "email"), ("purchases", "total")]


def test_a_merged_branch_refuses_edits_and_only_main_deploys(alice, shop, designed, bob):
    branch = branches.fork(bob, shop.id, "done")
    tables.create_table(bob, branch.id, "Invoices")
    with pytest.raises(Conflict, match="main"):
        deploy.deploy(bob, branch.id, dry_run=True)
    branches.merge(bob, branch.id)
    with pytest.raises(Conflict, match="merged"):
        tables.create_table(bob, branch.id, "More")
    with pytest.raises(Conflict, match="merged"):
        branches.merge(bob, branch.id)


def test_the_database_refuses_a_change_to_a_merged_branch(alice, shop, designed, bob):
    """The trigger, not only the app: a row written into a merged branch fails at commit."""
    branch = branches.fork(bob, shop.id, "sealed")
    tables.create_table(bob, branch.id, "Invoices")
    branches.merge(bob, branch.id)
    table = DataTable.get(DataTable.project == branch.id, DataTable.table_name == "invoices")
    with pytest.raises(Exception, match="merged"), database.atomic():
        DataTable.update(description="late").where(DataTable.id == table.id).execute()
    assert DataTable.get_by_id(table.id).description == ""


def test_an_empty_branch_does_not_merge(alice, shop, designed):
    branch = branches.fork(alice, shop.id, "nothing")
    with pytest.raises(Conflict, match="nothing"):
        branches.merge(alice, branch.id)
    assert Project.get_by_id(branch.id).merged_at is None


def test_a_branch_members_are_changed_on_main_only(alice, shop, designed, bob, make_user):
    branch = branches.fork(alice, shop.id, "members")
    make_user("carol")
    with pytest.raises(Conflict, match="main"):
        projects.add_member(alice, branch.id, "carol", "viewer")
    with pytest.raises(Conflict, match="main"):
        projects.change_role(alice, branch.id, bob.id, "viewer")
    with pytest.raises(Conflict, match="main"):
        projects.remove_member(alice, branch.id, bob.id)
    assert projects.access(bob, branch.id).role == "editor"


def test_main_owners_choose_how_many_approvals_a_merge_needs(alice, shop, designed, bob):
    updated = projects.update_project(alice, shop.id, shop.revision, approvals_required="2")
    assert Project.get_by_id(shop.id).approvals_required == 2
    for wrong in ("-1", "11", "two"):
        with pytest.raises(ValidationFailed) as refused:
            projects.update_project(alice, shop.id, updated.revision, approvals_required=wrong)
        assert "approvals_required" in refused.value.fields
    with pytest.raises(Forbidden):
        projects.update_project(bob, shop.id, updated.revision, approvals_required="0")
    branch = branches.fork(alice, shop.id, "counted")
    assert branch.approvals_required == 2
    with pytest.raises(Conflict, match="main"):
        projects.update_project(alice, branch.id, branch.revision, approvals_required="0")
    assert Project.get_by_id(shop.id).approvals_required == 2


def test_renaming_a_branch_to_a_sibling_name_is_said_next_to_the_name(alice, shop, designed):
    branches.fork(alice, shop.id, "first")
    second = branches.fork(alice, shop.id, "second")
    with pytest.raises(ValidationFailed) as refused:
        projects.update_project(alice, second.id, second.revision, name="FIRST")
    assert "name" in refused.value.fields


def test_each_side_read_from_its_changes_is_its_whole_working_copy(alice, shop, designed, bob):
    """sides() reads main and the branch as what changed since the fork (the rest is the
    base's): the same designs as building each whole (the branch's in main's ids), after
    renames, a type change, a dropped column and table, an added table and relationship."""
    invoices = tables.create_table(alice, shop.id, "Invoices")
    branch = branches.fork(bob, shop.id, "both ways")
    orders_here = DataTable.get_by_id(local_of(branch, designed["orders"].id))
    tables.update_table(bob, orders_here.id, orders_here.revision, table_name="purchases")
    total_here = DataField.get_by_id(local_of(branch, designed["total"].id))
    fields.update_field(bob, total_here.id, total_here.revision, {"data_type": "text"},
                        partial=True)  # fmt: skip
    email_here = local_of(branch, designed["email"].id)
    fields.delete_field(bob, email_here)
    tables.delete_table(bob, local_of(branch, invoices.id))
    notes = tables.create_table(bob, branch.id, "Notes")
    relationships.create_relationship(bob, branch.id, {
        "source_table_id": str(orders_here.id), "target_table_id": str(notes.id)})  # fmt: skip
    email = DataField.get_by_id(designed["email"].id)
    fields.update_field(alice, email.id, email.revision, {"field_name": "mail"}, partial=True)
    tables.create_table(alice, shop.id, "Refunds")
    found = branches.sides(alice, branch.id)
    assert found.ours == build(shop.id)
    assert found.theirs == with_ids(build(branch.id), branches.origins(branch.id))
    assert found.theirs_hash == versions.save_version(bob, branch.id, "now").schema_hash
    assert (
        str(designed["email"].id)
        not in found.theirs["tables"][str(designed["customers"].id)]["fields"]
    )
    assert (
        str(invoices.id) in found.base["tables"] and str(invoices.id) not in found.theirs["tables"]
    )


class Statements(logging.Handler):
    """The SQL peewee sends (it logs each statement at DEBUG while queries are counted)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.sql = []

    def emit(self, record):
        if isinstance(record.msg, tuple):
            self.sql.append(record.msg[0])


def test_a_merge_deletes_the_columns_of_the_tables_it_changes_in_one_statement(
    alice, shop, designed, bob
):
    """Not a statement per table of main (at 3,000 tables that took seconds)."""
    for n in range(6):
        table = tables.create_table(alice, shop.id, f"Spare {n}")
        fields.create_field(alice, table.id, {"name": "Kept"})
    branch = branches.fork(bob, shop.id, "drop one")
    fields.delete_field(bob, local_of(branch, designed["email"].id))
    fields.delete_field(bob, local_of(branch, designed["total"].id))
    seen = Statements()
    logger = logging.getLogger("peewee")
    with counting_queries():
        logger.addHandler(seen)
        try:
            branches.merge(bob, branch.id)
        finally:
            logger.removeHandler(seen)
    deletes = [sql for sql in seen.sql if sql.startswith('DELETE FROM "data_field"')]
    assert len(deletes) == 1, deletes
    names = column_names(shop.id)
    assert ("customers", "email") not in names and ("orders", "total") not in names
    assert [name for _, name in names].count("kept") == 6


def test_a_version_the_rules_now_refuse_is_not_forked(alice, shop, designed):
    """As a restore refuses it: a version stored before a rule existed is never copied."""
    from tests.integration.test_stored_snapshots import poison_version

    poison_version(shop.id)
    with pytest.raises(ValidationFailed) as refused:
        branches.fork(alice, shop.id, "poisoned", version_number=1)
    assert "number_type" in refused.value.fields["version"]
    assert not Project.select().where(Project.branch_of == shop.id).exists()
    assert not BranchOrigin.select().exists()


def test_a_comparison_is_kept_when_its_sides_together_fit_the_budget(
    alice, shop, designed, bob, monkeypatch
):
    """The sides share the base's entries: weighed one by one a 3,000-table comparison
    outweighed a worker's whole budget, and no page ever found one kept."""
    branch = branches.fork(bob, shop.id, "shared")
    tables.create_table(bob, branch.id, "Invoices")
    answer = branches.comparison(alice, branch.id)
    together = branches.comparison_weight(answer)
    budget = together * 3 // 2
    assert kept.weight(answer) > budget  # weighed as one value, it would not be kept
    branches.compared_kept.clear()
    # A budget of the store's own: the pool it shares holds other tests' answers too.
    monkeypatch.setattr(branches.compared_kept, "budget", budget)
    first = branches.comparison(alice, branch.id)
    assert branches.comparison(bob, branch.id) is first


def test_a_comparison_is_kept_until_either_side_changes(alice, shop, designed, bob, make_user):
    branch = branches.fork(bob, shop.id, "kept")
    first = branches.comparison(alice, branch.id)
    assert branches.comparison(bob, branch.id) is first
    tables.create_table(bob, branch.id, "Invoices")
    after_branch = branches.comparison(alice, branch.id)
    assert after_branch is not first and len(after_branch[1].theirs) > len(first[1].theirs)
    tables.create_table(alice, shop.id, "Refunds")
    after_main = branches.comparison(alice, branch.id)
    assert after_main is not after_branch and after_main[1].ours
    # The stranger is refused before anything kept is looked up.
    with pytest.raises(NotFound):
        branches.comparison(make_user("eve"), branch.id)
