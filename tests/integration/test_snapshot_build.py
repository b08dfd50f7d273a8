"""The snapshot PostgreSQL assembles holds exactly what the models hold, value for value."""

from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import snapshot
from designer.models import DataField
from designer.models import DataTable
from designer.models import TableRelationship


def from_models(project_id):
    """The snapshot as the entries of designer.history.snapshot describe each row."""
    result = {"format": snapshot.FORMAT, "tables": {}, "relationships": {}}
    for table in DataTable.select().where(DataTable.project == project_id):
        entry = {k: getattr(table, k) for k in ("name", "table_name", "description", "status")}
        owned = DataField.select().where(DataField.data_table == table.id)
        entry["fields"] = {str(f.id): snapshot.field_entry(f) for f in owned}
        result["tables"][str(table.id)] = {"id": str(table.id), **entry}
    for rel in TableRelationship.select().where(TableRelationship.project == project_id):
        result["relationships"][str(rel.id)] = snapshot.relationship_entry(rel)
    return result


def test_the_built_snapshot_equals_the_models_rows_with_awkward_values(alice, shop):
    customers = tables.create_table(alice, shop.id, 'Clients «été» "quoted"', "clients")
    tables.update_table(alice, customers.id, customers.revision, description="tab\there\nline ✓")
    orders = tables.create_table(alice, shop.id, "Orders")
    fields.create_field(alice, customers.id, {"name": "Naïve \\ name", "max_length": "12"})
    fields.create_field(
        alice, orders.id,
        {"name": "Total", "data_type": "number", "number_type": "decimal", "precision": "14",
         "scale": "4", "default_value": "0.5", "is_required": True},
    )  # fmt: skip
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": str(customers.id), "target_table_id": str(orders.id)}
    )
    tables.create_table(alice, shop.id, "Empty")  # only its id column
    built = snapshot.build(shop.id)
    assert built == from_models(shop.id)
    assert snapshot.snapshot_hash(built) == snapshot.snapshot_hash(from_models(shop.id))
    assert len(built["tables"]) == 3 and len(built["relationships"]) == 1


def test_a_project_without_tables_builds_an_empty_snapshot(alice, shop):
    assert snapshot.build(shop.id) == {"format": snapshot.FORMAT, "tables": {}, "relationships": {}}
