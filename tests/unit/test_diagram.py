"""Mermaid ER source from a snapshot."""

import pytest

from designer.diagram import comment
from designer.diagram import mermaid


def snapshot():
    def field(fid, name, data_type="text", order=1, **extra):
        config = extra.pop("config", {})
        return fid, {
            "id": fid,
            "name": extra.pop("label", name),
            "field_name": name,
            "data_type": data_type,
            "is_required": extra.pop("required", False),
            "default_value": None,
            "field_config": config,
            "sort_order": order,
        }

    customers = dict([
        field("c1", "id", "number", 0, label="ID", config={"primary_key": True, "system": True,
                                                           "number_type": "bigint"}),
        field("c2", "email", config={"max_length": 200, "unique": True}, label='E-mail "work"'),
    ])  # fmt: skip
    orders = dict([
        field("o1", "id", "number", 0, label="ID", config={"primary_key": True,
                                                           "number_type": "bigint"}),
        field("o2", "customers_id", "number", 1, config={"number_type": "bigint"}, required=True),
        field("o3", "total", "number", 2, config={"number_type": "decimal", "precision": 10,
                                                  "scale": 2}),
    ])  # fmt: skip
    tables = {
        "tc": {"id": "tc", "name": "Customers", "table_name": "customers", "description": "",
               "status": "draft", "fields": customers},
        "to": {"id": "to", "name": "Orders", "table_name": "orders", "description": "",
               "status": "active", "fields": orders},
        "tx": {"id": "tx", "name": "Gone", "table_name": "gone", "description": "",
               "status": "deleted", "fields": {}},
        "tl": {"id": "tl", "name": "Lonely", "table_name": "lonely", "description": "",
               "status": "draft", "fields": {}},
    }  # fmt: skip
    rels = {
        "r1": {"id": "r1", "relationship_name": "orders_customers_id_fkey",
               "relationship_type": "one_to_many", "source_table_id": "tc",
               "source_field_id": "c1", "target_table_id": "to", "target_field_id": "o2",
               "cascade_config": {}, "status": "draft"},
        "r2": {"id": "r2", "relationship_name": "gone_fkey", "relationship_type": "one_to_many",
               "source_table_id": "tc", "source_field_id": "c1", "target_table_id": "tx",
               "target_field_id": None, "cascade_config": {}, "status": "draft"},
    }  # fmt: skip
    return {"format": 1, "tables": tables, "relationships": rels}


def test_entities_list_typed_columns_with_key_marks():
    source = mermaid(snapshot())
    assert source.startswith("erDiagram\n")
    assert '    customers {\n        bigint id PK "ID"\n' in source
    assert '        varchar(200) email UK "E-mail #34;work#34;"\n' in source
    assert "        bigint customers_id FK\n" in source
    assert "        numeric(10,2) total\n" in source


def test_relationships_show_cardinality_and_name():
    source = mermaid(snapshot())
    assert '    customers ||--o{ orders : "orders_customers_id_fkey"' in source


def test_deleted_tables_and_their_relationships_are_left_out():
    source = mermaid(snapshot())
    assert "gone" not in source


def test_focus_keeps_a_table_and_its_neighbours():
    source = mermaid(snapshot(), focus="to")
    assert "customers {" in source
    assert "orders {" in source
    assert "lonely" not in source


def test_the_same_snapshot_always_gives_the_same_source():
    assert mermaid(snapshot()) == mermaid(snapshot())


def labelled(name):
    data = snapshot()
    data["tables"]["tc"]["fields"]["c2"]["name"] = name
    return mermaid(data)


@pytest.mark.parametrize(
    "name",
    [
        "Amount %%{init: {'themeCSS': 'svg {display: none}'}}%%",
        "Amount\n%% a comment line\nmore",
        "Say \"hi\" and 'bye'",
        "<b>bold</b> & [link](x) `code` #quot; #37;",
    ],
)
def test_a_label_cannot_reach_mermaid_syntax(name):
    source = labelled(name)
    line = next(line for line in source.splitlines() if " email " in line)
    label = line.split(" UK ", 1)[1]
    assert label.startswith('"') and label.endswith('"')
    inside = label[1:-1]
    for meaningful in ('"', "%", "{", "}", "<", ">", "`", "\n"):
        assert meaningful not in inside
    assert "%%" not in source
    assert len(source.splitlines()) == len(mermaid(snapshot()).splitlines())


def test_labels_are_written_as_entity_codes_mermaid_draws_as_text():
    assert comment('50% "off"') == "50#37; #34;off#34;"
    assert comment("#37;") == "#35;37#59;"
    assert comment("two\n  lines") == "two lines"
