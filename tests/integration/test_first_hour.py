"""Small frictions of a newcomer's first hour, each fixed: words, feedback, focus, names."""

import json
import re
import subprocess

import pytest

from designer import locks
from designer.database import deploy
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.history import versions
from designer.interchange import exports
from designer.models import DataField
from designer.models import DataTable
from designer.models import SchemaVersion
from tests.integration.servers import ROOT
from tests.on_target import on_target


def label_texts(page):
    return re.findall(r'<label for="[^"]+">([^<]+)</label>', page)


def test_a_many_to_many_form_names_its_tables_first_and_second(alice, shop, signed_in):
    client = signed_in(alice)
    url = f"/projects/{shop.id}/relationships/form"
    pair = label_texts(client.get(url, query_string={"relationship_type": "many_to_many"}).text)
    assert "First table" in pair and "Second table" in pair
    assert "One table" not in pair and "Many table" not in pair
    single = label_texts(client.get(url, query_string={"relationship_type": "one_to_many"}).text)
    assert "One table" in single and "Many table" in single


def disposition(response):
    return re.fullmatch(r'attachment; filename="(.+)"', response.headers["Content-Disposition"])[1]


def test_every_download_is_named_by_one_scheme(alice, shop, notes, signed_in):
    versions.save_version(alice, shop.id, "first")
    _, deployment = deploy.transition(alice, notes.id, "active")
    client = signed_in(alice)
    names = [
        disposition(client.get(f"/projects/{shop.id}/export/{fmt}", htmx=False))
        for fmt in ("sql", "json", "dbml", "mermaid")
    ]
    assert names == ["shop.sql", "shop.json", "shop.dbml", "shop.mmd"]
    version = client.get(f"/projects/{shop.id}/export/sql?version=1", htmx=False)
    assert disposition(version) == "shop-v1.sql"
    mermaid = client.get(f"/projects/{shop.id}/diagram.mmd", htmx=False)
    assert disposition(mermaid) == "shop-diagram.mmd"
    page = client.get(f"/projects/{shop.id}/diagram", htmx=False).text
    assert 'data-file-name="shop-diagram"' in page, "SVG and PNG: shop-diagram.svg/.png"
    ran = client.get(f"/projects/{shop.id}/deployments/{deployment.id}/deployment.sql", htmx=False)
    assert re.fullmatch(r"shop-deploy-\d{8}-\d{6}\.sql", disposition(ran))


def test_versions_saved_automatically_are_folded_until_asked(alice, shop, notes, signed_in):
    versions.save_version(alice, shop.id, "Mine")
    fields.create_field(alice, notes.id, {"name": "Title"})
    deploy.transition(alice, notes.id, "active")  # saves "Deployed" by itself
    client = signed_in(alice)
    folded = client.get(f"/projects/{shop.id}/timeline", htmx=False).text
    assert 'id="version-1"' in folded and 'id="version-2"' not in folded
    assert "1 version saved automatically (on deploys, before imports and restores)" in folded
    shown = client.get(f"/projects/{shop.id}/timeline?automatic=shown", htmx=False).text
    assert 'id="version-2"' in shown
    row = shown[shown.index('id="version-2"') :]
    assert 'Deployed <span class="badge">saved automatically</span>' in row[: row.index("</tr>")]


def test_an_empty_version_message_is_named_from_the_change(alice, shop, signed_in):
    orders = tables.create_table(alice, shop.id, "Orders")
    for name in ("Email", "Total", "Placed"):
        fields.create_field(alice, orders.id, {"name": name})
    client = signed_in(alice)
    client.post(f"/projects/{shop.id}/versions", data={"message": "  "})
    assert SchemaVersion.get().message == "Added table orders"
    notes = tables.create_table(alice, shop.id, "Notes")
    fields.create_field(alice, orders.id, {"name": "Paid"})
    fields.create_field(alice, orders.id, {"name": "Sent"})
    fields.create_field(alice, notes.id, {"name": "Body"})
    client.post(f"/projects/{shop.id}/versions", data={"message": ""})
    second = SchemaVersion.get(SchemaVersion.version_number == 2).message
    assert second == "Added table notes; added column orders.paid and 1 more change"
    page = client.get(f"/projects/{shop.id}/timeline", htmx=False).text
    assert "empty: named from the changes" in page


def test_the_deploy_tab_says_what_ran_in_plain_words(alice, shop, notes, signed_in):
    deploy.transition(alice, notes.id, "active")
    on_target("INSERT INTO shop.notes (body) VALUES ('kept until now')")
    lock = locks.acquire(notes.id, alice, "critical")
    body = DataField.get(DataField.field_name == "body")
    fields.delete_field(alice, body.id, lock.lock_token)
    with pytest.raises(Conflict) as refused:
        deploy.deploy(alice, shop.id)
    assert refused.value.message == "1 step would destroy data (1 row). Confirm to run them."
    applied = deploy.deploy(alice, shop.id, confirm=True)
    client = signed_in(alice)
    shown = client.get(f"/projects/{shop.id}/deployments/{applied.id}", htmx=False).text
    assert "confirmed" in shown and "needs confirmation" not in shown
    history = client.get(f"/projects/{shop.id}/deploy", htmx=False).text
    rows = history[history.index('<table class="history">') :]
    assert rows.count("<code>notes</code> · 1 step\n") == 1, "the drop: one step on notes"
    assert '<th scope="col">What</th>' in rows


def test_a_junction_has_required_keys_an_index_on_each_and_its_pair_in_dbml(alice, shop):
    students = tables.create_table(alice, shop.id, "Students")
    courses = tables.create_table(alice, shop.id, "Courses")
    for table in (students, courses):
        fields.create_field(alice, table.id, {"name": "Name"})
    pair = {"source_table_id": students.id, "target_table_id": courses.id}
    relationships.create_relationship(alice, shop.id, {**pair, "relationship_type": "many_to_many"})
    dbml = exports.export_design(alice, shop.id, "dbml").text
    assert '("student_id", "course_id") [unique]' in dbml
    checked = subprocess.run(
        ["node", str(ROOT / "tests" / "dbml_check.js")], input=dbml, capture_output=True,
        text=True, cwd=ROOT,
    )  # fmt: skip
    assert checked.returncode == 0 and json.loads(checked.stdout)["refs"] == 2, checked.stdout
    for table in (students, courses, DataTable.get(DataTable.table_name == "students_courses")):
        deploy.transition(alice, table.id, "active")
    required = on_target(
        "SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'shop.students_courses'"
        "::regclass AND attname IN ('student_id', 'course_id') ORDER BY attname"
    )
    assert required == [("course_id", True), ("student_id", True)]
    # Each key leads an index of its own (lookups from either side), and the pair is unique.
    leading = on_target(
        "SELECT a.attname, i.indisunique, i.indnatts FROM pg_index i JOIN pg_attribute a"
        " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
        " WHERE i.indrelid = 'shop.students_courses'::regclass AND NOT i.indisprimary"
    )
    assert ("course_id", False, 1) in leading and ("student_id", True, 2) in leading


def test_a_junction_refuses_an_action_its_required_keys_cannot_take(alice, shop):
    one, two = (tables.create_table(alice, shop.id, name) for name in ("One", "Two"))
    data = {"source_table_id": one.id, "target_table_id": two.id, "on_delete": "set_null"}
    with pytest.raises(ValidationFailed) as refused:
        relationships.create_relationship(
            alice, shop.id, {**data, "relationship_type": "many_to_many"}
        )
    assert "cascade, restrict or no action" in refused.value.fields["on_delete"]


def test_a_many_to_many_form_offers_only_actions_required_keys_can_take(alice, shop, signed_in):
    url = f"/projects/{shop.id}/relationships/form"
    page = signed_in(alice).get(url, query_string={"relationship_type": "many_to_many"}).text
    on_delete = page[page.index('id="rel-on-delete"') :]
    on_delete = on_delete[: on_delete.index("</select>")]
    offered = re.findall(r'<option value="(\w+)"', on_delete)
    assert set(offered) == {"no_action", "restrict", "cascade"}
