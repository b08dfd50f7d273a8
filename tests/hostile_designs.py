"""Designs for property tests: a valid base, reshaped with hostile free text, then mutated.

`designs()` draws the base design (two tables, a relationship, a field of each type)
with valid settings and hostile text in every free-text place; `mutated()` then replaces
up to four values, any string or number of the snapshot or any setting of any field, by
hostile text, a number out of bounds, a float, a bool, a list or null.
"""

import uuid

from hypothesis import strategies as st

from designer.design.field_types import DATE_FUNCTIONS
from designer.design.field_types import DATE_TYPES
from designer.design.field_types import NUMBER_TYPES
from tests.sql_statements import NAMED_TYPES

SCHEMA = "app"
PAYLOADS = [
    "bigint); DROP TABLE x; --",
    "integer); UPDATE other.customers SET paid = 0; CREATE TABLE x (id bigint",
    "'); DROP TABLE x; --",
    '"; DROP TABLE x; --',
    "$$; DROP TABLE x; $$",
    "\\'; DROP TABLE x; --",
    "x\nDROP TABLE x;",
    "*/ DROP TABLE x; /*",
    "-- comment\nDROP TABLE x",
    "COMMIT; DROP TABLE x",
    "numeric(10,2)) ; ALTER ROLE designer_app SET search_path = x; --",
    'text COLLATE "C"',
    "E'\\x27'",
    "ǘñí©ødé 🐘",
    "10)",
    "5 ",
    "٣",
    "",
    " ",
]
TEXT = st.sampled_from(PAYLOADS) | st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30
)
TRIMMED = TEXT.map(lambda text: text.strip()[:200])
ANY_VALUE = st.one_of(
    TEXT,
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 1, 63, 1000, 1001, 10_485_760, 10_485_761, 2**31]),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(TEXT, max_size=2),
)


def ids(n):
    return [str(uuid.UUID(int=0xA000 + i)) for i in range(n)]


TABLE_A, TABLE_B, ID_A, ID_B, A_TEXT, A_NUM, A_DATE, A_BOOL, B_REF, B_TEXT, REL = ids(11)


def entry(field_id, field_name, data_type, order, config, default=None, required=False):
    return {
        "id": field_id, "name": field_name.title(), "field_name": field_name,
        "data_type": data_type, "is_required": required, "default_value": default,
        "field_config": config, "sort_order": order,
    }  # fmt: skip


def system(field_id):
    config = {"system": True, "primary_key": True, "number_type": "bigint"}
    return entry(field_id, "id", "number", 0, config, required=True)


def table(table_id, table_name, fields, description=""):
    return {
        "id": table_id, "name": table_name.title(), "table_name": table_name,
        "description": description, "status": "active",
        "fields": {f["id"]: f for f in fields},
    }  # fmt: skip


def base_design():
    """The design migrations start from (and go back to)."""
    a = table(TABLE_A, "a", [
        system(ID_A),
        entry(A_TEXT, "note", "text", 1, {"unique": False, "indexed": False}),
        entry(A_NUM, "amount", "number", 2, {"number_type": "integer", "unique": False,
                                              "indexed": False}),
        entry(A_DATE, "day", "date", 3, {"date_type": "date", "unique": False, "indexed": False}),
        entry(A_BOOL, "flag", "boolean", 4, {"unique": False, "indexed": False}),
    ])  # fmt: skip
    b = table(TABLE_B, "b", [
        system(ID_B),
        entry(B_REF, "a_id", "number", 1, {"number_type": "bigint", "unique": False,
                                           "indexed": False}),
        entry(B_TEXT, "title", "text", 2, {"unique": False, "indexed": False}),
    ])  # fmt: skip
    rel = {
        "id": REL, "relationship_name": "b_a_id_fkey", "relationship_type": "one_to_many",
        "source_table_id": TABLE_A, "source_field_id": ID_A, "target_table_id": TABLE_B,
        "target_field_id": B_REF, "cascade_config": {"on_delete": "cascade",
                                                      "on_update": "no_action"},
        "status": "active",
    }  # fmt: skip
    return {"format": 1, "tables": {TABLE_A: a, TABLE_B: b}, "relationships": {REL: rel}}


@st.composite
def designs(draw):
    """The base design reshaped with valid settings and hostile free text."""
    design = base_design()
    a, b = design["tables"][TABLE_A], design["tables"][TABLE_B]
    for t in (a, b):
        t["name"] = draw(TRIMMED.map(lambda text: text or "Name"))
        t["description"] = draw(TRIMMED)
    note = a["fields"][A_TEXT]
    note["field_config"].update(draw(text_settings()))
    note["default_value"] = fitting(note["field_config"], draw(TRIMMED))
    if note["field_config"].get("text_type") in ("uuid", "jsonb", "inet"):
        note["default_value"] = None
    if note["field_config"].get("array_dimensions"):
        note["default_value"] = draw(st.sampled_from([None, "{}"]))
    note["is_required"] = draw(st.booleans())
    amount = a["fields"][A_NUM]
    amount["field_config"].update(draw(number_settings()))
    amount["default_value"] = draw(st.none() | st.integers(-99, 99).map(str))
    day = a["fields"][A_DATE]
    day["field_config"]["date_type"] = draw(st.sampled_from(DATE_TYPES))
    if day["field_config"]["date_type"] != "date" and draw(st.booleans()):
        day["field_config"]["time_precision"] = draw(st.integers(0, 6))
    functions = sorted(DATE_FUNCTIONS[day["field_config"]["date_type"]])
    day["default_value"] = draw(st.sampled_from([None, *functions]))
    a["fields"][A_BOOL]["default_value"] = draw(st.sampled_from([None, "true", "false"]))
    for field in (*a["fields"].values(), *b["fields"].values()):
        if not field["field_config"].get("system"):
            description = draw(TRIMMED)
            if description:
                field["field_config"]["description"] = description
    return design


def fitting(config, text):
    """`text` as the default of a text field with these settings, or None."""
    fits = config.get("min_length", 0) <= len(text) <= config.get("max_length", 10**9)
    return text if text and fits and "pattern" not in config else None


@st.composite
def text_settings(draw):
    settings = {}
    kind = draw(st.sampled_from(["text", "varchar", "char", "uuid", "jsonb", "inet", "named"]))
    if kind in ("varchar", "char") or kind == "text" and draw(st.booleans()):
        settings["max_length"] = draw(st.integers(30, 10_485_760))
    if kind == "varchar" and draw(st.booleans()):
        settings.pop("max_length", None)
    if kind in ("text", "varchar", "char") and draw(st.booleans()):
        settings["min_length"] = draw(st.integers(1, 30))
    if kind in ("text", "varchar", "char") and draw(st.booleans()):
        settings["pattern"] = draw(st.sampled_from(PAYLOADS[:10]))
    if kind != "text" and not (kind == "varchar" and "max_length" in settings):
        settings["text_type"] = kind
    if kind == "named":
        settings["named_type"] = draw(st.sampled_from(sorted(NAMED_TYPES)))
    if draw(st.booleans()) and not {"min_length", "pattern"} & set(settings):
        settings["array_dimensions"] = draw(st.integers(1, 2))
    settings["unique"] = draw(st.booleans())
    return settings


@st.composite
def number_settings(draw):
    number_type = draw(st.sampled_from(NUMBER_TYPES))
    settings = {"number_type": number_type}
    if number_type == "decimal":
        settings["precision"] = draw(st.integers(5, 1000))
        settings["scale"] = draw(st.integers(0, 4))
    if draw(st.booleans()):
        settings["min"] = "-100"
        settings["max"] = "100"
    return settings


def leaves(value, path=()):
    """The path of every string, number, bool and null of a snapshot."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaves(child, (*path, index))
    else:
        yield path


def put(value, path, new):
    for key in path[:-1]:
        value = value[key]
    value[path[-1]] = new


SETTINGS = (
    "number_type", "date_type", "max_length", "min_length", "precision", "scale", "min", "max",
    "pattern", "unique", "indexed", "description", "unique_with", "system", "primary_key",
    "text_type", "named_type", "enum_id", "time_precision", "array_dimensions",
)  # fmt: skip
HOSTILE = st.sampled_from(PAYLOADS) | ANY_VALUE


@st.composite
def mutated(draw):
    """A design with up to four values replaced: any leaf, or any setting of any field."""
    design = draw(designs())
    paths = list(leaves(design))
    fields = [
        ("tables", table_id, "fields", field_id, "field_config")
        for table_id, t in design["tables"].items()
        for field_id in t["fields"]
    ]
    settings = [(*path, key) for path in fields for key in SETTINGS]
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(settings) | st.sampled_from(paths))
        put(design, path, draw(HOSTILE))
    return design


TABLE_C, C_CODE, C_NUMBER, B_C_CODE, B_C_NUMBER, B_STATE, REL_C, ENUM, *ITEMS = ids(24)[11:]
LABELS = ["new", "it's paid", "ǘñí 🐘", "a b", "DROP TABLE x; --"]


@st.composite
def keyed_designs(draw):
    """designs() with what real schemas hold beside: a third table keyed by two columns of
    exact types (no designer's id), a composite foreign key to it, an enum (an array of it
    too), and table uniques, CHECKs and indexes of several shapes. Each of those is named:
    an import cannot tell a generated name from a chosen one, so one left unnamed comes back
    named (the same file and catalog, a different design)."""
    from designer.design.expressions import stored_expression

    design = draw(designs())
    a, b = design["tables"][TABLE_A], design["tables"][TABLE_B]
    code_type = draw(st.sampled_from([{"max_length": 8},
                                      {"text_type": "char", "max_length": 3},
                                      {"text_type": "uuid"}, {}]))  # fmt: skip
    number_type = {"number_type": draw(st.sampled_from(["smallint", "integer", "bigint"]))}
    plain = {"unique": False, "indexed": False}  # as an import writes every field
    code_type, number_type = {**plain, **code_type}, {**plain, **number_type}
    c = table(TABLE_C, "c", [
        entry(C_CODE, "code", "text", 1, dict(code_type), required=True),
        entry(C_NUMBER, "n", "number", 2, dict(number_type), required=True),
    ])  # fmt: skip
    c["name"] = ("C " + draw(TRIMMED)).strip()
    order = draw(st.permutations([C_CODE, C_NUMBER]))
    c["structure"] = {"primary_key": list(order)}
    design["tables"][TABLE_C] = c
    b["fields"][B_C_CODE] = entry(B_C_CODE, "c_code", "text", 5, dict(code_type))
    b["fields"][B_C_NUMBER] = entry(B_C_NUMBER, "c_n", "number", 6, dict(number_type))
    foreign = {C_CODE: B_C_CODE, C_NUMBER: B_C_NUMBER}
    design["relationships"][REL_C] = {
        # Named as the DDL names its foreign key (SQL carries that name, not another).
        "id": REL_C, "relationship_name": f"b_{b['fields'][foreign[order[0]]]['field_name']}_fkey",
        "relationship_type": "one_to_many",
        "source_table_id": TABLE_C, "source_field_id": order[0], "target_table_id": TABLE_B,
        "target_field_id": foreign[order[0]],
        "pairs": [[key, foreign[key]] for key in order],
        "cascade_config": {
            "on_delete": draw(st.sampled_from(["no_action", "cascade", "restrict"])),
            "on_update": draw(st.sampled_from(["no_action", "cascade"])),
        },
        "status": "active",
    }  # fmt: skip
    labels = draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=4, unique=True))
    name = draw(st.sampled_from(["status", "state", "kind_of", "x" * 63]))
    design["enums"] = {ENUM: {"id": ENUM, "name": name, "labels": labels}}
    state = {**plain, "text_type": "enum", "enum_id": ENUM}
    if draw(st.booleans()):
        state["array_dimensions"] = 1
    default = None if "array_dimensions" in state else draw(st.sampled_from([None, labels[0]]))
    b["fields"][B_STATE] = entry(B_STATE, "state", "text", 7, state, default)
    items = iter(ITEMS)
    structure = {}
    columns = {"amount": A_NUM, "day": A_DATE, "note": A_TEXT, "flag": A_BOOL}
    if draw(st.booleans()):
        uid = next(items)
        structure["uniques"] = {uid: {
            "id": uid, "name": draw(st.sampled_from(["a_pair_key", "Pair's key"])),
            "columns": [A_NUM, A_DATE], "comment": draw(st.sampled_from([None, "Once a day"])),
        }}  # fmt: skip
    if draw(st.booleans()):
        cid = next(items)
        # Over two columns: a CHECK of one column reads back as its validation rules.
        text = draw(st.sampled_from(["flag OR amount IS NULL", "num_nonnulls(amount, day) >= 1"]))
        structure["checks"] = {cid: {
            "id": cid, "name": draw(st.sampled_from(["a_check", "Positive Check"])),
            "expression": stored_expression(text, columns), "comment": None,
        }}  # fmt: skip
    if draw(st.booleans()):
        iid = next(items)
        key = {"column": A_DATE, "expression": None, "collation": None, "opclass": None,
               "descending": True, "nulls": None}  # fmt: skip
        # (Ascending, unnamed, it would be the field's own index: it reads back as indexed.)
        structure["indexes"] = {iid: {
            "id": iid, "name": draw(st.sampled_from(["a_day_idx", "by_day"])), "method": "btree",
            "unique": False, "keys": [key], "include": [], "where": None,
            "comment": draw(st.sampled_from([None, "Days first"])),
        }}  # fmt: skip
    if structure:
        a["structure"] = structure
    return design
