"""A JSON export keeps its ids where they are free; where anyone's rows hold them (row-level
security hides other people's), the preview says so and the import gives fresh ones."""

from designer import projects
from designer.design import relationships
from designer.design import tables
from designer.history import snapshot as snapshots
from designer.interchange import exports


def test_an_export_imported_by_another_user_previews_the_ids_in_use_and_imports(
    alice, shop, make_user, api
):
    customers = tables.create_table(alice, shop.id, "Customers")
    orders = tables.create_table(alice, shop.id, "Orders")
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": customers.id, "target_table_id": orders.id}
    )
    text = exports.export_design(alice, shop.id, "json").text
    bob = make_user("bob")
    theirs = projects.create_project(bob, "Theirs")
    client = api(bob)
    preview = client.post(f"/projects/{theirs.id}/import?format=json", json={"source": text})
    assert preview.status_code == 200
    assert [f["subject"] for f in preview.json["findings"]] == ["ids"]
    done = client.post(
        f"/projects/{theirs.id}/import?format=json", json={"source": text, "confirm": True}
    )
    assert done.status_code == 201, done.json
    copy, original = snapshots.build(theirs.id), snapshots.build(shop.id)
    assert not set(copy["tables"]) & set(original["tables"])
    (rel,) = copy["relationships"].values()
    assert rel["source_table_id"] in copy["tables"] and rel["target_table_id"] in copy["tables"]
    assert rel["target_field_id"] in copy["tables"][rel["target_table_id"]]["fields"]
    assert rel["source_field_id"] in copy["tables"][rel["source_table_id"]]["fields"]
