"""Foreign keys of an import Source planned as relationships.

A foreign key becomes a one-to-many relationship (over one column or several, in order)
when it points at the other table's primary key or one of its unique keys, each column of
a type PostgreSQL compares with its key's (kept as it is: never widened), and closes no
cycle through two or more tables; a cascade rule the columns cannot honour (set null on a
required column) becomes no action.
Everything else is a finding. Pure: no database, no Flask.
"""

from designer.design.field_types import pg_type
from designer.design.keys import comparable_types
from designer.design.keys import primary_key_fields
from designer.design.keys import referenced_key
from designer.design.naming import generated_name
from designer.design.naming import identifier_problem
from designer.design.structure import led_by_index
from designer.interchange.import_source import IMPERFECT
from designer.interchange.import_source import UNREPRESENTABLE


class RelationshipRules:
    """The relationship half of import_plan.Planner (which holds the tables placed)."""

    def add_relationship(self, ref):
        subject = f"{ref.table}({', '.join(ref.columns)}) → {ref.ref_table}"
        if ref.table not in self.placed or ref.ref_table not in self.placed:
            self.note(
                UNREPRESENTABLE, ref.line, subject, "refers to a table the file does not create"
            )
            return
        target_id, target_columns, _ = self.placed[ref.table]
        source_id, source_columns, key = self.placed[ref.ref_table]
        target = self.plan.snapshot["tables"][target_id]
        source = self.plan.snapshot["tables"][source_id]
        key_columns = list(ref.ref_columns or key)
        if len(key_columns) != len(ref.columns) or not key_columns:
            self.note(
                UNREPRESENTABLE,
                ref.line,
                subject,
                f"names {len(ref.columns)} columns for a key of {len(key_columns)}",
            )
            return
        key_ids = [source_columns.get(c) for c in key_columns]
        foreign_ids = [target_columns.get(c) for c in ref.columns]
        if None in key_ids or None in foreign_ids:
            self.note(UNREPRESENTABLE, ref.line, subject, "names a column the table does not have")
            return
        if referenced_key(source, key_ids) is None:
            self.note(
                UNREPRESENTABLE,
                ref.line,
                subject,
                f"({', '.join(key_columns)}) is neither the key nor unique",
            )
            return
        if len(set(foreign_ids)) != len(foreign_ids):
            self.note(UNREPRESENTABLE, ref.line, subject, "names a column twice")
            return
        foreigns = [target["fields"][f] for f in foreign_ids]
        for key_id, foreign in zip(key_ids, foreigns, strict=True):
            if not self.matched_types(source["fields"][key_id], foreign, ref, subject):
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
        wanted = (
            ref.name
            if ref.name and not identifier_problem(ref.name, "table")
            else generated_name(target["table_name"], foreigns[0]["field_name"], suffix="fkey")
        )
        entry = {
            "id": rel_id, "relationship_name": self.relationship_names.free(wanted),
            "relationship_type": "one_to_many", "source_table_id": source_id,
            "source_field_id": key_ids[0], "target_table_id": target_id,
            "target_field_id": foreign_ids[0], "status": "draft",
            "cascade_config": self.cascade(ref, foreigns, subject),
        }  # fmt: skip
        if len(key_ids) > 1:
            entry["pairs"] = [[k, f] for k, f in zip(key_ids, foreign_ids, strict=True)]
        self.plan.snapshot["relationships"][rel_id] = entry
        # The designer indexes every foreign key's columns, unless they lead the table's key
        # or an index of its own (designer.database.schema_objects).
        leading = led_by_index(target, foreign_ids, primary_key_fields(target))
        indexed = len(foreigns) == 1 and foreigns[0]["field_config"].get("indexed")
        if not leading and not indexed:
            names = ", ".join(f["field_name"] for f in foreigns)
            words = f"{names} gets an index: the designer indexes every foreign key"
            self.note(IMPERFECT, ref.line, subject, words)

    def matched_types(self, key, foreign, ref, subject):
        """A foreign key keeps its own type, exactly as the file has it: one PostgreSQL can
        compare with its key's, or the reference is a finding."""
        key_type = pg_type(key["data_type"], key["field_config"])
        foreign_type = pg_type(foreign["data_type"], foreign["field_config"])
        if comparable_types(key_type, foreign_type):
            return True
        self.note(UNREPRESENTABLE, ref.line, subject, f"{foreign_type} cannot refer to {key_type}")
        return False

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

    def cascade(self, ref, foreigns, subject):
        config = {"on_delete": ref.on_delete, "on_update": ref.on_update}
        for event, action in config.items():
            if (action == "set_null" and any(f["is_required"] for f in foreigns)) or (
                action == "set_default" and any(f["default_value"] is None for f in foreigns)
            ):
                config[event] = "no_action"
                self.note(
                    IMPERFECT,
                    ref.line,
                    subject,
                    f"{event.replace('_', ' ')} {action} becomes no action",
                )
        return config
