"""Generated migrations pass squawk, but for the rules the README lists with their reasons."""

import copy
import pathlib
import shutil
import subprocess
import sys

import pytest

from designer.database import ddl
from tests import snapshots as s

SQUAWK = shutil.which("squawk", path=str(pathlib.Path(sys.executable).parent)) or shutil.which(
    "squawk"
)
# Each one is explained in README.md ("squawk: tolerated rules").
TOLERATED = (
    "ban-drop-column",
    "ban-drop-constraint",
    "ban-drop-table",
    "renaming-table",
    "renaming-object",
    "renaming-column",
    "changing-column-type",
    "require-concurrent-index-creation",
    "require-concurrent-index-deletion",
    "disallowed-unique-constraint",
    "constraint-missing-not-valid",
    "adding-required-field",
    "prefer-bigint-over-int",
    "prefer-text-field",
)
pytestmark = pytest.mark.skipif(SQUAWK is None, reason="squawk-cli is not installed")


def as_deployed(steps):
    """The steps as designer.database.target runs them: one transaction with both timeouts set."""
    return (
        "BEGIN;\nSET LOCAL lock_timeout = '5s';\nSET LOCAL statement_timeout = '60s';\n"
        + ddl.script(steps)
        + "COMMIT;\n"
    )


def a_design_and_every_kind_of_change():
    amount = s.field("amount", "number", number_type="integer", min="0")
    code = s.field("code", "text", max_length=5, unique=True)
    note = s.field("note", indexed=True, description="free text", pattern="^[a-z]")
    gone = s.field("gone")
    parent = s.table("parent", code, description="Parents")
    child = s.table("child", amount, note, gone)
    dropped = s.table("dropped")
    fk = s.field("parent_id", "number", number_type="bigint")
    child["fields"][fk["id"]] = fk
    before = s.snapshot([parent, child, dropped], [s.link(parent, child, fk)])
    after = copy.deepcopy(before)
    del after["tables"][dropped["id"]]
    kid = after["tables"][child["id"]]
    kid["table_name"] = "kid"
    kid["status"] = "deprecated"
    kid["fields"][amount["id"]].update(field_name="total")
    kid["fields"][amount["id"]]["field_config"] = {"number_type": "bigint", "max": "100"}
    kid["fields"][note["id"]].update(is_required=True, default_value="x")
    kid["fields"][note["id"]]["field_config"]["unique"] = True
    del kid["fields"][gone["id"]]
    for new in (
        s.field("extra", "boolean", default_value="true", is_required=True),
        s.field("needed", "text", is_required=True),
    ):
        kid["fields"][new["id"]] = new
    after["tables"][parent["id"]]["fields"][code["id"]].update(
        data_type="number", field_config={"number_type": "integer"}
    )
    other = s.table("other")
    after["tables"][other["id"]] = other
    other_id = s.field("other_id", "number", number_type="bigint")
    kid["fields"][other_id["id"]] = other_id
    link = s.link(other, kid, other_id)
    after["relationships"][link["id"]] = link
    return before, after


def squawk(tmp_path, sql, exclude):
    path = tmp_path / "migration.sql"
    path.write_text(sql)
    command = [SQUAWK, "--pg-version=15", str(path)]
    if exclude:
        command.insert(1, "--exclude=" + ",".join(exclude))
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_generated_create_scripts_and_migrations_pass_squawk(tmp_path):
    before, after = a_design_and_every_kind_of_change()
    for steps in (ddl.create_script("app", before), ddl.migration("app", before, after)):
        result = squawk(tmp_path, as_deployed(steps), TOLERATED)
        assert result.returncode == 0, result.stdout + result.stderr


def test_squawk_does_judge_them(tmp_path):
    before, after = a_design_and_every_kind_of_change()
    result = squawk(tmp_path, as_deployed(ddl.migration("app", before, after)), ())
    assert result.returncode != 0
    assert "ban-drop-column" in result.stdout
