"""Adopt drift: take what the target schema holds as the design of its tables.

The last deployed snapshot is patched with each difference the catalogs show that
the design can say: a column's type, nullability, default or comment; a column or a
table added by hand (with its own primary key, or the designer's identity `id` when
that is what it has); a column dropped; a unique
flag, an index, a CHECK or a foreign key gone or, for unique and index, added under
PostgreSQL's default name. What the design cannot say (a CHECK or foreign key written
by hand, a table dropped while in use) is listed as a problem, and the caller adopts
nothing while any remains. Fields keep their ids, so an adopted column stays the
same field; new ones get new ids, and their settings pass the same checks as a form.
"""

import copy
import re
import uuid

from designer.database.repair import Drift
from designer.database.schema_objects import names_of
from designer.design.field_types import TYPE_KEYS
from designer.design.field_types import blank
from designer.design.field_types import clean_field
from designer.design.field_types import other_columns
from designer.design.naming import generated_name
from designer.design.tables import SYSTEM_FIELD
from designer.errors import ValidationFailed
from designer.interchange.import_types import map_type
from designer.interchange.import_types import parse_formatted

# A literal default as pg_get_expr writes it: 'text'::type, a number, true or false.
QUOTED_DEFAULT = re.compile(
    r"'((?:[^']|'')*)'::(?:[a-z ]+|\"[^\"]+\")(?:\(\d+(?:,\d+)?\))?(?:\[\])*"
)
PLAIN_DEFAULT = re.compile(r"-?\d+(?:\.\d+)?|true|false")
SINGLE_UNIQUE = re.compile(r'UNIQUE \("?([^",()]+)"?\)')
SINGLE_INDEX = re.compile(r'CREATE INDEX \S+ ON \S+ USING btree \("?([^",()]+)"?\)')
# Settings that come from how a field was built, not from its column.
STRUCTURAL = ("system", "primary_key", "unique_with")


# A serial's default as pg_get_expr writes it (the schema on the search_path: no qualifier).
SERIAL_DEFAULT = re.compile(r"nextval\('([a-z_][a-z0-9_$]*)'::regclass\)")
IDENTITIES = {"a": "always", "d": "by_default"}


class Unadoptable(Exception):
    pass


def key_columns(definition):
    """The columns of `PRIMARY KEY (a, "B c")` as pg_get_constraintdef writes it."""
    inside = definition[definition.index("(") + 1 : definition.rindex(")")]
    return [
        quoted.replace('""', '"') if quoted else plain
        for quoted, plain in re.findall(r'\s*(?:"((?:[^"]|"")*)"|([^",\s]+))\s*,?', inside)
    ]


def type_input(format_type, enums=None):
    """A field's type settings for a column's type as format_type writes it (an enum of the
    design by its name); Unadoptable when the design cannot hold it exactly."""
    name, modifiers, dimensions = parse_formatted(format_type)
    data_type, settings, problem = map_type(name, modifiers, dimensions, named=name)
    if problem is not None:
        raise Unadoptable(f"type {format_type} is not one the design has ({problem[1]})")
    by_name = {enum["name"]: enum_id for enum_id, enum in (enums or {}).items()}
    if settings.get("text_type") == "named" and name.strip('"') in by_name:
        settings = {"text_type": "enum", "enum_id": by_name[name.strip('"')]}
        if dimensions:
            settings["array_dimensions"] = dimensions
    return {"data_type": data_type, **settings}


def default_input(expression):
    if expression is None:
        return None
    quoted = QUOTED_DEFAULT.fullmatch(expression)
    if quoted:
        return quoted[1].replace("''", "'")
    if PLAIN_DEFAULT.fullmatch(expression):
        return expression
    lowered = expression.lower()
    if lowered in (
        "now()", "current_date", "current_timestamp", "localtimestamp", "gen_random_uuid()",
        "uuidv7()",
    ):  # fmt: skip
        return lowered
    raise Unadoptable(f"default {expression} is not a value the design can hold")


def humanized(identifier):
    return identifier.replace("_", " ").strip().capitalize() or identifier


class Adoption(Drift):
    """`.snapshot`: the deployed snapshot as the target holds it; `.problems`: what it
    cannot say."""

    def __init__(self, deployed, expected, actual):
        super().__init__(expected, actual)
        self.snapshot = copy.deepcopy(deployed)
        self.problems = []
        self.new_tables = set()
        self.tables = {t["table_name"]: t for t in self.snapshot["tables"].values()}
        self.objects = {
            name: (table_id, key)
            for table_id, named in names_of(deployed).by_table.items()
            for key, name in named.items()
        }
        for step in (self.add_tables, self.columns, self.constraints, self.indexes, self.notes):
            step()

    def field(self, table_name, column):
        table = self.tables.get(table_name)
        for field in (table or {}).get("fields", {}).values():
            if field["field_name"] == column:
                return field
        return None

    def add_tables(self):
        for (name,) in [row[:1] for row in self.missing("tables")]:
            self.problems.append(
                f"table {name} is gone from the database: deprecate and delete it in the "
                "design, or put it back"
            )
        for name, comment in self.surplus("tables"):
            table_id = str(uuid.uuid4())
            self.new_tables.add(name)
            fields = {}
            if self.own_key(name) == ["id"] and self.is_designers_id(name):
                system = {**copy.deepcopy(SYSTEM_FIELD), "id": str(uuid.uuid4()),
                          "default_value": None}  # fmt: skip
                fields[system["id"]] = system
            self.tables[name] = self.snapshot["tables"][table_id] = {
                "id": table_id, "name": humanized(name)[:200], "table_name": name,
                "description": comment or "", "status": "active", "fields": fields,
            }  # fmt: skip
            if not fields:
                # The table's own key, as an import keeps it (its columns' ids come with them).
                self.tables[name]["structure"] = {"primary_key": []}

    def own_key(self, table_name):
        """The columns of a table's primary key as the target has it, in key order ([])."""
        for row in self.have["constraints"].values():
            if row[0] == table_name and row[2] == "p":
                return key_columns(row[3])
        return []

    def is_designers_id(self, table_name):
        """Whether a table's id column is the designer's: bigint, an identity by default."""
        identity = self.have["columns"].get((table_name, "id"))
        return bool(identity) and identity[2] == "bigint" and identity[5] == "d"

    def columns(self):
        # Generated columns last: their expressions read the other columns, by field id.
        for row in sorted(self.surplus("columns"), key=lambda row: bool(row[7])):
            table = self.tables.get(row[0])
            if table is None or row[1] == "id" and self.field(row[0], "id"):
                continue
            order = max((f["sort_order"] or 0 for f in table["fields"].values()), default=0)
            field = {"id": str(uuid.uuid4()), "name": humanized(row[1])[:200],
                     "field_name": row[1], "sort_order": order + 1, "field_config": {}}  # fmt: skip
            self.adopt_column(table, field, row)
        for row in self.missing("columns"):
            field = self.field(row[0], row[1])
            if field is not None and row[0] not in [r[0] for r in self.missing("tables")]:
                self.drop_field(self.tables[row[0]], field)
        for _, have in self.changed("columns"):
            self.adopt_column(self.tables[have[0]], self.field(have[0], have[1]), have)

    def adopt_column(self, table, field, row):
        name = f"{row[0]}.{row[1]}"
        if field["field_config"].get("primary_key"):
            self.problems.append(f"column {name} is the designer's identity key: it cannot change")
            return
        config = {k: v for k, v in field["field_config"].items() if k not in STRUCTURAL}
        flat = {**config, "name": field["name"], "field_name": field["field_name"]}
        for key in TYPE_KEYS:
            flat.pop(key, None)
        try:
            flat.update(type_input(row[2], self.snapshot.get("enums")))
            flat.update(self.generated_input(row))
        except Unadoptable as exc:
            self.problems.append(f"column {name}: {exc}")
            return
        flat.update(is_required=bool(row[3]), description=row[6])
        flat["default_empty"] = blank(flat.get("default_value"))
        columns = other_columns(table["fields"].values(), field["id"])
        try:
            values = clean_field(flat, enums=self.snapshot.get("enums"), columns=columns)
        except ValidationFailed as exc:
            self.problems.append(f"column {name}: {'; '.join(exc.fields.values())}")
            return
        structural = {k: v for k, v in field["field_config"].items() if k in STRUCTURAL}
        values["field_config"].update(structural)
        field.update(values, id=field["id"], sort_order=field["sort_order"])
        table["fields"][field["id"]] = field

    def generated_input(self, row):
        """The default, identity, serial or generated expression of a column row as input."""
        if row[7]:
            return {"generated": row[4], "virtual": row[7] == "v", "default_value": None}
        if row[5]:
            return {"identity": IDENTITIES[row[5]], "default_value": None}
        sequence = SERIAL_DEFAULT.fullmatch(row[4] or "")
        if sequence and (sequence[1], row[0]) in self.owned:
            settings = {"serial": True, "default_value": None}
            if sequence[1] != generated_name(row[0], row[1], suffix="seq"):
                settings["sequence_name"] = sequence[1]
            return settings
        return {"default_value": default_input(row[4])}

    @property
    def owned(self):
        """(sequence, table) of each sequence a table of the schema owns."""
        return {(row[0], row[1]) for row in self.have["sequences"].values() if row[1]}

    def drop_field(self, table, field):
        del table["fields"][field["id"]]
        for rel_id, rel in list(self.snapshot["relationships"].items()):
            if field["id"] in (rel.get("source_field_id"), rel.get("target_field_id")):
                del self.snapshot["relationships"][rel_id]

    def constraints(self):
        for row in self.missing("constraints"):
            if (row[0],) in self.have["tables"]:
                self.lost_object(row[1], f"constraint {row[1]} ({row[3]})")
        for row in self.surplus("constraints"):
            if row[0] in self.new_tables and row[2] == "p":
                self.adopt_key(self.tables[row[0]], key_columns(row[3]))
                continue
            unique = SINGLE_UNIQUE.fullmatch(row[3])
            field = self.field(row[0], unique[1]) if unique else None
            if field is None:
                self.problems.append(f"constraint {row[1]} ({row[3]}) is not one the design has")
            else:
                field["field_config"]["unique"] = True
        for want, _ in self.changed("constraints"):
            self.problems.append(f"constraint {want[1]} was changed: {want[3]}")

    def adopt_key(self, table, columns):
        """A new table's primary key: the designer's id (nothing to do), or its own columns."""
        if "structure" not in table:
            return  # PRIMARY KEY (id) of the designer's id
        fields = [self.field(table["table_name"], column) for column in columns]
        if None in fields:
            self.problems.append(f"the primary key of {table['table_name']} is not one it can hold")
            return
        table["structure"]["primary_key"] = [f["id"] for f in fields]

    def lost_object(self, name, described):
        """A generated object the target no longer has: the setting it came from goes."""
        table_id, key = self.objects.get(name, (None, ("?",)))
        table = self.snapshot["tables"].get(table_id)
        kind = key[0]
        if kind == "fkey":
            self.snapshot["relationships"].pop(key[1], None)
            return
        field = None
        if table is not None and kind in ("unique", "unique_together", "check", "index"):
            field = table["fields"].get(key[-1] if kind == "unique_together" else key[1])
            if field is None:
                return  # its column went, and the object with it
        config = field["field_config"] if field else None
        if kind == "unique":
            config["unique"] = False
        elif kind == "unique_together":
            config.pop("unique_with", None)
        elif kind == "check":
            config.pop(key[2], None)
        elif kind == "index":
            config["indexed"] = False
        else:
            self.problems.append(f"{described} is gone: the design cannot do without it")

    def indexes(self):
        constraint_names = {key[1] for key in self.want["constraints"]}
        constraint_names |= {key[1] for key in self.have["constraints"]}
        for row in self.missing("indexes"):
            if row[1] not in constraint_names and (row[0],) in self.have["tables"]:
                self.lost_object(row[1], f"index {row[1]}")
        for row in self.surplus("indexes"):
            if row[1] in constraint_names:
                continue
            single = SINGLE_INDEX.fullmatch(row[2])
            field = self.field(row[0], single[1]) if single else None
            if field is None:
                self.problems.append(f"index {row[1]} ({row[2]}) is not one the design has")
            else:
                field["field_config"]["indexed"] = True
        for want, _ in self.changed("indexes"):
            self.problems.append(f"index {want[1]} was changed: {want[2]}")

    def notes(self):
        for want, have in self.changed("tables"):
            table = self.tables[want[0]]
            text = have[1] or ""
            if table.get("status") == "deprecated":
                text = text.removeprefix("DEPRECATED.").strip()
            table["description"] = text
