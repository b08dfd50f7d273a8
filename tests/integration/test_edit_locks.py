"""Which changes need a critical lock, and the controls a teammate's lock pauses.

A critical lock guards what the database holds: the deploy plan's own
classification of a change decides whether it is breaking, and nothing on a
never-deployed draft is.
"""

import copy

import pytest
from peewee import SQL

from designer import locks
from designer import projects
from designer.database import ddl
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.errors import Locked
from designer.history import snapshot as snapshots
from designer.models import DataField
from designer.models import DataTable
from designer.models import TableLock


@pytest.fixture
def team(make_user):
    owner, editor = make_user("olga"), make_user("eddie")
    project = projects.create_project(owner, "Shop")
    projects.add_member(owner, project.id, "eddie", "editor")
    table = tables.create_table(owner, project.id, "Orders")
    field = fields.create_field(
        owner, table.id, {"name": "Note", "data_type": "text", "max_length": "300"}
    )
    return {"owner": owner, "editor": editor, "project": project, "table": table, "field": field}


def mark_deployed(table):
    DataTable.update(deployed_at=SQL("now()")).where(DataTable.id == table.id).execute()


def plan_kinds(before, after):
    """The kinds of the deploy plan's steps from snapshot `before` to `after`."""
    return {step.kind for step in ddl.migration("shop", before, after)}


@pytest.mark.parametrize(
    "settings",
    [
        {"max_length": "500"},
        {"max_length": ""},
        {"max_length": "200"},
        {"data_type": "number"},
    ],
    ids=["varchar 300 to 500", "varchar 300 to text", "varchar 300 to 200", "text to integer"],
)
def test_a_deployed_columns_retype_needs_a_critical_lock_exactly_when_the_plan_says_so(
    team, settings
):
    mark_deployed(team["table"])
    field, editor = team["field"], team["editor"]
    before = copy.deepcopy(snapshots.build(team["project"].id))
    change = {"name": "Note", "data_type": "text", "max_length": "300", **settings}
    try:
        fields.update_field(editor, field.id, 1, change)
        refused = False
    except Locked as caught:
        assert "critical lock" in caught.message
        refused = True
        token = locks.acquire(team["table"].id, editor, "critical").lock_token
        fields.update_field(editor, field.id, 1, change, token)
    kinds = plan_kinds(before, snapshots.build(team["project"].id))
    assert kinds  # the change is a real step of the plan
    assert refused == (kinds != {"safe"}), kinds


def test_widening_varchar_300_to_500_is_saved_without_any_lock(team):
    mark_deployed(team["table"])
    change = {"name": "Note", "data_type": "text", "max_length": "500"}
    fields.update_field(team["editor"], team["field"].id, 1, change)
    assert DataField.get_by_id(team["field"].id).field_config["max_length"] == 500
    assert TableLock.select().count() == 0


def delete_button(page_html, name):
    start = page_html.index(f'aria-label="Delete {name}"')
    return page_html[start : page_html.index("</button>", start)]


def test_deleting_a_never_deployed_drafts_field_takes_no_lock_and_says_none(team, signed_in):
    web = signed_in(team["editor"])
    page = web.get(f"/tables/{team['table'].id}", htmx=False).text
    assert "critical lock" not in delete_button(page, "Note")
    response = web.delete(f"/fields/{team['field'].id}")
    assert response.status_code == 200
    assert DataField.get_or_none(DataField.id == team["field"].id) is None
    assert TableLock.select().count() == 0


def test_deleting_a_deployed_tables_field_warns_and_takes_a_critical_lock(team, signed_in):
    mark_deployed(team["table"])
    web = signed_in(team["editor"])
    page = web.get(f"/tables/{team['table'].id}", htmx=False).text
    assert "takes a critical lock" in delete_button(page, "Note")
    assert web.delete(f"/fields/{team['field'].id}").status_code == 200
    assert DataField.get_or_none(DataField.id == team["field"].id) is None
    held = TableLock.get()
    assert (held.lock_type, held.end_reason) == ("critical", "released")


# ---- relationship controls ---------------------------------------------------------


@pytest.fixture
def linked(team):
    customers = tables.create_table(team["owner"], team["project"].id, "Customers")
    rel = relationships.create_relationship(
        team["owner"],
        team["project"].id,
        {"source_table_id": str(customers.id), "target_table_id": str(team["table"].id)},
    )
    return {**team, "customers": customers, "rel": rel}


def test_a_relationships_controls_name_the_table_whose_lock_pauses_them(linked, signed_in):
    web = signed_in(linked["editor"])
    page = web.get(f"/tables/{linked['customers'].id}", htmx=False).text
    row = page[page.index(f'id="rel-{linked["rel"].id}"') :]
    row = row[: row.index("</tr>")]
    # Its foreign key lives in Orders: Orders' lock is the one a save must pass.
    assert row.count(f'data-edit-of="{linked["table"].id}"') == 2


def test_a_relationship_form_does_not_open_while_someone_else_holds_its_table(linked, signed_in):
    locks.acquire(linked["table"].id, linked["owner"], "pessimistic", "splitting")
    response = signed_in(linked["editor"]).get(f"/relationships/{linked['rel'].id}/edit")
    assert response.status_code == 423
    assert "olga holds a pessimistic lock (splitting)" in response.text
