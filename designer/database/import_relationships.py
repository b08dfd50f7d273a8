"""Foreign keys of an import Source planned as relationships.

A foreign key becomes a one-to-many relationship when it is on one column, points at
the other table's id or a unique column, has a type its key can match (widened when
the key's type is wider) and closes no cycle through two or more tables; a cascade
rule the column cannot honour (set null on a required column) becomes no action.
Everything else is a finding. Pure: no database, no Flask.
"""

from designer.database.import_source import IMPERFECT
from designer.database.import_source import UNREPRESENTABLE
from designer.design.field_types import pg_type
from designer.design.field_types import type_settings
from designer.design.naming import generated_name
from designer.design.naming import identifier_problem


class RelationshipRules:
    """The relationship half of import_plan.Planner (which holds the tables placed)."""

    def add_relationship(self, ref):
        subject = f"{ref.table}({', '.join(ref.columns)}) → {ref.ref_table}"
        if len(ref.columns) != 1 or (ref.ref_columns and len(ref.ref_columns) != 1):
            self.note(
                UNREPRESENTABLE,
                ref.line,
                subject,
                "a foreign key over several columns cannot be represented",
            )
            return
        if ref.table not in self.placed or ref.ref_table not in self.placed:
            self.note(
                UNREPRESENTABLE, ref.line, subject, "refers to a table the file does not create"
            )
            return
        target_id, target_columns, _ = self.placed[ref.table]
        source_id, source_columns, id_column = self.placed[ref.ref_table]
        target = self.plan.snapshot["tables"][target_id]
        source = self.plan.snapshot["tables"][source_id]
        key_column = (
            ref.ref_columns[0] if ref.ref_columns else (id_column or self.only_key(ref.ref_table))
        )
        key_id = source_columns.get(key_column)
        foreign_id = target_columns.get(ref.columns[0])
        if key_id is None or foreign_id is None:
            self.note(UNREPRESENTABLE, ref.line, subject, "names a column the table does not have")
            return
        key, foreign = source["fields"][key_id], target["fields"][foreign_id]
        if not (key["field_config"].get("primary_key") or key["field_config"].get("unique")):
            self.note(
                UNREPRESENTABLE, ref.line, subject, f"{key_column} is neither the key nor unique"
            )
            return
        if foreign["field_config"].get("system"):
            self.note(
                UNREPRESENTABLE, ref.line, subject, "the id column cannot also be a foreign key"
            )
            return
        if not self.matched_types(key, foreign, ref, subject):
            return
        if self.closes_cycle(source_id, target_id):
            self.note(
                UNREPRESENTABLE,
                ref.line,
                subject,
                "would close a cycle of relationships; the column is kept",
            )
            return
        self.edges.setdefault(source_id, set()).add(target_id)
        rel_id = self.new_id()
        self.referenced_by[rel_id] = (ref.line, subject)
        wanted = (
            ref.name
            if ref.name and not identifier_problem(ref.name, "table")
            else generated_name(target["table_name"], foreign["field_name"], suffix="fkey")
        )
        self.plan.snapshot["relationships"][rel_id] = {
            "id": rel_id, "relationship_name": self.relationship_names.free(wanted),
            "relationship_type": "one_to_many", "source_table_id": source_id,
            "source_field_id": key_id, "target_table_id": target_id,
            "target_field_id": foreign_id, "status": "draft",
            "cascade_config": self.cascade(ref, foreign, subject),
        }  # fmt: skip
        if not foreign["field_config"].get("indexed"):
            words = f"{foreign['field_name']} gets an index: the designer indexes every foreign key"
            self.note(IMPERFECT, ref.line, subject, words)

    def only_key(self, table_name):
        table = self.source.tables[table_name]
        return table.primary_key[0] if len(table.primary_key) == 1 else None

    def matched_types(self, key, foreign, ref, subject):
        key_type = pg_type(key["data_type"], key["field_config"])
        foreign_type = pg_type(foreign["data_type"], foreign["field_config"])
        if key_type == foreign_type:
            return True
        if key["data_type"] != foreign["data_type"]:
            self.note(
                UNREPRESENTABLE, ref.line, subject, f"{foreign_type} cannot refer to {key_type}"
            )
            return False
        # Said on the column's own line, where its type was written.
        table = self.source.tables.get(ref.table)
        column = table.columns.get(ref.columns[0]) if table and ref.columns else None
        line = column.line if column is not None and column.line else ref.line
        self.widen(key, foreign, line, subject)
        return True

    def widen(self, key, foreign, line, subject):
        """The foreign key takes its key's type (and says so)."""
        kept = {
            k: v
            for k, v in foreign["field_config"].items()
            if k in ("unique", "indexed", "description")
        }
        foreign["field_config"] = {**kept, **type_settings(key["field_config"])}
        key_type = pg_type(key["data_type"], key["field_config"])
        self.note(
            IMPERFECT, line, subject, f"{foreign['field_name']} becomes {key_type} to match its key"
        )

    def settle_key_types(self):
        """Every foreign key with its key's type, whatever the order of the file.

        A key can itself be a foreign key, widened after a relationship to it was matched
        (c.b_id → b.a_id read before b.a_id → a.id made b.a_id bigint): such foreign keys
        are widened again until none differs. Widening copies a type down a chain, and
        chains end (no cycle through two or more tables), so this ends."""
        tables = self.plan.snapshot["tables"]
        relationships = self.plan.snapshot["relationships"]
        for _ in range(len(relationships) + 1):
            changed = False
            for rel_id, rel in relationships.items():
                key = tables[rel["source_table_id"]]["fields"][rel["source_field_id"]]
                foreign = tables[rel["target_table_id"]]["fields"][rel["target_field_id"]]
                if pg_type(key["data_type"], key["field_config"]) != pg_type(
                    foreign["data_type"], foreign["field_config"]
                ):
                    self.widen(key, foreign, *self.referenced_by[rel_id])
                    changed = True
            if not changed:
                return

    def closes_cycle(self, source_id, target_id):
        """Whether source → target closes a cycle through two or more tables."""
        if source_id == target_id:
            return False
        seen, stack = set(), [target_id]
        while stack:
            node = stack.pop()
            if node == source_id:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(self.edges.get(node, ()))
        return False

    def cascade(self, ref, foreign, subject):
        config = {"on_delete": ref.on_delete, "on_update": ref.on_update}
        for event, action in config.items():
            if (action == "set_null" and foreign["is_required"]) or (
                action == "set_default" and foreign["default_value"] is None
            ):
                config[event] = "no_action"
                self.note(
                    IMPERFECT,
                    ref.line,
                    subject,
                    f"{event.replace('_', ' ')} {action} becomes no action",
                )
        return config
