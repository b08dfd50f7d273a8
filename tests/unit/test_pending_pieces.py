"""A table's steps planned from that table and what its foreign keys point to are the steps
the whole plan gives it (designer.database.pending plans pages of tables so).

The designs and edits are the DDL oracle's (tests/integration/test_ddl_oracle.py): the
deployed design A, the design B every table of which is chosen. The context is chosen as
pending's SQL chooses it: the relationships whose foreign key the table holds, on either
side, their referenced tables, and a partition's parent. Where object names are not a
table's own (one taken first by another table's object, or given up by one in the same
plan), only the whole design can say them: a deploy plans the whole design.
"""

import os

from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from designer.database import ddl
from designer.database import pending
from designer.database.plans import desired_state
from designer.database.schema_objects import RELATION_KINDS
from designer.database.schema_objects import ObjectNames
from designer.design.partitions import parent_id
from designer.history import parts
from tests.integration.test_ddl_oracle import design_and_edits

SCHEMA = "shop"


def own_names(snapshot):
    """Whether every object takes the name made from its table and columns: a name another
    table's object takes first is one only the whole design can say (a deploy plans whole)."""
    names = ObjectNames(snapshot)
    return all(
        names.by_table[tid][key] == base
        for tid, candidates in names.candidates.items()
        for key, base, _ in candidates
    )


def no_name_given_up(deployed, desired):
    """Whether no table takes a name another relation gives up in the same plan (a swap,
    done through temporary names: a plan of the whole design says so, a table's own not)."""
    names = ObjectNames(deployed).by_table
    given_up = {t["table_name"] for t in deployed["tables"].values()}
    given_up |= {name for named in names.values() for key, name in named.items()
                 if key[0] in RELATION_KINDS}  # fmt: skip
    return not any(
        table["table_name"] != deployed["tables"][tid]["table_name"]
        and table["table_name"] in given_up
        for tid, table in desired["tables"].items()
        if tid in deployed["tables"]
    )


def planner_of(deployed, designed_enums):
    planner = pending.Planner.__new__(pending.Planner)
    planner.schema = SCHEMA
    planner.whole_deployed = {k: v for k, v in deployed.items() if k not in parts.ENTRY_MAPS}
    planner.designed_enums = designed_enums
    return planner


def entries(side, ids):
    return {i: (side[i], f"h{i}") for i in ids if i in side}


def steps_with_context(planner, table_id, design, deployed, chosen, enums):
    ids = {table_id}
    rels = {
        rid
        for side in (design, deployed)
        for rid, rel in side["relationships"].items()
        if rel["target_table_id"] in ids
    }
    sources = {
        side["relationships"][rid]["source_table_id"]
        for side in (design, deployed)
        for rid in rels
        if rid in side["relationships"]
    }
    wanted = ids | sources
    for side in (design, deployed):
        wanted |= {parent_id(side["tables"][t]) for t in set(wanted) if t in side["tables"]} - {
            None
        }
    return planner.steps_of(
        ids,
        entries(design["tables"], wanted),
        entries(deployed["tables"], wanted),
        entries(design["relationships"], rels),
        entries(deployed["relationships"], rels),
        chosen & wanted,
        enums,
    )[table_id]


@settings(
    max_examples=int(os.environ.get("PENDING_EXAMPLES", 150)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(design_and_edits(), st.booleans())
def test_each_tables_steps_are_those_of_the_whole_plan(pair, first_deploy):
    before, after = pair
    deployed = {"format": 1, "tables": {}, "relationships": {}} if first_deploy else before
    chosen = set(after["tables"])
    desired = desired_state(after, deployed, chosen)
    assume(own_names(desired) and own_names(deployed) and no_name_given_up(deployed, desired))
    whole = ddl.migration(SCHEMA, deployed, desired)
    planner = planner_of(deployed, after.get("enums", {}))
    enums = desired.get("enums", {})
    for table_id in sorted(desired["tables"].keys() | deployed["tables"].keys()):
        expected = [step for step in whole if step.table_id == table_id]
        got = steps_with_context(planner, table_id, after, deployed, chosen, enums)
        assert got == expected, table_id
