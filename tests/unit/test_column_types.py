"""Exact PostgreSQL types inside the four families: rendering, validation, type changes."""

import pytest

from designer.design.column_types import UnsafeSetting
from designer.design.column_types import enum_types
from designer.design.column_types import sql_type
from designer.design.field_types import clean_field
from designer.design.type_changes import widening
from designer.errors import ValidationFailed

ENUMS = {"e1": {"id": "e1", "name": "Mood", "labels": ["sad", "ok", "happy"]}}


@pytest.mark.parametrize(
    ("data_type", "config", "rendered"),
    [
        ("text", {}, "text"),
        ("text", {"max_length": 20}, "varchar(20)"),
        ("text", {"text_type": "varchar"}, "varchar"),
        ("text", {"text_type": "char", "max_length": 3}, "char(3)"),
        ("text", {"text_type": "char"}, "char"),
        ("text", {"text_type": "uuid"}, "uuid"),
        ("text", {"text_type": "jsonb", "array_dimensions": 2}, "jsonb[][]"),
        ("text", {"text_type": "macaddr"}, "macaddr"),
        ("text", {"text_type": "named", "named_type": "geometry(Point,4326)"}, "geometry(point, 4326)"),  # noqa: E501
        ("number", {"number_type": "smallint"}, "smallint"),
        ("number", {"number_type": "numeric"}, "numeric"),
        ("number", {"number_type": "decimal", "precision": 9, "scale": 3}, "numeric(9,3)"),
        ("number", {"number_type": "double"}, "double precision"),
        ("date", {"date_type": "timestamptz", "time_precision": 3}, "timestamptz(3)"),
        ("date", {"date_type": "timetz"}, "timetz"),
        ("date", {"date_type": "interval", "time_precision": 0}, "interval(0)"),
        ("boolean", {"array_dimensions": 1}, "boolean[]"),
    ],
)  # fmt: skip
def test_each_exact_type_renders_from_our_own_words(data_type, config, rendered):
    assert sql_type(data_type, config) == rendered


@pytest.mark.parametrize(
    "config",
    [
        {"text_type": "named", "named_type": "int); DROP TABLE x; --"},
        {"text_type": "named", "named_type": "geometry(point, (SELECT 1))"},
        {"text_type": "named", "named_type": "a.b.c"},
        {"text_type": "named", "named_type": "text[]"},
        {"text_type": "named", "named_type": "integer"},
        {"text_type": "named", "named_type": "setof tsvector"},
        {"text_type": "named", "named_type": 'tsvector COLLATE "C"'},
        {"text_type": "named", "named_type": ["tsvector"]},
        {"text_type": "varchar); DROP TABLE x; --"},
        {"text_type": "char", "max_length": "3) ; DROP TABLE x; --"},
        {"text_type": "enum", "enum_id": "e1"},
        {"array_dimensions": 7},
        {"array_dimensions": "1"},
    ],
)
def test_a_setting_outside_our_words_never_renders(config):
    with pytest.raises(UnsafeSetting):
        sql_type("text", config)


def test_an_enum_renders_by_its_quoted_name_only_where_enums_are_known():
    config = {"text_type": "enum", "enum_id": "e1"}
    with enum_types(ENUMS, "shop"):
        assert sql_type("text", config) == '"shop"."Mood"'
        with pytest.raises(UnsafeSetting):
            sql_type("text", {"text_type": "enum", "enum_id": "e2"})
    with enum_types({"e1": {"name": 'a"; DROP TABLE x; --'}}):
        assert sql_type("text", config) == '"a""; DROP TABLE x; --"'
    with pytest.raises(UnsafeSetting):
        sql_type("text", config)


def clean(**data):
    return clean_field({"name": "X", **data}, enums=ENUMS)


def test_the_form_and_the_api_store_each_exact_type_in_one_form():
    assert clean(data_type="text", text_type="text")["field_config"] == {
        "unique": False,
        "indexed": False,
    }
    assert (
        "text_type"
        not in clean(data_type="text", text_type="varchar", max_length="9")["field_config"]
    )
    named = clean(data_type="text", text_type="named", named_type="public.geometry( Point ,4326)")
    assert named["field_config"]["named_type"] == "public.geometry(point, 4326)"
    stamp = clean(
        data_type="date", date_type="timestamp", time_precision="6", default_value="now()"
    )
    assert (stamp["field_config"]["time_precision"], stamp["default_value"]) == (6, "now()")
    uuid_default = clean(data_type="text", text_type="uuid", default_value="gen_random_uuid()")
    assert uuid_default["default_value"] == "gen_random_uuid()"
    enum = clean(data_type="text", text_type="enum", enum_id="e1", default_value="ok")
    assert enum["field_config"]["enum_id"] == "e1"


def text(**settings):
    return {"data_type": "text", **settings}


def number(**settings):
    return {"data_type": "number", **settings}


def date(**settings):
    return {"data_type": "date", **settings}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (text(text_type="named", named_type="x); DROP TABLE y; --"), "named_type"),
        (text(text_type="named"), "named_type"),
        (text(text_type="enum", enum_id="nope"), "enum_id"),
        (text(text_type="enum", enum_id="e1", default_value="meh"), "default_value"),
        (text(text_type="uuid", default_value="not a uuid"), "default_value"),
        (text(text_type="jsonb", default_value="{oops"), "default_value"),
        (text(text_type="jsonb", pattern="^a"), "pattern"),
        (text(text_type="inet", default_value="300.1.1.1"), "default_value"),
        (text(text_type="bytea", default_value="'); DROP"), "default_value"),
        (number(number_type="smallint", default_value="40000"), "default_value"),
        (number(number_type="real", precision="3"), "precision"),
        (date(date_type="date", time_precision="3"), "time_precision"),
        (date(date_type="time", time_precision="7"), "time_precision"),
        (date(date_type="interval", default_value="1 day'; DROP"), "default_value"),
        (number(array_dimensions="7"), "array_dimensions"),
        (number(array_dimensions="1", min="1"), "min"),
        (number(array_dimensions="1", default_value="1"), "default_value"),
    ],
)
def test_each_wrong_setting_is_named_next_to_its_input(data, key):
    with pytest.raises(ValidationFailed) as refused:
        clean(**data)
    assert key in refused.value.fields


@pytest.mark.parametrize(
    ("before", "after", "in_place"),
    [
        ("varchar(5)", "varchar(9)", True),
        ("varchar(9)", "varchar(5)", False),
        ("varchar(5)", "varchar", True),
        ("varchar", "text", True),
        ("text", "varchar", True),
        ("char(3)", "char(5)", False),
        ("numeric(5,2)", "numeric(7,2)", True),
        ("numeric(5,2)", "numeric", True),
        ("numeric(5,2)", "numeric(7,3)", False),
        ("numeric", "numeric(7,3)", False),
        ("timestamp(3)", "timestamp(6)", True),
        ("timestamp(3)", "timestamp", True),
        ("timestamp", "timestamp(3)", False),
        ("time(3)", "time(6)", True),
        ("cidr", "inet", True),
        ("smallint", "integer", False),
        ("integer[]", "integer[][]", True),
        ("varchar(5)[]", "varchar(9)[]", False),
        ("timestamp", "timestamptz", False),
        ('"s"."mood"', '"s"."mood"', True),
    ],
)
def test_in_place_type_changes_are_the_ones_postgresql_makes_without_a_rewrite(
    before, after, in_place
):
    assert widening(before, after) is in_place


def test_a_text_default_is_kept_exactly_and_the_empty_string_only_when_asked_for():
    assert clean(data_type="text", default_value="  two spaces ")["default_value"] == (
        "  two spaces "
    )
    assert clean(data_type="text", default_value="")["default_value"] is None
    assert clean(data_type="text", default_value="", default_empty="on")["default_value"] == ""
    assert clean(data_type="number", default_value=" 5 ")["default_value"] == "5"


def test_an_sql_file_keeps_empty_string_and_expression_defaults():
    from designer.interchange.import_plan import plan_import  # noqa: PLC0415
    from designer.interchange.import_sql import read_sql  # noqa: PLC0415

    plan = plan_import(
        read_sql(
            "CREATE TABLE area (gid int PRIMARY KEY, comment text NOT NULL DEFAULT '',"
            " code char(2) DEFAULT ' ', token uuid DEFAULT gen_random_uuid(),"
            " at timestamptz(3) DEFAULT now());"
        )
    )
    (table,) = plan.snapshot["tables"].values()
    defaults = {f["field_name"]: f["default_value"] for f in table["fields"].values()}
    assert defaults["comment"] == "" and defaults["code"] == " "
    assert (defaults["token"], defaults["at"]) == ("gen_random_uuid()", "now()")
    assert not [f for f in plan.findings if "default" in f.message]
