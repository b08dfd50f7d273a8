"""The Deploy tab's pending changes, planned a page of tables at a time from per-table parts
(designer.database.pending), say what the whole plan says; their size and work do not grow
with the tables that did not change."""

import re

import pytest
from peewee import chunked

from designer import locks
from designer.database import deploy
from designer.database import pending
from designer.database import plans
from designer.database import records
from designer.design import enums
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import snapshot
from designer.models import DataField
from designer.models import DataTable
from designer.models import Deployment
from designer.models import Project
from designer.views.deployments import grouped
from tests.integration.test_route_query_counts import rows_of


def every_page(project, table_ids=None, size=2):
    """{name: steps} over every page, and the Pending of the first."""
    pending.pages.clear()
    first = found = pending.viewed(project, 0, table_ids, size)
    groups = {}
    while True:
        for name, steps in found.groups:
            assert name not in groups
            groups[name] = steps
        if found.next_start is None:
            return groups, first
        found = pending.viewed(project, found.next_start, table_ids, size)


def whole(project, table_ids=None):
    plan = plans.Plan(project, table_ids, also=set(table_ids or ()))
    return grouped(plan)


def assert_as_whole(project, table_ids=None):
    project = Project.get_by_id(project.id)
    groups, first = every_page(project, table_ids)
    expected, kinds = whole(project, table_ids)
    assert groups == expected
    assert first.pending == plans.has_pending(plans.Plan(project, table_ids, set(table_ids or ())))
    assert first.destructive == bool(kinds.get("destructive"))
    if first.steps is not None:
        assert first.steps == sum(map(len, expected.values()))
        assert first.kinds == kinds
    return groups


@pytest.fixture
def deployed_shop(alice, shop):
    """Authors (referenced), Books (a foreign key to Authors), Notes, all deployed."""
    made = {}
    for name in ("Authors", "Books", "Notes"):
        made[name] = tables.create_table(alice, shop.id, name)
        fields.create_field(alice, made[name].id, {"name": "Title"})
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": made["Authors"].id, "target_table_id": made["Books"].id}
    )
    ids = [str(t.id) for t in made.values()]
    DataTable.update(status="active").where(DataTable.id.in_(ids)).execute()
    assert deploy.deploy(alice, shop.id).status == "applied"
    return made


def test_pending_pages_say_what_the_whole_plan_says(alice, shop, deployed_shop):
    authors, books, notes = deployed_shop["Authors"], deployed_shop["Books"], deployed_shop["Notes"]
    assert assert_as_whole(shop) == {}
    # A column added to the referenced table, a comment, a column dropped (destructive),
    # a new table with a foreign key to a deployed one and an enum column, a Draft table.
    fields.create_field(alice, authors.id, {"name": "Born", "data_type": "date"})
    table = DataTable.get_by_id(books.id)
    tables.update_table(alice, books.id, table.revision, description="What we sell")
    lock = locks.acquire(notes.id, alice, "critical")
    title = DataField.get(DataField.data_table == notes.id, DataField.field_name == "title")
    fields.delete_field(alice, title.id, lock.lock_token)
    locks.release(lock.lock_token, alice)
    mood = enums.create_enum(alice, shop.id, "mood", ["sad", "ok"])
    reviews = tables.create_table(alice, shop.id, "Reviews")
    fields.create_field(
        alice, reviews.id,
        {"name": "Mood", "data_type": "text", "field_config": {"text_type": "enum",
                                                              "enum_id": str(mood.id)}},
    )  # fmt: skip
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": books.id, "target_table_id": reviews.id}
    )
    tables.create_table(alice, shop.id, "Drafts")
    tables.transition(alice, reviews.id, "active")
    groups = assert_as_whole(shop)
    assert {"authors", "books", "notes", "reviews", "schema"} <= groups.keys()
    # Only Reviews (not deployed yet), as an activation reviews it.
    assert set(assert_as_whole(shop, [str(reviews.id)])) == {"reviews", "schema"}
    # A deployment stored before manifests (migration 0042) is read whole.
    Deployment.update(manifest=None).execute()
    assert assert_as_whole(shop) == groups


def test_a_display_name_change_is_not_pending(alice, shop, deployed_shop):
    table = DataTable.get_by_id(deployed_shop["Notes"].id)
    tables.update_table(alice, table.id, table.revision, name="Notebook", table_name="notes")
    found = pending.viewed(Project.get_by_id(shop.id))
    assert not found.pending and found.tables == []


def test_load_more_pages_the_pending_tables_on_the_deploy_tab(alice, shop, signed_in, monkeypatch):
    from designer.settings import settings

    monkeypatch.setattr(settings, "page_size", 2)
    for name in ("Alpha", "Bravo", "Charlie", "Delta", "Echo"):
        made = tables.create_table(alice, shop.id, name)
        fields.create_field(alice, made.id, {"name": "Title"})
        tables.transition(alice, made.id, "active")
    client = signed_in(alice)
    page = client.get(f"/projects/{shop.id}/deploy", htmx=False).text
    assert "5 tables to change" in page and "5 new tables: safe" in page
    assert re.findall(r"<code>(\w+)</code> — ", page) == ["schema", "alpha", "bravo"]
    assert f"/projects/{shop.id}/deploy?start=2" in page and "(3 left)" in page
    more = client.get(f"/projects/{shop.id}/deploy?start=2").text  # htmx: the items only
    assert re.findall(r"<code>(\w+)</code> — ", more) == ["charlie", "delta"]
    assert "Pending changes" not in more and "?start=4" in more
    # A deep link shows the whole page from there.
    linked = client.get(f"/projects/{shop.id}/deploy?start=4", htmx=False).text
    assert "Pending changes" in linked and re.findall(r"<code>(\w+)</code> — ", linked) == ["echo"]
    assert "From the first table" in linked


def test_load_more_pages_the_tables_of_an_activation_review(alice, shop, signed_in, monkeypatch):
    from designer.settings import settings

    monkeypatch.setattr(settings, "page_size", 2)
    for name in ("Alpha", "Bravo", "Charlie", "Delta", "Echo"):
        made = tables.create_table(alice, shop.id, name)
        fields.create_field(alice, made.id, {"name": "Title"})
    client = signed_in(alice)
    url = f"/projects/{shop.id}/activations/new?all_drafts=1"
    page = client.get(url, htmx=False).text
    named = re.findall(r"<code>(\w+)</code> — ", page)
    assert named == ["schema", "alpha", "bravo"] and "(3 left)" in page
    assert '<details class="pending-table" >' in page  # more pages: the tables start closed
    more = re.search(r'hx-get="([^"]*start=2[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "all_drafts=1" in more
    rest = client.get(more).text  # htmx: the items only
    assert re.findall(r"<code>(\w+)</code> — ", rest) == ["charlie", "delta"] and "start=4" in rest


def seeded(alice, count):
    """`count` linked Active tables, deployed as the designer records a deploy (the target is
    not touched), then one table changed and one new Active table."""
    from designer import projects

    project = projects.create_project(alice, f"Scale {count}")
    made, owned, linked = rows_of(project, alice, count)
    for model, rows in ((DataTable, made), (DataField, owned), (relationships.TableRelationship,
                                                                 linked)):  # fmt: skip
        for batch in chunked(rows, 1000):
            model.insert_many(batch).execute()
    design = snapshot.build(project.id)
    Deployment.create(
        project=project.id, target_schema=project.target_schema, status="applied",
        to_hash=snapshot.snapshot_hash(design), deployed_snapshot=design,
        manifest=records.deployed_manifest(project.id, design), created_by=alice.id,
        duration_ms=1,
    )  # fmt: skip
    changed = DataTable.get(DataTable.project == project.id, DataTable.name == "Table 0002")
    fields.create_field(alice, changed.id, {"name": "Pending"})
    added = tables.create_table(alice, project.id, "Added")
    fields.create_field(alice, added.id, {"name": "Title"})
    tables.transition(alice, added.id, "active")
    return project


@pytest.mark.timeout(900)  # 3,100 tables seeded, on a busy machine
def test_the_deploy_tab_does_not_grow_with_unchanged_tables(alice, signed_in):
    client = signed_in(alice)
    measured = {}
    for count in (100, 3000):
        project = seeded(alice, count)
        pending.pages.clear()
        pending.planned.clear()
        pending.affected_tables.clear()
        pending.work.update(read=0, planned=0)
        page = client.get(f"/projects/{project.id}/deploy", htmx=False).text
        page = page.replace(f"Scale {count}", "Scale")
        groups = re.findall(r"<code>(\w+)</code> — ", page)
        measured[count] = (len(page.encode()), groups, dict(pending.work))
    (small, small_groups, small_work), (large, large_groups, large_work) = measured.values()
    assert small_groups == large_groups == ["added", "table_0002"]
    assert small_work == large_work, (small_work, large_work)
    assert abs(large - small) < 200, (small, large)
