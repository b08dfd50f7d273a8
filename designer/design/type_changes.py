"""Type changes PostgreSQL makes in place: the ones a deploy plan calls safe.

The deploy plan (designer.database.column_changes) and the design's lock rules read the
same answer, so a change the Deploy tab shows as "safe (no rewrite)" never asks for a
critical lock.
"""


def widening(before, after):
    """Whether PostgreSQL changes a column from type `before` to `after` without rewriting
    the table or failing."""
    if before == after:
        return True
    if before.startswith("varchar(") and after == "text":
        return True
    if before.startswith("varchar(") and after.startswith("varchar("):
        return int(after[8:-1]) >= int(before[8:-1])
    if before.startswith("numeric(") and after.startswith("numeric("):
        (p1, s1), (p2, s2) = (tuple(map(int, t[8:-1].split(","))) for t in (before, after))
        return s1 == s2 and p2 >= p1
    return False
