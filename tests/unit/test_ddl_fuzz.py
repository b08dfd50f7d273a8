"""No text of a design becomes SQL unless as a quoted identifier or a literal.

A valid design with hostile text in every free-text place (names, descriptions, defaults,
patterns) is mutated: any of its strings and numbers may become hostile text, a number out
of bounds, a float, a bool, a list. The rules of a stored design (check_snapshot) accept
it or refuse it with ValidationFailed, never another error. For each design they accept,
every step of its CREATE script and of migrations to and from a base design is read by
PostgreSQL's parser (pglast): exactly one statement of a kind a plan makes, in the
project's schema, with the design's texts back as literals. The DDL writer alone, given a
design nobody checked, either refuses it or writes nothing else.
"""

import copy

from hypothesis import event
from hypothesis import given

from designer.database import ddl
from designer.design.snapshot_rules import check_snapshot
from designer.errors import ValidationFailed
from tests.hostile_designs import SCHEMA
from tests.hostile_designs import base_design
from tests.hostile_designs import mutated
from tests.sql_statements import MEASURE_FUNCTIONS
from tests.sql_statements import MEASURE_KINDS
from tests.sql_statements import literals
from tests.sql_statements import statement_of


def all_steps(design):
    base = base_design()
    return [
        *ddl.create_script(SCHEMA, design),
        *ddl.migration(SCHEMA, base, design),
        *ddl.migration(SCHEMA, design, base),
    ]


def check_steps(steps):
    """Each step one allowed statement in the schema; each measure one count of its rows."""
    texts = set()
    for step in steps:
        texts |= literals(statement_of(step.sql, SCHEMA))
        if step.measure:
            statement_of(step.measure, SCHEMA, MEASURE_KINDS, MEASURE_FUNCTIONS)
    return texts


def free_texts(design):
    """The texts a deploy writes as literals: descriptions and text defaults."""
    found = set()
    for t in design["tables"].values():
        found.add(t["description"])
        for f in t["fields"].values():
            found.add(f["field_config"].get("description", ""))
            if f["data_type"] == "text" and f["default_value"] is not None:
                found.add(f["default_value"])
    return found - {""}


@given(mutated())
def test_an_accepted_design_becomes_only_allowed_statements_with_its_texts_as_literals(design):
    try:
        check_snapshot(design)
    except ValidationFailed:
        event("refused")
        return  # refused, as the rules refuse: nothing to deploy
    event("accepted")
    written = check_steps(all_steps(design))
    assert free_texts(design) <= written


@given(mutated())
def test_the_ddl_writer_alone_refuses_what_it_cannot_write_and_writes_nothing_else(design):
    design = copy.deepcopy(design)
    try:
        steps = all_steps(design)
    except ValidationFailed:
        event("the writer refused")
        return
    except (TypeError, AttributeError, KeyError, IndexError, ValueError):
        event("the writer failed")
        return  # a shape no stored design has (a name that is a number): nothing written
    event("written")
    check_steps(steps)  # asserts each step is one allowed statement in the schema
    # The create script writes a CREATE TABLE in the schema for every table of the design.
    created = [s.sql for s in ddl.create_script(SCHEMA, design) if s.sql.startswith("CREATE TABLE")]
    assert len(created) == len(design["tables"])
    assert all(sql.startswith(f'CREATE TABLE "{SCHEMA}".') for sql in created)
