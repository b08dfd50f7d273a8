"""A deployed table's page follows its deploy status live: "N changes not deployed" and "the
database holds this table as designed" come with the page's live poll, which answers 204
while nothing changed."""

import re

from designer.database import deploy
from designer.design import fields
from designer.design import page_stamps
from designer.design import tables
from designer.models import DataTable


def deploy_status(html):
    """The deploy status region of a page or a live answer, as one string."""
    match = re.search(r'<section id="deploy-status".*?</section>', html, re.DOTALL)
    assert match, "no deploy status"
    return match.group(0)


def not_deployed(status):
    """N of "N changes not deployed"."""
    return int(re.search(r"<strong>(\d+) changes? not deployed</strong>", status).group(1))


def poll(web, table, version):
    url = f"/tables/{table.id}/live?project={table.project_id}&v={version}"
    response = web.get(url)
    return response, response.headers.get("X-Live-Version", version)


def test_the_deploy_status_follows_pending_changes_and_deploys(alice, shop, notes, signed_in):
    deploy.transition(alice, notes.id, "active")
    web = signed_in(alice)
    page = web.get(f"/tables/{notes.id}", htmx=False).text
    assert "the database holds this table as designed" in deploy_status(page)
    version = page_stamps.table_stamp(notes.id)
    assert poll(web, notes, version)[0].status_code == 204

    # A teammate's rename: changes not deployed, out of band into the open page.
    tables.update_table(alice, notes.id, DataTable.get_by_id(notes.id).revision, name="Memos",
                        table_name="memos")  # fmt: skip
    response, version = poll(web, notes, version)
    assert response.status_code == 200
    status = deploy_status(response.text)
    assert 'hx-swap-oob="true"' in status
    assert "holds this table" not in status
    renamed = not_deployed(status)
    assert renamed >= 1  # the rename (and its key's and sequence's, where they follow it)

    # A third change counts too, and then nothing more is sent until something changes.
    fields.create_field(alice, notes.id, {"name": "Pinned", "data_type": "boolean"})
    response, version = poll(web, notes, version)
    assert not_deployed(deploy_status(response.text)) == renamed + 1
    assert poll(web, notes, version)[0].status_code == 204

    # Deployed (by anyone, from anywhere): the page says the database holds it as designed.
    applied = deploy.deploy(alice, shop.id, [notes.id])
    assert applied.status == "applied"
    response, version = poll(web, notes, version)
    assert response.status_code == 200
    assert "the database holds this table as designed" in deploy_status(response.text)


def test_a_table_deployed_while_its_page_is_open_gets_its_status(alice, shop, notes, signed_in):
    web = signed_in(alice)
    page = web.get(f"/tables/{notes.id}", htmx=False).text
    # Never deployed: the region is there, empty and hidden, for a deploy to fill.
    assert "hidden" in deploy_status(page).split(">")[0]
    version = page_stamps.table_stamp(notes.id)
    deploy.transition(alice, notes.id, "active")
    response, _ = poll(web, notes, version)
    status = deploy_status(response.text)
    assert "hidden" not in status.split(">")[0]
    assert "the database holds this table as designed" in status
