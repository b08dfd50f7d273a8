"""A deployed snapshot that no longer builds on the target is a finding of the drift check
(and a refusal of put back and adopt), never a server error."""

import pytest

from designer.database import drift
from designer.database import records
from designer.errors import Conflict
from designer.models import Deployment
from tests.integration.test_drift import deployed  # noqa: F401

UNBUILDABLE = (
    "the deployed design no longer builds: there is no unique constraint matching given "
    'keys for referenced table "customers"'
)


@pytest.fixture
def unbuildable(shop, deployed):  # noqa: F811
    """The last deploy's snapshot, as stored, keys its relationship on a column that is not
    unique (as a snapshot stored by an older designer could, its manifest made from it as
    migration 0042 makes it): PostgreSQL refuses to build it."""
    last = records.last_applied(shop.id)
    snapshot = records.deployed_snapshot(last)
    customers = next(t for t in snapshot["tables"].values() if t["table_name"] == "customers")
    nickname = next(f for f in customers["fields"].values() if f["field_name"] == "nickname")
    next(iter(snapshot["relationships"].values()))["source_field_id"] = nickname["id"]
    manifest = records.deployed_manifest(shop.id, snapshot)
    Deployment.update(deployed_snapshot=snapshot, manifest=manifest).where(
        Deployment.id == last.id
    ).execute()
    drift.expected.clear()
    drift.checked.clear()


def test_the_check_reports_that_the_deployed_design_no_longer_builds(alice, shop, unbuildable):
    assert drift.check(alice, shop.id).differences == [UNBUILDABLE]


def test_the_api_and_the_page_show_it_and_put_back_is_refused(
    alice, shop, unbuildable, api, signed_in
):
    client = api(alice)
    response = client.get(f"/projects/{shop.id}/drift")
    assert response.status_code == 200
    assert response.json == {"in_sync": False, "differences": [UNBUILDABLE], "items": []}
    page = signed_in(alice).get(f"/projects/{shop.id}/drift")
    assert page.status_code == 200 and "no longer builds" in page.text
    refused = client.post(f"/projects/{shop.id}/drift", json={"resolve": "redeploy"})
    assert refused.status_code == 409
    assert "no longer builds" in refused.json["error"]["message"]


def test_adopting_is_refused_with_the_same_reason(alice, shop, unbuildable):
    with pytest.raises(Conflict, match="no longer builds"):
        drift.adopt(alice, shop.id)
