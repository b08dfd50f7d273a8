"""Snapshots as content-addressed parts (designer/history/parts.py): assembling a snapshot
from its parts gives it back exactly, its hash does not depend on how it was built, and the
changes found from the parts whose hashes differ are the whole snapshots' changes."""

import copy
import json

from hypothesis import given
from hypothesis import strategies as st

from designer.history import parts
from designer.history.diff import diff
from designer.history.snapshot import canonical_json
from tests.unit import test_diff as helpers

# Ids spread over a few buckets (helpers.Builder's all share one prefix).
PREFIXES = st.sampled_from(["0a", "0b", "f3", "é", ""])


class Builder(helpers.Builder):
    def new_id(self, prefix):
        return f"{self.draw(PREFIXES)}{prefix}-{next(self.ids)}"


def edited(data, builder, snapshot, most):
    new = copy.deepcopy(snapshot)
    for _ in range(data.draw(st.integers(0, most))):
        data.draw(helpers.EDITS)(builder, new)
    return new


def store_of(*trees):
    """{hash: parsed value} of every part of `trees`, as schema_part holds them."""
    return {h: json.loads(text) for tree in trees for h, text in tree.texts.items()}


@given(st.data())
def test_a_snapshot_assembled_from_its_parts_is_the_snapshot(data):
    snapshot = Builder(data).snapshot()
    if data.draw(st.booleans()):
        snapshot["enums"] = {"e-1": {"id": "e-1", "name": "mood", "labels": ["ok", "sad"]}}
    tree = parts.tree_of(snapshot)
    store = store_of(tree)
    assembled = parts.assemble(tree.manifest, store.__getitem__)
    assert assembled == snapshot
    assert canonical_json(assembled) == canonical_json(snapshot)
    # Verifiable: every part's hash is its text's, the snapshot's is its manifest's.
    assert all(parts.digest(text) == h for h, text in tree.texts.items())
    assert tree.hash == parts.digest(tree.manifest) == parts.snapshot_hash(assembled)
    assert parts.snapshot_hash(helpers.reversed_order(snapshot)) == tree.hash


@given(st.data())
def test_changes_from_the_differing_parts_are_the_whole_snapshots(data):
    builder = Builder(data)
    old = builder.snapshot()
    new = edited(data, builder, old, 8)
    old_tree, new_tree = parts.tree_of(old), parts.tree_of(new)
    store = store_of(old_tree)
    fetched = []

    def fetch(hashes):
        fetched.extend(hashes)
        return {h: store[h] for h in hashes}

    cut_old, cut_new, added = parts.cut(
        parts.read_manifest(old_tree.manifest), new_tree, new, fetch
    )
    assert diff(cut_old, cut_new) == diff(old, new)
    # What a save stores is exactly what the store lacked, and then it holds the new tree.
    assert set(added) == set(new_tree.texts) - set(old_tree.texts)
    assert all(parts.digest(text) == h for h, text in added.items())
    everything = {**store, **{h: json.loads(t) for h, t in added.items()}}
    assert parts.assemble(new_tree.manifest, everything.__getitem__) == new
    if old == new:
        assert added == {} and diff(cut_old, cut_new) == []


def test_a_one_table_change_reads_and_writes_one_bucket_one_leaf():
    tables = {f"{i:02x}{i:030d}": {"id": str(i), "fields": {}} for i in range(256)}
    old = {"format": 1, "tables": tables, "relationships": {}}
    new = copy.deepcopy(old)
    changed = sorted(tables)[7]
    new["tables"][changed]["name"] = "renamed"
    old_tree, new_tree = parts.tree_of(old), parts.tree_of(new)
    store = store_of(old_tree)
    fetched = []

    def fetch(hashes):
        fetched.append(set(hashes))
        return {h: store[h] for h in hashes}

    cut_old, cut_new, added = parts.cut(
        parts.read_manifest(old_tree.manifest), new_tree, new, fetch
    )
    assert list(cut_new["tables"]) == [changed] == list(cut_old["tables"])
    bucket = old_tree.buckets["tables"][changed[:2]]
    assert fetched[0] - {old_tree.whole["format"], old_tree.whole.get("x")} == {bucket}
    assert fetched[1] == {old_tree.leaves["tables"][changed]}
    assert set(added) == {
        new_tree.buckets["tables"][changed[:2]],
        new_tree.leaves["tables"][changed],
    }
