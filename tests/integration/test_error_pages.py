"""Error pages as production serves them: Flask does not re-raise, the handlers answer.

The `production` app (tests/integration/conftest.py) has routes that fail on purpose.
"""

import pytest

from designer.models import Project

REFUSED = {
    "deadlock_detected": 409,
    "serialization_failure": 409,
    "lock_not_available": 409,
    "query_canceled": 500,
}


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
def test_an_unexpected_exception_gives_the_500_page_not_a_traceback(production, prefix):
    client = production.test_client()
    response = client.post(f"{prefix}/test/broken")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "a bug" not in response.text
    assert "Traceback" not in response.text
    assert response.is_json == (prefix == "/api/v1")


@pytest.mark.parametrize("condition", sorted(REFUSED))
def test_a_transaction_postgresql_aborts_for_a_concurrent_one_is_a_409(production, shop, condition):
    response = production.test_client().post(f"/test/refused/{condition}")
    assert response.status_code == REFUSED[condition]
    if REFUSED[condition] == 409:
        assert "Another change to the same rows got in the way; nothing was saved" in (
            response.text
        )
    else:
        assert "Something went wrong on our side" in response.text
    assert Project.get_by_id(shop.id).name == "Shop", "the aborted change was stored"


def test_a_409_from_an_htmx_request_goes_to_the_flash_area(production, shop):
    response = production.test_client().post(
        "/test/refused/deadlock_detected", headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#flash"
    assert "<html" not in response.text


def test_the_api_answers_a_deadlock_with_a_json_409(production, shop):
    response = production.test_client().post("/api/v1/test/refused/deadlock_detected")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert Project.get_by_id(shop.id).name == "Shop"


def test_a_wrong_method_gives_the_405_page(production):
    response = production.test_client().put("/login")
    assert response.status_code == 405
    assert "This address does not accept that kind of request." in response.text
    assert "<html" in response.text


def test_a_wrong_method_on_the_api_gives_a_json_405(production):
    response = production.test_client().put("/api/v1/openapi.json")
    assert response.status_code == 405
    assert response.get_json()["error"]["message"] == (
        "This address does not accept that kind of request."
    )


def test_a_body_over_16_mib_gives_the_413_page(production):
    response = production.test_client().post("/login", data=b"x" * (16 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert "That upload is too large." in response.text


def test_an_unknown_address_gives_the_404_page(production):
    response = production.test_client().get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.text
