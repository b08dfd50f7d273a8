"""A three-way comparison in sentences: each side's changes as diff.describe says them
(so in change_words' words), and each conflict as what either side did.

Objects are named as the base has them, or as the side that added them does: both sides'
sentences about one table then name it alike, whatever either renamed it to.
"""

from designer.history.diff import describe

LEADS = {
    "changed": "Both sides changed this",
    "deleted": "One side dropped what the other changed",
}
NAME_NOUNS = {
    "table_name": "table name",
    "name": "display name",
    "relationship_name": "relationship name",
    "field_name": "column name",
}


def change_sentence(change, comparison):
    """ "renamed column orders.total to amount": one change of one side."""
    return describe(change.as_op(), comparison.naming(change.side))


def side_sentences(comparison, side):
    """The sentences of one side's changes, in the comparison's order."""
    return [change_sentence(change, comparison) for change in getattr(comparison, side)]


def conflict_sentence(conflict, comparison):
    """ "Both sides changed this: ours renamed column orders.total to amount; theirs renamed
    column orders.total to sum." (the "rules" conflict says the rule the merge breaks)."""
    if conflict.kind == "rules":
        return conflict.problem
    if conflict.kind == "name":
        *_, attr, name = conflict.path
        lead = f"Both sides chose the {NAME_NOUNS[attr]} {name}"
    else:
        lead = LEADS[conflict.kind]
    said = [
        f"{side} " + ", ".join(change_sentence(c, comparison) for c in conflict.changes(side))
        for side in ("ours", "theirs")
    ]
    return f"{lead}: {'; '.join(said)}."
