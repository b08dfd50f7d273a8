"""The tables the rules accepted, kept in PostgreSQL by hash (designer/interchange/
sound_parts.py, migration 0050): an export checks a table the rules accepted before only
once, whichever process writes it, never keeps a table they refuse, and never trusts what
other rules accepted."""

import pytest

from designer.db import database
from designer.design import fields
from designer.design import tables
from designer.interchange import export_repair
from designer.interchange import exports
from designer.interchange import sound_parts


@pytest.fixture
def checked(monkeypatch):
    """The tables the rules check, by name, as export_repair asks them."""
    seen = []
    real = export_repair.accepted

    def counting(table, enums=None):
        seen.append(table.get("table_name"))
        return real(table, enums)

    monkeypatch.setattr(export_repair, "accepted", counting)
    return seen


def exported(user, project, fmt="sql"):
    # Nothing kept in this process: what a child process (export_apart) starts with.
    export_repair.sound_tables.clear()
    return "".join(exports.Source(user, project.id, fmt).text_parts())


def kept_hashes(project):
    return {
        h
        for (h,) in database.execute_sql(
            "SELECT hash FROM sound_part WHERE project_id = %s", (str(project.id),)
        )
    }


def test_a_table_accepted_once_is_not_checked_again(alice, shop, checked):
    made = [tables.create_table(alice, shop.id, f"T{i}") for i in range(4)]
    exported(alice, shop)
    assert sorted(checked) == [f"t{i}" for i in range(4)]
    assert len(kept_hashes(shop)) == 4
    checked.clear()
    for fmt in ("sql", "dbml", "mermaid"):
        exported(alice, shop, fmt)
    assert checked == []
    # One table changes: it alone is checked, and its new part is kept beside the others.
    fields.create_field(alice, made[2].id, {"name": "Note"})
    exported(alice, shop)
    assert checked == ["t2"]
    assert len(kept_hashes(shop)) == 5


def test_a_table_the_rules_refuse_is_never_kept_and_always_repaired(alice, shop, checked):
    table = tables.create_table(alice, shop.id, "Notes")
    body = fields.create_field(alice, table.id, {"name": "Body"})
    tables.create_table(alice, shop.id, "Fine")
    # A setting no rule allows, as a version saved before the rule held it.
    database.execute_sql(
        "UPDATE data_field SET field_config = %s::jsonb WHERE id = %s",
        ('{"min_length": "not a number"}', str(body.id)),
    )
    for again in (False, True):
        checked.clear()
        text = exported(alice, shop)
        assert "notes" in checked and ("fine" in checked) is not again
        assert "Left out of this export" in text and "min_length" in text
    assert len(kept_hashes(shop)) == 1  # (Fine's)


def test_what_other_rules_accepted_is_not_trusted_and_goes(alice, shop, checked):
    tables.create_table(alice, shop.id, "Kept")
    exported(alice, shop)
    (hashed,) = kept_hashes(shop)
    other = sound_parts.KnownSound(shop.id, rules="0" * 64)
    assert other.accepted({hashed}, "") == set()
    assert sound_parts.KnownSound(shop.id).accepted({hashed}, "") == {hashed}
    # And with other enums (another key), the table is checked again.
    assert sound_parts.KnownSound(shop.id).accepted({hashed}, "f" * 64) == set()
    other.remember({hashed}, "")
    assert sound_parts.KnownSound(shop.id).accepted({hashed}, "") == set()
    checked.clear()
    exported(alice, shop)
    assert checked == ["kept"]


def test_the_rules_digest_changes_with_any_module_of_the_rules(tmp_path):
    copies = []
    for path in sound_parts.RULE_SOURCES:
        copy = tmp_path / path.name
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    assert sound_parts.rules_digest(copies) == sound_parts.RULES
    copies[0].write_bytes(copies[0].read_bytes() + b"\n# another rule\n")
    assert sound_parts.rules_digest(copies) != sound_parts.RULES
    names = {path.name for path in sound_parts.RULE_SOURCES}
    assert {"field_rules.py", "snapshot_rules.py", "export_repair.py", "structure.py"} <= names
