"""The three-way comparison and merge (designer.history.merge) on large designs; prints,
never asserts. Pure: no database.

A design of N tables (20 fields each, each table but the first a child of table (i-1)//3
through a parent_id column), then "ours" renames a column in each of 50 tables and retypes
one in 50 more, "theirs" renames 50 other tables, adds a column to 50 and drops 10 leaf
tables. Timed: three_way (the comparison, no conflict), merged (the comparison, the merge
and the design rules), and the same comparison with 50 conflicts (both sides renaming one
column two ways); then one side dropping half the tables while the other changes a column
in each of them and in each table of the other half. Median of RUNS.

    .venv/bin/python bench/merge.py [N ...]   (default 300 and 3000)
"""

import copy
import statistics
import sys
import time
import uuid

from _setup import OUT

from designer.history.merge import merged
from designer.history.merge import three_way

RUNS = 5


def uid():
    return str(uuid.uuid4())


def column(name, order, data_type="text", **config):
    return {
        "id": uid(),
        "name": name.replace("_", " ").title(),
        "field_name": name,
        "data_type": data_type,
        "is_required": False,
        "default_value": None,
        "field_config": config,
        "sort_order": order,
    }


def big_design(count):
    tables, relationships = {}, {}
    ids = []
    for i in range(count):
        key = column("id", 0, "number", system=True, primary_key=True, number_type="bigint")
        key["is_required"] = True
        fields = [key] + [column(f"note_{n}", n) for n in range(1, 19)]
        parent = column("parent_id", 19, "number", number_type="bigint")
        fields.append(parent)
        table_id = uid()
        tables[table_id] = {
            "id": table_id,
            "name": f"Table {i}",
            "table_name": f"table_{i}",
            "description": "",
            "status": "draft",
            "fields": {f["id"]: f for f in fields},
        }
        ids.append((table_id, key["id"], parent["id"]))
        if i:
            source, source_key, _ = ids[(i - 1) // 3]
            rel_id = uid()
            relationships[rel_id] = {
                "id": rel_id,
                "relationship_name": f"table_{i}_parent_fkey",
                "relationship_type": "one_to_many",
                "source_table_id": source,
                "source_field_id": source_key,
                "target_table_id": table_id,
                "target_field_id": parent["id"],
                "cascade_config": {"on_delete": "no_action", "on_update": "no_action"},
                "status": "draft",
            }
    return {"format": 1, "tables": tables, "relationships": relationships}, ids


def note(design, table_id, n):
    fields = design["tables"][table_id]["fields"]
    return next(f for f in fields.values() if f["field_name"] == f"note_{n}")


def sides(count):
    base, ids = big_design(count)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    for table_id, _, _ in ids[:50]:
        note(ours, table_id, 1)["field_name"] = "renamed_note"
    for table_id, _, _ in ids[50:100]:
        note(ours, table_id, 2).update(data_type="number", field_config={"number_type": "bigint"})
    for i, (table_id, _, _) in enumerate(ids[100:150]):
        theirs["tables"][table_id]["table_name"] = f"renamed_table_{i}"
    for table_id, _, _ in ids[150:200]:
        added = column("added", 20)
        theirs["tables"][table_id]["fields"][added["id"]] = added
    for table_id, _, _ in ids[-10:]:
        del theirs["tables"][table_id]
        kept = theirs["relationships"].items()
        theirs["relationships"] = {r: v for r, v in kept if v["target_table_id"] != table_id}
    clashing = copy.deepcopy(theirs)
    for table_id, _, _ in ids[:50]:
        note(clashing, table_id, 1)["field_name"] = "other_name"
    return base, ours, theirs, clashing


def sweeping(count):
    """Theirs drops the last half of the tables, ours renames a column in every table of
    the first half and retypes every parent_id of the last (so each drop is a conflict)."""
    base, ids = big_design(count)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    half = count // 2
    for table_id, _, _ in ids[:half]:
        note(ours, table_id, 1)["field_name"] = "renamed_note"
    for table_id, _, parent in ids[half:]:
        ours["tables"][table_id]["fields"][parent]["default_value"] = "0"
        del theirs["tables"][table_id]
    theirs["relationships"] = {
        r: v for r, v in theirs["relationships"].items() if v["target_table_id"] in theirs["tables"]
    }
    return base, ours, theirs


def timed(function, *args):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(counts):
    lines = []
    for count in counts:
        base, ours, theirs, clashing = sides(count)
        compared = timed(three_way, base, ours, theirs)
        merging = timed(merged, base, ours, theirs)
        conflicted = timed(three_way, base, ours, clashing)
        assert len(three_way(base, ours, clashing).conflicts) == 50
        lines.append(
            f"{count:>5} tables: three_way {compared * 1000:7.1f} ms, merged (with the rules) "
            f"{merging * 1000:7.1f} ms, three_way with 50 conflicts {conflicted * 1000:7.1f} ms"
        )
        print(lines[-1], flush=True)
        swept_sides = sweeping(count)
        swept = timed(three_way, *swept_sides)
        found = len(three_way(*swept_sides).conflicts)
        lines.append(
            f"{count:>5} tables: three_way with half the tables dropped on one side and changed "
            f"on the other ({found} conflicts) {swept * 1000:7.1f} ms"
        )
        print(lines[-1], flush=True)
    (OUT / "merge.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [300, 3000])
