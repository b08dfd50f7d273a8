"""Which changes need a critical lock, and the controls a teammate's lock pauses.

A critical lock guards what the database holds: the deploy plan's own
classification of a change decides whether it is breaking, and nothing on a
never-deployed draft is.
"""

import copy

import pytest
from peewee import SQL

from designer import create_app
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
from designer.settings import settings


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
    "change_to",
    [
        {"max_length": "500"},
        {"max_length": ""},
        {"max_length": "200"},
        {"data_type": "number"},
    ],
    ids=["varchar 300 to 500", "varchar 300 to text", "varchar 300 to 200", "text to integer"],
)
def test_a_deployed_columns_retype_needs_a_critical_lock_exactly_when_the_plan_says_so(
    team, change_to
):
    mark_deployed(team["table"])
    field, editor = team["field"], team["editor"]
    before = copy.deepcopy(snapshots.build(team["project"].id))
    change = {"name": "Note", "data_type": "text", "max_length": "300", **change_to}
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


# ---- an edit form's lock lasts while the person works --------------------------------


def open_field_form(web, field):
    response = web.get(f"/fields/{field.id}/edit")
    assert response.status_code == 200
    return locks.active_lock(field.table_id)


def lease_left(lock_id):
    lock = TableLock.get_by_id(lock_id)
    return (lock.expires_at - lock.heartbeat_at).total_seconds()


def beat(web, table, idle_ms):
    return web.post(f"/tables/{table.id}/lock/heartbeat", data={"idle_ms": str(idle_ms)})


def test_an_edit_forms_lock_lasts_the_idle_time_not_a_lease(team, signed_in):
    lock = open_field_form(signed_in(team["editor"]), team["field"])
    assert lock.lock_type == "optimistic"
    assert (lock.expires_at - lock.locked_at).total_seconds() == pytest.approx(60, abs=1)


def test_the_keeper_renews_an_edit_lock_up_to_the_last_input_and_never_shortens_it(team, signed_in):
    web = signed_in(team["editor"])
    lock = open_field_form(web, team["field"])
    # As if the form had been open a while, its last renewal long ago.
    TableLock.update(expires_at=SQL("now() + interval '10 seconds'")).where(
        TableLock.id == lock.id
    ).execute()
    assert beat(web, team["table"], 20_000).status_code == 204
    assert lease_left(lock.id) == pytest.approx(40, abs=1)
    # Another tab, idle longer, cannot cut short what this one's input earned.
    assert beat(web, team["table"], 50_000).status_code == 204
    assert lease_left(lock.id) == pytest.approx(40, abs=1)
    assert beat(web, team["table"], 0).status_code == 204
    assert lease_left(lock.id) == pytest.approx(60, abs=1)


def test_an_idle_page_ends_its_edit_lock_and_is_told_so_without_a_lost_notice(team, signed_in):
    web = signed_in(team["editor"])
    lock = open_field_form(web, team["field"])
    response = beat(web, team["table"], 60_000)
    assert response.status_code == 200
    assert response.headers["X-Edit-Lock"] == "idle"
    assert response.headers["HX-Trigger"] == "lock-changed"
    ended = TableLock.get_by_id(lock.id)
    assert ended.end_reason == "released"
    assert locks.active_lock(team["table"].id) is None
    panel = web.get(f"/tables/{team['table'].id}/lock").text
    assert "Available" in panel and "lock-notices" not in panel
    # What was typed can still be saved: the table is free, the revision guards it.
    saved = web.put(
        f"/fields/{team['field'].id}",
        data={"name": "Remark", "data_type": "text", "max_length": "300", "revision": "1"},
    )
    assert saved.status_code == 200
    assert DataField.get_by_id(team["field"].id).name == "Remark"


def test_an_idle_report_leaves_a_long_term_lock_alone(team, signed_in):
    web = signed_in(team["editor"])
    web.post(f"/tables/{team['table'].id}/lock", data={"lock_type": "pessimistic"})
    lock = locks.active_lock(team["table"].id)
    assert beat(web, team["table"], 600_000).status_code == 204
    assert locks.active_lock(team["table"].id).id == lock.id
    assert lease_left(lock.id) == pytest.approx(120, abs=1)


def test_input_after_the_idle_time_takes_the_edit_lock_back(team, signed_in):
    web = signed_in(team["editor"])
    open_field_form(web, team["field"])
    beat(web, team["table"], 60_000)
    response = web.post(f"/tables/{team['table'].id}/lock/resume", data={"reason": "editing Note"})
    assert response.status_code == 204
    assert response.headers["HX-Trigger"] == "lock-changed"
    lock = locks.active_lock(team["table"].id)
    assert (lock.user_id, lock.lock_type, lock.reason) == (
        team["editor"].id,
        "optimistic",
        "editing Note",
    )
    # The page holds it again: its beats renew it.
    assert beat(web, team["table"], 0).status_code == 204
    assert TableLock.get_by_id(lock.id).heartbeat_at > lock.heartbeat_at


def test_input_after_the_idle_time_says_who_holds_the_table_now(team, signed_in):
    web = signed_in(team["editor"])
    open_field_form(web, team["field"])
    beat(web, team["table"], 60_000)
    locks.acquire(team["table"].id, team["owner"], "pessimistic", "splitting the note")
    response = web.post(f"/tables/{team['table'].id}/lock/resume", data={"reason": "editing"})
    assert response.status_code == 423
    assert response.text.startswith("olga holds a pessimistic lock (splitting the note) until ")
    assert locks.active_lock(team["table"].id).user_id == team["owner"].id


def test_an_edit_lock_that_lapsed_unseen_lets_the_form_save(team, signed_in):
    web = signed_in(team["editor"])
    lock = open_field_form(web, team["field"])
    TableLock.update(
        locked_at=SQL("now() - interval '2 minutes'"),
        expires_at=SQL("now() - interval '1 second'"),
    ).where(TableLock.id == lock.id).execute()
    saved = web.put(
        f"/fields/{team['field'].id}",
        data={"name": "Remark", "data_type": "text", "max_length": "300", "revision": "1"},
    )
    assert saved.status_code == 200
    assert DataField.get_by_id(team["field"].id).name == "Remark"


@pytest.mark.parametrize("idle_ms", ["soon", "-5", "nan", "1e400", ""])
def test_a_keeper_reporting_nonsense_renews_as_if_the_person_just_typed(team, signed_in, idle_ms):
    web = signed_in(team["editor"])
    lock = open_field_form(web, team["field"])
    assert beat(web, team["table"], idle_ms).status_code == 204
    assert locks.active_lock(team["table"].id).id == lock.id
    assert lease_left(lock.id) == pytest.approx(60, abs=1)


def test_the_lock_panel_offers_lock_table_over_an_edit_forms_lock(team, signed_in):
    web = signed_in(team["editor"])
    lock = open_field_form(web, team["field"])
    panel = web.get(f"/tables/{team['table'].id}/lock").text
    assert "You hold" in panel and ">Lock table</button>" in panel
    web.post(
        f"/tables/{team['table'].id}/lock",
        data={"lock_type": "pessimistic", "reason": "a design session"},
    )
    upgraded = locks.active_lock(team["table"].id)
    assert (upgraded.id, upgraded.lock_type) == (lock.id, "pessimistic")
    assert upgraded.reason == "a design session"
    assert lease_left(lock.id) == pytest.approx(120, abs=1)
    assert ">Lock table</button>" not in web.get(f"/tables/{team['table'].id}/lock").text


def test_an_idle_time_shorter_than_two_heartbeats_is_refused_at_start(app_database_url, tmp_path):
    config = {
        "TESTING": True,
        "DATABASE_URL": app_database_url,
        "SECRET_KEY": "x",
        "INSTANCE_PATH": str(tmp_path),
        "LOCK_EDIT_IDLE_SECONDS": 30,
        "LOCK_HEARTBEAT_SECONDS": 20,
    }
    saved = {name: getattr(settings, name) for name in settings.__dataclass_fields__}
    try:
        with pytest.raises(ValueError, match="LOCK_EDIT_IDLE_SECONDS must be at least twice"):
            create_app(config)
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
