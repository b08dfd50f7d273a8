"""SQL and DBML files with hostile text in their names, types, defaults, checks and notes:
what the designer cannot take is renamed or left out (and the preview says so), what it
keeps is a literal, and deploying the import leaves the target's catalog, its roles and
another tenant's rows as they were."""

import pytest

from designer.models import DataField
from designer.models import DataTable
from tests.integration.hostile import column_default
from tests.integration.hostile import other_tenant
from tests.integration.hostile import target_catalog
from tests.integration.hostile import tenant_rows
from tests.on_target import on_target

SQL = """
CREATE TABLE victims (
    id bigserial PRIMARY KEY,
    note text DEFAULT 'x''); DROP TABLE other.customers; --'
        CHECK (note ~ '^x''; DROP TABLE other.customers; --$'),
    amount numeric(10,2) DEFAULT 1.5 CHECK (amount >= 0),
    "bigint); DROP TABLE other.customers; --" text,
    weird "bigint); DROP TABLE other.customers; --",
    sized varchar(99999999)
);
CREATE TABLE "victims""; DROP TABLE other.customers; --" (id bigint PRIMARY KEY, label text);
COMMENT ON TABLE victims IS '$$; DROP TABLE other.customers; $$';
COMMENT ON COLUMN victims.note IS '*/ DROP TABLE other.customers; /*';
"""
DBML = r"""
Table victims {
  id bigint [pk, increment]
  note text [default: 'x\'); DROP TABLE other.customers; --', note: '$$; DROP TABLE other.customers; $$']
  "bigint); DROP TABLE other.customers; --" text
  amount "bigint); DROP TABLE other.customers; --"
  Note: '*/ DROP TABLE other.customers; /*'
}
"""  # noqa: E501
KEPT = "'x''); DROP TABLE other.customers; --'::text"


@pytest.mark.parametrize(("fmt", "source"), [("sql", SQL), ("dbml", DBML)])
def test_a_hostile_file_imports_as_literals_and_deploys_inside_its_schema(
    alice, shop, api, make_user, fmt, source
):
    other_tenant(make_user)
    before, rows = target_catalog(outside=shop), tenant_rows()
    client = api(alice)
    preview = client.post(f"/projects/{shop.id}/import?format={fmt}", json={"source": source})
    assert preview.status_code == 200, preview.json
    assert preview.json["renames"], "the hostile column name is renamed, and the preview says so"
    done = client.post(
        f"/projects/{shop.id}/import?format={fmt}", json={"source": source, "confirm": True}
    )
    assert done.status_code == 201, done.json
    # A type the designer has no word for is kept by its name, a quoted identifier: the
    # target knows no such type, so the dry run refuses that column, which then goes.
    hostile_type = '"bigint); DROP TABLE other.customers; --"'
    for field in DataField.select().where(DataField.field_config["named_type"].is_null(False)):
        assert field.field_config["named_type"] == hostile_type
        refused = client.post(
            f"/tables/{field.data_table.id}/transition", json={"status": "active", "dry_run": True}
        )
        # (The dry run looks the type up by name in the catalog before running anything.)
        said = str(refused.json)
        assert f"has type {hostile_type}, which the target does not have" in said, said
        assert client.delete(f"/fields/{field.id}").status_code == 204
    for table in DataTable.select().where(DataTable.project == shop.id):
        deployed = client.post(f"/tables/{table.id}/transition", json={"status": "active"})
        assert deployed.status_code == 200, deployed.json
    assert target_catalog(outside=shop) == before
    assert tenant_rows() == rows
    assert column_default("shop", "victims", "note") == KEPT
    names = {name for (name,) in on_target(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'shop.victims'::regclass"
        " AND attnum > 0 AND NOT attisdropped"
    )}  # fmt: skip
    assert all(name.replace("_", "").isalnum() for name in names), names
