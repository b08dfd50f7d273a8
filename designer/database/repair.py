"""Undo drift: the steps that bring a target schema back to what was last deployed.

Drift compares two catalogs read the same way (designer.database.catalog): the one
the last deployed snapshot makes, built in a scratch schema, and the real one. Each
difference names a table, column, constraint, index or sequence, so each has one
statement that puts it back: PostgreSQL's own definitions of the expected objects
(pg_get_constraintdef, pg_get_indexdef) are replayed, and what the design does not
have is dropped. The steps run with the target schema first on the search_path, as
those definitions were read. A table that is missing altogether is created as a deploy
creates it. Each step names the design's table it touches, so a destructive one asks
for that table's critical lock like any deploy.
"""

import json
import re
from dataclasses import dataclass
from dataclasses import field

from designer.database import ddl
from designer.database.ddl_terms import BLOCKING
from designer.database.ddl_terms import DATA_DEPENDENT
from designer.database.ddl_terms import DESTRUCTIVE
from designer.database.ddl_terms import SAFE
from designer.database.ddl_terms import Context
from designer.database.ddl_terms import Step
from designer.database.ddl_terms import literal
from designer.design.naming import quote_identifier as ident
from designer.history.diff import empty_snapshot

# How many leading columns of a catalog row name the object it describes.
KEY_WIDTH = {"tables": 1, "columns": 2, "constraints": 2, "sequences": 1, "indexes": 2}
# What one row of each part is called in a line ("indexes"[:-1] read "indexe").
THING = {"tables": "table", "columns": "column", "constraints": "constraint",
         "sequences": "sequence", "indexes": "index"}  # fmt: skip


@dataclass(frozen=True)
class Difference:
    """One line of a drift report, resolvable on its own: `key` names it across checks, `rows`
    are the (part, key) of the catalog rows it covers (a table only one side has covers its
    columns, constraints, indexes and sequences; a column, the constraints and indexes on it)."""

    key: str
    line: str
    rows: frozenset = field(default_factory=frozenset)
    # Putting it back drops what holds data (a table or column only the database has).
    destructive: bool = False

    @property
    def folded(self):
        return len(self.rows) - 1


def mentions(definition, name):
    """Whether a constraint's or an index's definition names the identifier `name`."""
    quoted = '"' + name.replace('"', '""') + '"'
    plain = re.escape(name) if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else None
    pattern = re.escape(quoted) + (rf"|(?<![\w$\"]){plain}(?![\w$\"])" if plain else "")
    return re.search(pattern, definition or "") is not None


def difference_key(part, key):
    return json.dumps([part, *key], separators=(",", ":"))


def by_table(part, rows, side):
    """{table name: rows of `part`} (changed rows as their expected row)."""
    grouped = {}
    for row in rows:
        row = row[0] if side == "changed" else row
        grouped.setdefault(row[1] if part == "sequences" else row[0], []).append(row)
    return grouped


def taken_along(part, row, owned):
    """(part, key) of the rows in `owned` (one side's rows by table) that go with a table's
    row (all of that table's) or a column's (the constraints and indexes naming it)."""
    if part not in ("tables", "columns"):
        return set()
    along = set()
    table = row[0]
    for other in ("columns", "constraints", "indexes", "sequences"):
        for candidate in owned[other].get(table, ()):
            if part == "tables":
                hit = True
            elif other in ("columns", "sequences"):
                hit = False
            else:
                hit = mentions(candidate[3 if other == "constraints" else 2], row[1])
            if hit:
                along.add((other, candidate[: KEY_WIDTH[other]]))
    return along


def keyed(catalog, part):
    return {row[: KEY_WIDTH[part]]: row for row in catalog.get(part, [])}


class Drift:
    """The expected and actual catalogs of one schema, object by object."""

    def __init__(self, expected, actual):
        self.want = {part: keyed(expected, part) for part in KEY_WIDTH}
        self.have = {part: keyed(actual, part) for part in KEY_WIDTH}

    def missing(self, part):
        return [row for key, row in sorted(self.want[part].items()) if key not in self.have[part]]

    def surplus(self, part):
        return [row for key, row in sorted(self.have[part].items()) if key not in self.want[part]]

    def changed(self, part):
        """(expected row, actual row) of objects both have, but not alike."""
        return [
            (row, self.have[part][key])
            for key, row in sorted(self.want[part].items())
            if key in self.have[part] and self.have[part][key] != row
        ]

    def in_sync(self):
        return not any(self.missing(p) or self.surplus(p) or self.changed(p) for p in KEY_WIDTH)

    def lines(self):
        """Each difference as a sentence: what is missing, what is extra, what differs how."""
        found = []
        for part in KEY_WIDTH:
            thing = THING[part]
            found += [
                f"{thing} missing in the database: {described(r)}" for r in self.missing(part)
            ]
            found += [f"{thing} not in the design: {described(r)}" for r in self.surplus(part)]
            found += [changed_line(thing, want, have) for want, have in self.changed(part)]
        return found

    def differences(self):
        """The lines of `lines()`, each a Difference, the rows a table's or a column's
        absence or surplus takes with it folded into its line."""
        sides = {
            "missing": {part: self.missing(part) for part in KEY_WIDTH},
            "surplus": {part: self.surplus(part) for part in KEY_WIDTH},
            "changed": {part: self.changed(part) for part in KEY_WIDTH},
        }
        # Each side's rows by the table they belong to (a sequence: the table owning it), so
        # what goes with a table or column is found among its own table's rows only.
        owned = {
            side: {part: by_table(part, rows, side) for part, rows in found.items()}
            for side, found in sides.items()
        }
        taken = set()
        found = []
        for part in KEY_WIDTH:
            for side in ("missing", "surplus"):
                for row in sides[side][part]:
                    key = row[: KEY_WIDTH[part]]
                    if (part, key) in taken:
                        continue
                    covered = {(part, key)} | taken_along(part, row, owned[side])
                    taken |= covered
                    where = "missing in the database" if side == "missing" else "not in the design"
                    found.append(
                        Difference(
                            difference_key(part, key),
                            f"{THING[part]} {where}: {described(row)}",
                            frozenset(covered),
                            side == "surplus" and part in ("tables", "columns"),
                        )
                    )
            for want, have in sides["changed"][part]:
                key = want[: KEY_WIDTH[part]]
                if (part, key) not in taken:
                    # A retyped column's constraints and indexes read differently too.
                    along = taken_along(part, want, owned["changed"])
                    covered = {(part, key)} | (along if part == "columns" else set())
                    taken |= covered
                    line = changed_line(THING[part], want, have)
                    found.append(Difference(difference_key(part, key), line, frozenset(covered)))
        return found

    def narrowed(self, difference):
        """The actual catalog as it would read if `difference` were the only drift."""
        chosen = {}
        for part, key in difference.rows:
            chosen.setdefault(part, set()).add(key)
        catalog = {}
        for part in KEY_WIDTH:
            rows = dict(self.want[part])
            for key in chosen.get(part, ()):
                rows.pop(key, None)
                if key in self.have[part]:
                    rows[key] = self.have[part][key]
            catalog[part] = sorted(rows.values(), key=repr)
        return catalog


class Repair(Drift):
    """The steps from the actual catalog back to the expected one."""

    def __init__(self, schema, deployed, expected, actual):
        super().__init__(expected, actual)
        self.schema = schema
        self.deployed = deployed
        self.table_ids = {t["table_name"]: tid for tid, t in deployed["tables"].items()}
        self.gone = {row[0] for row in self.missing("tables")}

    def step(self, table, sql, kind, reason, measure=None):
        return Step(sql, kind, reason, self.table_ids.get(table), measure)

    def steps(self):
        if self.in_sync():
            return []
        path = f"SET LOCAL search_path TO {ident(self.schema)}"
        reason = "works inside the target schema, as the expected definitions were read"
        steps = [Step(path, SAFE, reason)]
        steps += self.drop_extras()
        steps += self.create_missing_tables()
        steps += self.columns_back()
        constraints = self.missing("constraints") + [w for w, _ in self.changed("constraints")]
        steps += [
            self.add_constraint(r) for r in constraints if r[0] not in self.gone and r[2] != "f"
        ]
        steps += self.indexes_back()
        # Foreign keys last: the keys they point at are back by now.
        steps += [self.add_constraint(r) for r in constraints if r[2] == "f"]
        return steps + self.comments_back()

    def drop_extras(self):
        """What the target has and the design does not, or has otherwise: foreign keys first."""
        constraints = self.surplus("constraints") + [h for _, h in self.changed("constraints")]
        constraints.sort(key=lambda row: row[2] != "f")
        steps = [
            self.step(
                row[0],
                f"ALTER TABLE {ident(row[0])} DROP CONSTRAINT IF EXISTS {ident(row[1])}",
                SAFE,
                f"drops {row[1]}, which the design does not have",
            )
            for row in constraints
        ]
        dropped = {row[1] for row in constraints}
        indexes = self.surplus("indexes") + [h for _, h in self.changed("indexes")]
        steps += [
            self.step(row[0], f"DROP INDEX IF EXISTS {ident(row[1])}", SAFE, f"drops {row[1]}")
            for row in indexes
            if row[1] not in dropped
        ]
        steps += [self.drop_column(row) for row in self.surplus("columns") if self.designed(row)]
        steps += [
            self.step(
                row[0],
                f"DROP TABLE {ident(row[0])}",
                DESTRUCTIVE,
                f"drops table {row[0]}, which the design does not have: its rows are lost",
                f"SELECT count(*) FROM {ident(row[0])}",
            )
            for row in self.surplus("tables")
        ]
        owned = {row[0] for row in self.have["sequences"].values() if row[1]}
        steps += [
            Step(f"DROP SEQUENCE IF EXISTS {ident(row[0])}", SAFE, f"drops sequence {row[0]}")
            for row in self.surplus("sequences")
            if row[0] not in owned
        ]
        return steps

    def designed(self, row):
        return (row[0],) in self.want["tables"]

    def drop_column(self, row):
        table, column = ident(row[0]), ident(row[1])
        return self.step(
            row[0],
            f"ALTER TABLE {table} DROP COLUMN {column}",
            DESTRUCTIVE,
            f"drops column {row[0]}.{row[1]}, which the design does not have: its values are lost",
            f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL",
        )

    def create_missing_tables(self):
        """Tables dropped from the target, created as a deploy creates them (keys inline)."""
        if not self.gone:
            return []
        ctx = Context(self.schema, empty_snapshot(), self.deployed)
        steps = []
        for name in sorted(self.gone):
            steps += ddl.create_table(ctx, self.table_ids[name])
        return steps

    def columns_back(self):
        steps = []
        for row in self.missing("columns"):
            if row[0] in self.gone:
                continue
            required = row[3] and row[4] is None and not row[5]
            steps.append(
                self.step(
                    row[0],
                    f"ALTER TABLE {ident(row[0])} ADD COLUMN {column_declaration(row)}",
                    DATA_DEPENDENT if required else SAFE,
                    f"adds back column {row[0]}.{row[1]}"
                    + (": fails if the table has rows" if required else ""),
                    f"SELECT count(*) FROM {ident(row[0])}" if required else None,
                )
            )
        for want, have in self.changed("columns"):
            steps += self.column_back(want, have)
        return steps

    def column_back(self, want, have):
        """A column both sides have, put back to its designed type, nullability, default."""
        table, column = ident(want[0]), ident(want[1])
        where = f"ALTER TABLE {table} ALTER COLUMN {column}"
        named = f"{want[0]}.{want[1]}"
        steps = []
        if want[2] != have[2]:
            sql = f"{where} TYPE {want[2]} USING {column}::{want[2]}"
            reason = f"turns {named} back into {want[2]}: fails on values that do not fit"
            steps.append(self.step(want[0], sql, DATA_DEPENDENT, reason))
        if want[7] and (want[7], want[4]) != (have[7], have[4]):
            # A generated column's expression is put back by making the column again.
            drop = f"ALTER TABLE {table} DROP COLUMN {column}"
            add = f"ALTER TABLE {table} ADD COLUMN {column_declaration(want)}"
            reason = f"makes generated column {named} again with its designed expression"
            steps += [self.step(want[0], sql, BLOCKING, reason) for sql in (drop, add)]
            return steps
        if have[7]:
            reason = f"{named} keeps its values and is no longer computed"
            steps.append(self.step(want[0], f"{where} DROP EXPRESSION", SAFE, reason))
        if want[4] != have[4] and not (have[7] and want[4] is None):
            sql = (
                f"{where} SET DEFAULT {want[4]}" if want[4] is not None else f"{where} DROP DEFAULT"
            )
            steps.append(self.step(want[0], sql, SAFE, f"puts back the default of {named}"))
        if want[3] and not have[3]:
            steps.append(
                self.step(
                    want[0],
                    f"{where} SET NOT NULL",
                    DATA_DEPENDENT,
                    f"makes {named} required again: fails on NULLs",
                    f"SELECT count(*) FROM {table} WHERE {column} IS NULL",
                )
            )
        elif have[3] and not want[3]:
            steps.append(self.step(want[0], f"{where} DROP NOT NULL", SAFE, f"{named} optional"))
        if want[6] != have[6]:
            value = literal(want[6]) if want[6] is not None else "NULL"
            sql = f"COMMENT ON COLUMN {table}.{column} IS {value}"
            steps.append(self.step(want[0], sql, SAFE, "comment"))
        return steps

    def add_constraint(self, row):
        table, name, contype, definition = row[:4]
        return self.step(
            table,
            f"ALTER TABLE {ident(table)} ADD CONSTRAINT {ident(name)} {definition}",
            SAFE if contype == "p" else DATA_DEPENDENT,
            f"adds back {name}: fails on rows that break it",
        )

    def indexes_back(self):
        """Indexes the target lost or changed; those of constraints come back with them."""
        rows = self.missing("indexes") + [w for w, _ in self.changed("indexes")]
        backed = {key[1] for key in self.want["constraints"]}
        return [
            self.step(row[0], row[2], BLOCKING, f"rebuilds index {row[1]}")
            for row in rows
            if row[0] not in self.gone and row[1] not in backed
        ]

    def comments_back(self):
        steps = []
        for want, _ in self.changed("tables"):
            if want[0] not in self.gone:
                value = literal(want[1]) if want[1] is not None else "NULL"
                sql = f"COMMENT ON TABLE {ident(want[0])} IS {value}"
                steps.append(self.step(want[0], sql, SAFE, "comment"))
        # A constraint or index put back (or changed) gets its comment back too.
        for part in ("constraints", "indexes"):
            for want in self.missing(part) + [w for w, _ in self.changed(part)]:
                if want[0] in self.gone or not want[-1]:
                    continue
                if part == "constraints":
                    target = f"CONSTRAINT {ident(want[1])} ON {ident(want[0])}"
                else:
                    target = f"INDEX {ident(want[1])}"
                sql = f"COMMENT ON {target} IS {literal(want[-1])}"
                steps.append(self.step(want[0], sql, SAFE, "comment"))
        return steps


def column_declaration(row):
    _, column, column_type, not_null, default, identity, _, generated = row
    parts = [ident(column), column_type]
    if identity:
        parts.append(f"GENERATED {'ALWAYS' if identity == 'a' else 'BY DEFAULT'} AS IDENTITY")
    if generated:
        kind = "VIRTUAL" if generated == "v" else "STORED"
        parts.append(f"GENERATED ALWAYS AS ({default}) {kind}")
    elif default is not None:
        parts.append(f"DEFAULT {default}")
    if not_null and not identity:
        parts.append("NOT NULL")
    return " ".join(parts)


def described(row):
    return " ".join(str(value) for value in row if value not in (None, "", False, True))


# What each position of a changed row says, by catalog part (after its key).
ASPECTS = {
    "table": ("comment",),
    "column": ("type", "required", "default", "identity", "comment", "generated"),
    "constraint": ("kind", "definition", "validated", "comment"),
    "sequence": ("owner",),
    "index": ("definition", "comment"),
}


def changed_line(thing, want, have):
    """ "column books.title: required yes in the design, no in the database" """
    width = len(want) - len(ASPECTS[thing])
    name = ".".join(str(part) for part in want[:width])
    parts = [
        f"{aspect} {shown(w)} in the design, {shown(h)} in the database"
        for aspect, w, h in zip(ASPECTS[thing], want[width:], have[width:], strict=True)
        if w != h
    ]
    return f"{thing} {name}: {'; '.join(parts)}"


def shown(value):
    if value is True:
        return "yes"
    if value in (False, None, ""):
        return "no" if value is False else "none"
    return str(value)
