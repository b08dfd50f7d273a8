"""In the browser: a partition added on its parent's page (a bad bound refused next to its
input), its page naming its parent, and the diagram folding it into the parent's box."""

import pytest
from playwright.sync_api import expect

from designer import projects
from designer.design import fields
from designer.design import primary_keys
from designer.design import table_partitions
from designer.design import tables
from tests.e2e.conftest import sign_in


@pytest.fixture
def payments(user):
    shop = projects.create_project(user, "Shop")
    table = tables.create_table(user, shop.id, "Payments")
    paid_on = fields.create_field(
        user, table.id, {"name": "Paid on", "data_type": "date", "is_required": True}
    )
    fields.create_field(user, table.id, {"name": "Amount", "data_type": "number"})
    primary_keys.set_primary_key(user, table.id, [str(paid_on.id)])
    table_partitions.set_partition_key(user, table.id, "range", "paid_on")
    return table


def test_add_a_partition_with_a_bound_on_the_parents_page(page, user, payments):
    sign_in(page)
    page.goto(f"/tables/{payments.id}")
    section = page.locator("#partitioning")
    expect(section).to_contain_text("Partitioned by RANGE (paid_on): 0 partitions.")
    page.get_by_label("Table name", exact=True).fill("payments_2025")
    page.get_by_label("Bound").fill("FOR VALUES IN ('2025')")
    page.get_by_role("button", name="Add partition").click()
    # Refused next to its input, what was typed kept.
    expect(page.locator("#bound-error")).to_contain_text("partitioned by range")
    expect(page.get_by_label("Bound")).to_have_value("FOR VALUES IN ('2025')")
    page.get_by_label("Bound").fill("FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')")
    page.get_by_role("button", name="Add partition").click()
    expect(section).to_contain_text("1 partition.")
    expect(page.locator("#partitions")).to_contain_text(
        "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"
    )
    page.get_by_role("link", name="payments_2025").click()
    expect(page.locator("#partition-of")).to_contain_text("Partition of Payments")
    expect(page.locator("#partition-columns")).to_contain_text("paid_on")
    expect(page.get_by_role("button", name="Add field")).to_have_count(0)
    page.goto(f"/projects/{payments.project_id}/diagram")
    expect(page.locator("a.table[data-name='payments']")).to_contain_text("1 partition")
    expect(page.locator("a.table[data-name='payments_2025']")).to_have_count(0)
