"""A big design as a PostgreSQL DDL file, shaped like the 375-table music database the
issue measured: serial keys, names, dates, flags, amounts, negative and empty defaults,
CHECKs (of a column and of the table), multi-column uniques, expression and partial indexes,
comments, foreign keys to earlier tables, self-references, and extension tables
whose key is also a foreign key, declared at the end of the file (so a relationship to
that key is read before the key's own type is settled). Deterministic for a seed.
Used by the round-trip tests and by bench/activate_all.py."""

import random

NOUNS = (
    "artist", "release", "recording", "label", "work", "place", "area", "event", "series",
    "instrument", "medium", "track", "genre", "alias", "tag", "rating", "annotation", "url",
    "editor", "edit", "vote", "link", "credit", "country", "language", "script", "gender",
)  # fmt: skip
# Column shapes that recur in such a schema, with how often each comes (weights).
COLUMNS = (
    ("name", "varchar(255) NOT NULL", 5),
    ("sort_name", "varchar(255)", 2),
    ("comment", "varchar(255) NOT NULL DEFAULT ''", 3),
    ("description", "text", 2),
    ("edits_pending", "integer NOT NULL DEFAULT 0 CHECK (edits_pending >= 0)", 3),
    ("last_updated", "timestamp with time zone DEFAULT now()", 4),
    ("begin_date", "date", 2),
    ("end_date", "date", 2),
    ("ended", "boolean NOT NULL DEFAULT false", 2),
    ("position", "integer NOT NULL", 2),
    ("length", "integer CHECK (length IS NULL OR length > 0)", 1),
    ("amount", "numeric(12,2)", 1),
    ("code", "varchar(16)", 1),
    ("note", "text NOT NULL DEFAULT ''", 1),
    ("count", "bigint", 1),
    ("rank", "integer NOT NULL DEFAULT -1", 1),
    ("offset_seconds", "numeric(8,2) DEFAULT -0.5", 1),
)
EXTENSION_EVERY = 15  # every 15th table extends the one before it


def music_sql(tables=375, seed=375):
    """The DDL file of a design of `tables` tables."""
    rng = random.Random(seed)
    names = [f"{NOUNS[i % len(NOUNS)]}_{i // len(NOUNS):02d}" for i in range(tables)]
    shapes = [shape for shape in COLUMNS for _ in range(shape[2])]
    statements, last = [], []
    extensions = {}  # extension table index -> its key column
    for i, table in enumerate(names):
        if i % EXTENSION_EVERY == EXTENSION_EVERY - 1:
            base = names[i - 1]
            key = f"{base}_id"
            extensions[i] = key
            columns = [f"    {key} integer PRIMARY KEY"]
            last.append(f"ALTER TABLE {table} ADD FOREIGN KEY ({key}) REFERENCES {base} (id);")
        else:
            columns = ["    id serial PRIMARY KEY"]
        taken = set()
        for name, definition, _ in rng.sample(shapes, rng.randint(3, 7)):
            if name not in taken:
                taken.add(name)
                columns.append(f"    {name} {definition}")
        refs = rng.sample(range(i), min(i, rng.choice((0, 1, 1, 2, 2, 3)))) if i else []
        if i and rng.random() < 0.05 and i not in extensions:
            refs.append(i)  # a self-reference: parent rows
        for n, ref in enumerate(refs):
            required = " NOT NULL" if n == 0 and ref != i else ""
            column = f"{names[ref]}_ref" if ref != i else "parent_id"
            key = extensions.get(ref, "id")
            columns.append(
                f"    {column} integer{required} REFERENCES {names[ref]} ({key})"
                + (" ON DELETE CASCADE" if rng.random() < 0.2 else "")
            )
        # Table-level structure, where the columns it needs were drawn.
        if {"name", "begin_date"} <= taken and rng.random() < 0.5:
            columns.append("    UNIQUE (name, begin_date)")
        if {"begin_date", "end_date"} <= taken:
            columns.append(
                "    CHECK (end_date IS NULL OR begin_date IS NULL OR end_date >= begin_date)"
            )
        statements.append(f"CREATE TABLE {table} (\n" + ",\n".join(columns) + "\n);")
        if "name" in taken and rng.random() < 0.2:
            statements.append(f"CREATE INDEX {table}_lower_name ON {table} (lower(name));")
        if {"ended", "last_updated"} <= taken:
            statements.append(
                f"CREATE INDEX {table}_open ON {table} (last_updated DESC) WHERE NOT ended;"
            )
        if rng.random() < 0.3:
            statements.append(f"COMMENT ON TABLE {table} IS 'The {table.replace('_', ' ')}s.';")
    return "\n\n".join(statements + last) + "\n"
