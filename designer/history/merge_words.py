"""A three-way comparison in sentences: each side's changes as diff.describe says them
(so in change_words' words), and each conflict as what either side did.

Objects are named as the base has them, or as the side that added them does: both sides'
sentences about one table then name it alike, whatever either renamed it to.
"""

from designer.history.diff import describe

LEADS = {
    "changed": "Both sides changed this",
    "deleted": "One side dropped what the other changed",
    "name": "Both sides gave this name to different objects",
}
NAME_NOUNS = {
    "table_name": "name",
    "name": "display name",
    "relationship_name": "name",
    "field_name": "column name",
}


def naming_snapshot(comparison, side):
    """The base, with the tables, relationships and enums only `side` has."""
    base, own = comparison.base, getattr(comparison, f"{side}_snapshot")
    return {
        key: {**(own.get(key) or {}), **(base.get(key) or {})}
        for key in ("tables", "relationships", "enums")
    }


def change_sentence(change, comparison):
    """ "renamed column orders.total to amount": one change of one side."""
    return describe(change.as_op(), naming_snapshot(comparison, change.side))


def side_sentences(comparison, side):
    """The sentences of one side's changes, in the comparison's order."""
    return [change_sentence(change, comparison) for change in getattr(comparison, side)]


def conflict_sentence(conflict, comparison):
    """ "Both sides changed this: ours renamed column orders.total to amount; theirs renamed
    column orders.total to sum." (the "rules" conflict says the rule the merge breaks)."""
    if conflict.kind not in LEADS:
        return conflict.problem
    lead = LEADS[conflict.kind]
    if conflict.kind == "name":
        lead = (
            f"Both sides chose the {NAME_NOUNS.get(conflict.path[-2], 'name')} {conflict.path[-1]}"
        )
    said = [
        f"{side} " + ", ".join(change_sentence(c, comparison) for c in conflict.changes(side))
        for side in ("ours", "theirs")
    ]
    return f"{lead}: {'; '.join(said)}."
