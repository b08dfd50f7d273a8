"""An import Source turned into a design: the snapshot the preview shows and the import writes.

Names pass the designer's identifier rules (renamed when they do not, or when
they clash with the project's tables or with each other); every table keeps
its own primary key (composite, not named id, or none: no designer's `id` is
added); each column goes through the same
validation as a typed one (designer.design.field_types.clean_field), a
setting it refuses being dropped and reported; foreign keys become
relationships unless they span several columns, point at something that is
not a key, or would close a cycle. Pure: no database, no Flask.
"""

import decimal
import uuid
from dataclasses import dataclass
from dataclasses import field

from designer.database.ddl_terms import check_expression
from designer.database.ddl_terms import default_sql
from designer.design.expressions import ExpressionProblem
from designer.design.expressions import stored_expression
from designer.design.field_types import TYPE_KEYS
from designer.design.field_types import blank
from designer.design.field_types import clean_field
from designer.design.field_types import python_regex_problem
from designer.design.naming import generated_name
from designer.design.naming import identifier_problem
from designer.design.naming import shorten
from designer.design.naming import suggest_identifier
from designer.design.partitions import PartitionInvalid
from designer.design.partitions import bound_problem
from designer.design.partitions import clean_partition_by
from designer.design.partitions import partition_by
from designer.design.partitions import partition_of
from designer.design.structure import NOUN
from designer.design.structure import ItemInvalid
from designer.design.structure import clean_item
from designer.design.structure import fields_used
from designer.design.structure import structure_problems
from designer.design.structure import with_item
from designer.design.tables import SYSTEM_FIELD
from designer.errors import ValidationFailed
from designer.history.diff import FORMAT
from designer.interchange import import_expressions as expressions
from designer.interchange.import_relationships import RelationshipRules
from designer.interchange.import_source import IMPERFECT
from designer.interchange.import_source import UNREPRESENTABLE
from designer.interchange.import_source import Finding
from designer.interchange.import_source import merged_order

SETTING_OF_PROBLEM = {
    "default_value": "default_value",
    "pattern": "pattern",
    "min": "min",
    "max": "max",
}


@dataclass
class Rename:
    kind: str
    before: str
    after: str
    why: str

    def as_dict(self):
        return {"kind": self.kind, "before": self.before, "after": self.after, "why": self.why}


@dataclass
class ImportPlan:
    """What an import will create, and everything the preview must say about it."""

    snapshot: dict
    findings: list = field(default_factory=list)
    renames: list = field(default_factory=list)
    source_format: str = "sql"
    status_note: str = "as Draft tables"

    def of_kind(self, kind):
        return sorted((f for f in self.findings if f.kind == kind), key=lambda f: f.line or 0)

    def summary(self):
        return {
            "tables": len(self.snapshot["tables"]),
            "fields": sum(len(t["fields"]) for t in self.snapshot["tables"].values()),
            "relationships": len(self.snapshot["relationships"]),
        }

    def as_dict(self):
        return {
            "format": self.source_format,
            "status": self.status_note,
            "creates": self.summary(),
            "tables": sorted(t["table_name"] for t in self.snapshot["tables"].values()),
            "findings": [f.as_dict() for f in self.findings],
            "renames": [r.as_dict() for r in self.renames],
        }


class OrderedIds:
    """New UUIDs in increasing order: a random half, then a counter.

    The DDL generator lists a table's constraints, indexes and foreign keys in
    id order, so ids given in the order a file lists them export in that order.
    """

    def __init__(self):
        self.prefix = uuid.uuid4().int >> 64
        self.count = 0

    def __call__(self):
        self.count += 1
        return str(uuid.UUID(int=(self.prefix << 64) | self.count))


def display_name(identifier):
    words = identifier.replace("_", " ").strip() or identifier
    return words[:1].upper() + words[1:]


class Names:
    """Names taken so far in one namespace, handing out a free variant of a wanted one."""

    def __init__(self, taken=()):
        self.taken = set(taken)

    def free(self, wanted, limit=63):
        name, n = wanted, 1
        while name in self.taken:
            n += 1
            suffix = f"_{n}" if limit else f" {n}"
            name = (shorten(wanted, limit - len(suffix)) if limit else wanted) + suffix
        self.taken.add(name)
        return name


def valid_identifier(original, kind, names, plan, what):
    """A valid, free identifier for `original`, noting any rename in the plan."""
    wanted = (
        original if not identifier_problem(original, kind) else suggest_identifier(original, kind)
    )
    chosen = names.free(wanted)
    if chosen != original:
        why = identifier_problem(original, kind) or "the name is already taken"
        plan.renames.append(Rename(what, original, chosen, why))
    return chosen


class Planner(RelationshipRules):
    def __init__(self, source, taken_tables=(), taken_names=(), taken_relationships=(),
                 regex_problem=python_regex_problem, status="draft"):  # fmt: skip
        self.source = source
        self.plan = ImportPlan({"format": FORMAT, "tables": {}, "relationships": {}})
        self.plan.findings = list(source.findings)
        self.table_names = Names(taken_tables)
        self.display_names = Names(taken_names)
        self.relationship_names = Names(taken_relationships)
        self.regex_problem = regex_problem
        self.status = status
        # original table name -> (table id, {original column: field id}, key field id by column)
        self.placed = {}
        self.edges = {}
        self.new_id = OrderedIds()
        # CHECKs read as rules that the field cannot hold, by their text: kept as table CHECKs.
        self.loose_checks = {}

    def note(self, kind, line, subject, message):
        self.plan.findings.append(Finding(kind, line, subject, message))

    def build(self):
        self.add_enums()
        partitions = []
        for table in self.source.tables.values():
            if table.partition_of is not None:
                partitions.append(table)
            else:
                self.add_table(table)
        # Partitions once every parent is placed (a file may make them in any order).
        for table in partitions:
            self.add_partition(table)
        for reference in self.source.references:
            if self.partition_reference(reference):
                continue
            self.add_relationship(reference)
        self.unused_enums()
        return self.plan

    def unused_enums(self):
        """An enum no column uses stays in the design, but a deploy creates an enum only for
        the columns that use it: said, at the line that creates it."""
        used = {
            f["field_config"].get("enum_id")
            for t in self.plan.snapshot["tables"].values()
            for f in t["fields"].values()
        }
        for name, enum_id in self.enum_ids.items():
            if enum_id not in used:
                words = f"enum {name} is used by no column: kept in the design, not deployed"
                line = self.source.enum_lines.get(name)
                self.note(IMPERFECT, line, name, words + " until one is")

    def partition_reference(self, reference):
        """A foreign key held by or pointing at a partition: a finding (a partition's keys
        are its parent's)."""
        for name in (reference.table, reference.ref_table):
            placed = self.placed.get(name)
            table = self.plan.snapshot["tables"].get(placed[0]) if placed else None
            if table is not None and partition_of(table):
                subject = (
                    f"{reference.table}({', '.join(reference.columns)}) → {reference.ref_table}"
                )
                words = f"a foreign key of partition {name} is not kept: its keys are its parent's"
                self.note(UNREPRESENTABLE, reference.line, subject, words)
                return True
        return False

    def add_partition(self, source_table):
        """A partition: its parent by id and its bound; no fields of its own (its columns are
        its parent's). What the file gives it besides is said, each at its line."""
        parent_name, bound, line = source_table.partition_of
        placed = self.placed.get(parent_name)
        parent = self.plan.snapshot["tables"].get(placed[0]) if placed else None
        method = (partition_by(parent) or {}).get("method") if parent else None
        problem = None
        if method is None:
            problem = f"its parent {parent_name} is not a partitioned table of the design"
        else:
            problem = bound_problem(bound, method)
        if problem:
            self.note(UNREPRESENTABLE, line, source_table.name, f"partition is not kept: {problem}")
            if source_table.columns:
                source_table.partition_of = None
                self.add_table(source_table)
            return
        table_name = valid_identifier(
            source_table.name, "table", self.table_names, self.plan, "table"
        )
        table_id = self.new_id()
        self.plan.snapshot["tables"][table_id] = {
            "id": table_id, "name": self.display_names.free(display_name(table_name), limit=0),
            "table_name": table_name, "description": source_table.description or "",
            "status": self.status, "fields": {},
            "structure": {"partition_of": {"table_id": placed[0], "bound": bound}},
        }  # fmt: skip
        self.placed[source_table.name] = (table_id, {}, [])
        self.partition_columns(source_table, parent)
        if source_table.partition_by is not None:
            words = "PARTITION BY of a partition is not kept: a design has no sub-partitions"
            self.note(UNREPRESENTABLE, source_table.partition_by[2], source_table.name, words)
        subject = source_table.name
        for kind, data, item_line in source_table.structure:
            what = data.get("source_text") or f"{NOUN[kind]} {data.get('name') or ''}".strip()
            words = f"{what} of a partition is not kept: its keys and indexes are its parent's"
            self.note(UNREPRESENTABLE, item_line, subject, words)
        if source_table.primary_key:
            words = "a partition's own primary key is not kept: it has its parent's"
            self.note(UNREPRESENTABLE, source_table.line, subject, words)

    def partition_columns(self, source_table, parent):
        """The columns a pg_dump file writes for a partition are its parent's: each one read
        as a column is (its findings at its own line), and one that differs is said."""
        theirs = {f["field_name"]: f for f in parent["fields"].values()}
        names = Names()
        for position, (name, column) in enumerate(source_table.columns.items(), start=1):
            if column.unique or column.indexed:
                words = "an index of a partition is not kept: its indexes are its parent's"
                self.note(UNREPRESENTABLE, column.line, f"{source_table.name}.{name}", words)
            entry = self.field_entry(source_table, column, names, position)
            parent_field = theirs.get(name)
            same = parent_field is not None and all(
                entry[key] == parent_field[key]
                for key in ("data_type", "is_required", "default_value")
            )
            if not same:
                words = (
                    "a partition has its parent's columns: this one's own definition is not kept"
                )
                self.note(UNREPRESENTABLE, column.line, f"{source_table.name}.{name}", words)

    def add_enums(self):
        """The file's enum types, with new ids; their columns name them by id."""
        self.enum_ids = {}
        enums = {}
        for name, labels in self.source.enums.items():
            enum_id = self.new_id()
            self.enum_ids[name] = enum_id
            enums[enum_id] = {"id": enum_id, "name": name, "labels": list(labels)}
        if enums:
            self.plan.snapshot["enums"] = enums

    def add_table(self, source_table):
        """The table with every column of the file and its own primary key (composite, not
        named id, or none at all: no designer's id is added)."""
        table_name = valid_identifier(
            source_table.name, "table", self.table_names, self.plan, "table"
        )
        table_id = self.new_id()
        name = self.display_names.free(display_name(table_name), limit=0)
        key = self.key_columns(source_table)
        for column_name in key:
            source_table.columns[column_name].is_required = True
        fields, columns = {}, {}
        designers_id = is_designers_id(source_table, key)
        if designers_id:
            # Exactly the designer's own key (what an export of one writes): it is that again.
            system = {**SYSTEM_FIELD, "id": self.new_id(), "default_value": None}
            system["field_config"] = dict(SYSTEM_FIELD["field_config"])
            fields[system["id"]] = system
            columns["id"] = system["id"]
        field_names = Names({"id"} if designers_id else ())
        positions = {name: n for n, name in enumerate(source_table.columns, start=1)}
        entries = {}
        for column_name, column in source_table.columns.items():
            if designers_id and column_name == "id":
                continue
            position = positions[column_name]
            entries[column_name] = self.field_entry(source_table, column, field_names, position)
            if key == [column_name] and entries[column_name]["field_config"].get("unique"):
                # The key is unique by itself: no second constraint says it again.
                del entries[column_name]["field_config"]["unique"]
        for column_name in merged_order(list(entries), source_table.mentions.values()):
            entries[column_name]["id"] = self.new_id()
            fields[entries[column_name]["id"]] = entries[column_name]
            columns[column_name] = entries[column_name]["id"]
        for column_name, entry in entries.items():
            self.generated_column(source_table, source_table.columns[column_name], entry, columns)
        self.plan.snapshot["tables"][table_id] = {
            "id": table_id, "name": name, "table_name": table_name,
            "description": source_table.description or "", "status": self.status, "fields": fields,
        }  # fmt: skip
        if not designers_id:
            self.plan.snapshot["tables"][table_id]["structure"] = {
                "primary_key": [columns[c] for c in key]
            }
        self.placed[source_table.name] = (table_id, columns, key)
        self.add_structure(source_table, self.plan.snapshot["tables"][table_id], columns)
        if source_table.partition_by is not None:
            self.add_partition_key(source_table, self.plan.snapshot["tables"][table_id], columns)

    def add_partition_key(self, source_table, table, columns):
        """PARTITION BY, read as a person's typed key is (column names as the file has them)."""
        method, keys, line = source_table.partition_by
        by_original = {
            fid: {**table["fields"][fid], "field_name": original}
            for original, fid in columns.items()
        }
        reading = {**table, "fields": by_original}
        said = None
        try:
            spec = clean_partition_by(method, ", ".join(keys), reading)
        except PartitionInvalid as exc:
            said = "; ".join(exc.problems.values())
        else:
            kept = {**table, "structure": {**(table.get("structure") or {}), "partition_by": spec}}
            said = next((message for _, _, message in structure_problems(kept)), None)
            if said is None:
                table["structure"] = kept["structure"]
        if said:
            words = f"PARTITION BY {method.upper() if method else ''} is not kept: {said}"
            self.note(UNREPRESENTABLE, line, source_table.name, words)

    def add_structure(self, source_table, table, columns):
        """The table's uniques over several columns, CHECKs and indexes, as the file names
        them; each one the designer cannot hold is a finding with its line."""
        loose, self.loose_checks = self.loose_checks, {}
        entries = list(source_table.structure) + [
            ("checks", {"name": name, "expression": text, "source_text": f"CHECK ({text})"}, line)
            for text, (line, name) in loose.items()
        ]
        if not entries:
            return
        # Column names as the file has them (a column renamed on the way in keeps its id).
        by_original = {
            fid: {**table["fields"][fid], "field_name": original}
            for original, fid in columns.items()
        }
        reading = {**table, "fields": by_original}
        kept_ids = set()  # the items kept so far, each checked once (the fields stay as they are)
        implied = {
            tuple(ref.columns)
            for ref in self.source.references
            if ref.table == source_table.name and len(ref.columns) > 1
        }
        for kind, data, line in entries:
            if kind == "indexes" and foreign_key_index(data) in implied:
                continue  # the index a composite foreign key's columns get with it (DDL)
            comment_key = (None if kind == "indexes" else source_table.name, data.get("name"))
            comment = data.get("comment") or self.source.item_comments.get(comment_key, (None,))[0]
            try:
                item = clean_item(kind, {**data, "comment": comment}, reading)
            except ItemInvalid as exc:
                said = "; ".join(exc.problems.values())
                what = data.get("source_text") or f"{NOUN[kind]} {data.get('name') or ''}".strip()
                self.note(UNREPRESENTABLE, line, source_table.name, f"{what} is not kept: {said}")
                continue
            lost = sorted(
                original
                for original, fid in columns.items()
                if original in source_table.lost_types and fid in fields_used(kind, item)
            )
            if lost:
                what = data.get("source_text") or f"{NOUN[kind]} {data.get('name') or ''}".strip()
                said = f"is not kept: the type of {', '.join(lost)} is not kept"
                self.note(UNREPRESENTABLE, line, source_table.name, f"{what} {said}")
                continue
            item_id = self.new_id()
            kept = with_item(reading, kind, {**item, "id": item_id})
            problems = structure_problems({**table, "structure": kept}, kept_ids)
            if problems:
                what = f"{NOUN[kind]} {data.get('name') or ''}".strip()
                said = problems[0][2]
                self.note(UNREPRESENTABLE, line, source_table.name, f"{what} is not kept: {said}")
                continue
            reading["structure"] = table["structure"] = kept
            kept_ids.add(item_id)

    def generated_column(self, table, column, entry, columns):
        """A generated column's expression, stored with its columns by field id (read by the
        same allowlist as a person's); one the allowlist refuses is a finding."""
        if column.generated is None:
            return
        others = {name: fid for name, fid in columns.items() if fid != entry["id"]}
        try:
            stored = stored_expression(column.generated, others)
        except ExpressionProblem as exc:
            words = f"generated column expression ({column.generated[:80]}) is not kept: {exc}"
            self.note(UNREPRESENTABLE, column.generated_line, f"{table.name}.{column.name}", words)
            return
        entry["field_config"]["generated"] = stored
        if column.virtual:
            entry["field_config"]["virtual"] = True
        entry["default_value"] = None

    def key_columns(self, table):
        """The table's primary key columns in key order, as the file has them ([] for none)."""
        key = table.primary_key
        missing = [name for name in key if name not in table.columns]
        if missing:
            self.note(
                UNREPRESENTABLE,
                table.line,
                table.name,
                f"primary key names a missing column {missing[0]}; the table has no key",
            )
            return []
        if len(set(key)) != len(key):
            self.note(UNREPRESENTABLE, table.line, table.name, "primary key names a column twice")
            return []
        return list(key)

    def field_entry(self, table, column, field_names, position):
        subject = f"{table.name}.{column.name}"
        field_name = valid_identifier(column.name, "field", field_names, self.plan, "column")
        generated = generated_settings(table, column)
        if column.generated_key and not generated:
            self.note(
                IMPERFECT,
                column.line,
                subject,
                "serial or identity: its values are no longer generated",
            )
        data = {
            "name": display_name(field_name), "field_name": field_name,
            "data_type": column.data_type, "is_required": column.is_required,
            "default_value": column.default_value, "unique": column.unique,
            "default_empty": blank(column.default_value),
            "indexed": column.indexed, "description": column.description or None,
            **column.settings, **generated,
        }  # fmt: skip
        if "enum_name" in data:
            data["enum_id"] = self.enum_ids.get(data.pop("enum_name"))
        for rule, value, line, text in column.checks:
            name = column.check_names.get(text)
            self.apply_rule(data, rule, value, (line, subject, text, name, column.name))
        values = self.cleaned(data, column, subject)
        self.cast_findings(values, column, subject)
        return {"id": None, **values, "sort_order": position}

    def cast_findings(self, values, column, subject):
        """A numeric(p,s) or bigint column's default is deployed with a cast, which the catalog
        keeps (4.99 reads back as 4.99::numeric(4,2), 0 as '0'::bigint): the preview says so.
        (Its CHECKs are kept as written, table CHECKs: see apply_rule.)"""
        if not cast_bound(values["field_config"]):
            return
        if values["default_value"] is not None:
            words = f"default {values['default_value']} is deployed as {default_sql(values)}"
            self.note(IMPERFECT, column.line, subject, words)

    def apply_rule(self, data, rule, value, source):
        """`source`: the CHECK's line, subject, text, own name and column as the file has it."""
        line, subject, text, name, column_name = source
        kind = data["data_type"]
        integral = kind == "number" and data.get("number_type") in ("smallint", "integer", "bigint")
        if rule == "not_null":
            data["is_required"] = True
            return
        kept_as_written = not cast_bound(data) or as_deployed(data, rule, value, text, column_name)
        if kind == "number" and rule in ("min", "max") and kept_as_written:
            data[rule] = value
            return
        if integral and rule in ("min_exclusive", "max_exclusive") and is_integer(value):
            step = 1 if rule == "min_exclusive" else -1
            data[rule.removesuffix("_exclusive")] = str(int(value) + step)
            self.note(IMPERFECT, line, subject, f"CHECK ({text}) becomes an inclusive bound")
            return
        if kind == "text" and rule == "pattern":
            data["pattern"] = value
            return
        if kind == "text" and rule == "length_min" and is_integer(value):
            data["min_length"] = value
            return
        if kind == "text" and rule == "length_max" and is_integer(value):
            if not data.get("max_length") or int(data["max_length"]) > int(value):
                data["max_length"] = int(value)
                self.note(IMPERFECT, line, subject, f"CHECK ({text}) becomes varchar({value})")
            return
        # Not a rule of this field: the CHECK is kept as it is written, a table CHECK.
        self.loose_checks.setdefault(text, (line, name))

    def cleaned(self, data, column, subject):
        """clean_field's values; each setting it refuses is dropped and reported."""
        for _ in range(len(data)):
            try:
                return clean_field(data, regex_problem=self.regex_problem, enums=self.enums())
            except ValidationFailed as exc:
                for key, message in exc.fields.items():
                    if key not in data or key in ("name", "field_name", "data_type"):
                        raise
                    self.note(
                        UNREPRESENTABLE,
                        column.line,
                        subject,
                        f"{key} {data[key]!r} dropped: {message}",
                    )
                    data.pop(key)
        return clean_field(data, regex_problem=self.regex_problem, enums=self.enums())

    def enums(self):
        return self.plan.snapshot.get("enums", {})


def is_designers_id(table, key):
    """Whether the table's key is the designer's `id` exactly: one bigint identity column
    named id, generated by default (a file's bigserial or ALWAYS identity stays its own)."""
    column = table.columns.get("id") if key == ["id"] else None
    return (
        column is not None
        and column.data_type == "number"
        and column.settings.get("number_type") == "bigint"
        and column.generated_key
        and not column.serial
        and column.identity in (None, "by_default")
        and column.sequence_name in (None, generated_name(table.name, "id", suffix="seq"))
    )


def generated_settings(table, column):
    """The field settings of an identity or serial column ({} for none): its kind, and its
    sequence's name when the file gives it one other than the designer's table_column_seq."""
    if column.identity is not None:
        settings = {"identity": column.identity}
    elif column.serial:
        settings = {"serial": True}
    else:
        return {}
    if column.sequence_name not in (None, generated_name(table.name, column.name, suffix="seq")):
        settings["sequence_name"] = column.sequence_name
    return {**settings, **column.sequence_settings}


def is_integer(value):
    try:
        return decimal.Decimal(value) == int(decimal.Decimal(value))
    except (decimal.InvalidOperation, ValueError):
        return False


def plan_import(source, **options):
    """The ImportPlan of a Source (see Planner for the options: names already taken...)."""
    return Planner(source, **options).build()


def cast_bound(config):
    """Whether a number column's bounds as rules would be deployed with a cast the catalog
    keeps (total >= '0'::numeric(10,2) for total >= 0): such a CHECK is kept as it is
    written, a table CHECK, so it comes back as the file has it; unless it is written as
    a rule is deployed (as_deployed: an export of the designer's own)."""
    decimal = config.get("number_type") == "decimal" and config.get("precision") is not None
    return decimal or config.get("number_type") == "bigint"


def as_deployed(data, rule, value, text, column_name):
    """Whether the CHECK's text is the one the rule is deployed as (the same parse tree)."""
    config = {k: data[k] for k in TYPE_KEYS if data.get(k) is not None}
    field = {"field_name": column_name, "data_type": data["data_type"], "field_config": config}
    try:
        written = check_expression(field, rule, value)
    except ValidationFailed:
        return False
    return without_locations(expressions.expression(text)) == without_locations(
        expressions.expression(written)
    )


def without_locations(node):
    if isinstance(node, dict):
        return {k: without_locations(v) for k, v in node.items() if k != "location"}
    if isinstance(node, list):
        return [without_locations(v) for v in node]
    return node


def foreign_key_index(data):
    """The columns of a plain index over columns only (btree, ascending, no WHERE, INCLUDE,
    collation or operator class, not unique), as the deploy makes for a composite foreign
    key's columns; None for any other."""
    keys = data.get("keys") or []
    plain = all(
        k.get("column") and not k.get("expression") and not k.get("collation")
        and not k.get("opclass") and not k.get("descending") and not k.get("nulls")
        for k in keys
    )  # fmt: skip
    if not keys or not plain or data.get("unique") or data.get("where") or data.get("include"):
        return None
    if (data.get("method") or "btree") != "btree" or data.get("comment"):
        return None
    return tuple(k["column"] for k in keys)
