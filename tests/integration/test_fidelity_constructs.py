"""Constructs of big real schemas (MusicBrainz, OpenStreetMap's pg_dump) that the proof
found lost without a word, each in a few lines: applied by psql, imported, activated and
deployed, compared in pg_catalog (tests/fidelity.py). Every difference must be named by the
preview, and the catalog must show what the preview says."""

import pytest

from tests import fidelity

# name: (the SQL, what the deployed catalog then holds, as (kind, table, key, value))
CONSTRUCTS = {
    # MusicBrainz's medium_uniq: a multi-column UNIQUE checked at the end of a statement.
    "deferrable unique": (
        "CREATE TABLE medium (id integer PRIMARY KEY, release integer NOT NULL,\n"
        "  position integer NOT NULL);\n"
        "ALTER TABLE medium ADD CONSTRAINT medium_uniq\n"
        "  UNIQUE (release, position) DEFERRABLE INITIALLY IMMEDIATE;\n",
        ("u", "medium", 'UNIQUE (release, "position")'),
    ),
    # OpenStreetMap's pg_dump: Rails' foreign keys added NOT VALID.
    "foreign key not valid": (
        "CREATE TABLE users (id bigint PRIMARY KEY);\n"
        "CREATE TABLE grants (id bigint PRIMARY KEY, owner_id bigint NOT NULL);\n"
        "ALTER TABLE ONLY grants\n"
        "  ADD CONSTRAINT fk_rails_330c FOREIGN KEY (owner_id) REFERENCES users(id) NOT VALID;\n",
        ("f", "grants", "FOREIGN KEY (owner_id) REFERENCES users(id)"),
    ),
    # MusicBrainz's editor.email: an explicit DEFAULT NULL (the catalog keeps it).
    "default null": (
        "CREATE TABLE editor (id integer PRIMARY KEY,\n"
        "  email varchar(64) DEFAULT NULL,\n"
        "  website varchar(255) DEFAULT NULL::character varying);\n",
        ("default", "editor", "email", None),
    ),
    # MusicBrainz's ratable_entity_type: an enum only its functions use.
    "unused enum": (
        "CREATE TYPE ratable_entity_type AS ENUM ('artist', 'event');\n"
        "CREATE TABLE artist (id integer PRIMARY KEY, name text NOT NULL);\n",
        ("no type", "ratable_entity_type"),
    ),
    # OpenStreetMap's users_display_name_canonical_idx: a call in the SQL standard's syntax.
    "sql syntax call": (
        "CREATE TABLE users (id bigint PRIMARY KEY, display_name varchar NOT NULL, born date,\n"
        "  CONSTRAINT born_check CHECK (EXTRACT(year FROM born) > 1900));\n"
        "CREATE INDEX users_display_name_canonical_idx ON public.users\n"
        "  USING btree (lower(NORMALIZE(display_name, NFKC)));\n",
        ("index", "users", "normalize"),
    ),
    # Transitland's pg_dump: gin (adm0name public.gin_trgm_ops), an extension's operator
    # class named with its schema (the PREPARE below stands in for pg_trgm), and pg_dump's
    # COLLATE pg_catalog."C".
    "qualified operator class": (
        "CREATE TABLE places (id bigint PRIMARY KEY, adm0name text, code varchar(10));\n"
        "CREATE INDEX places_adm0name_idx ON public.places\n"
        "  USING btree (adm0name public.dmd_test_text_ops);\n"
        "CREATE INDEX places_code_idx ON public.places\n"
        '  USING btree (code COLLATE pg_catalog."C" pg_catalog.varchar_pattern_ops);\n',
        ("kept", "places"),
    ),
    # MusicBrainz's area_idx_gid (and 93 more): a one-column unique index, not a constraint.
    "unique index": (
        "CREATE TABLE area (id integer PRIMARY KEY, gid uuid NOT NULL);\n"
        "CREATE UNIQUE INDEX area_idx_gid ON area (gid);\n",
        ("kept", "area"),
    ),
    # OpenStreetMap's index_note_comments_on_body: a text search configuration by name.
    "regconfig cast": (
        "CREATE TABLE note_comments (id bigint PRIMARY KEY, body text);\n"
        "CREATE INDEX index_note_comments_on_body ON public.note_comments\n"
        "  USING gin (to_tsvector('english'::regconfig, body));\n",
        ("kept", "note_comments"),
    ),
    # Transitland's tl_agency_onestop_ids_agency_id_idx, MusicBrainz's multi-column indexes:
    # a foreign key whose columns lead an index of the file gets no second index.
    "foreign key led by an index": (
        "CREATE TABLE area (id integer PRIMARY KEY);\n"
        "CREATE TABLE alias (id integer PRIMARY KEY, area integer REFERENCES area (id),\n"
        "  locale text);\n"
        "CREATE INDEX alias_idx_area_locale ON alias (area, locale);\n"
        "CREATE TABLE agency (id integer PRIMARY KEY, area integer REFERENCES area (id));\n"
        "CREATE UNIQUE INDEX agency_area_idx ON agency (area);\n",
        ("kept", "alias"),
    ),
}
# What an administrator installs before such a schema, on the source and the target alike.
PREPARE = """
DO $$ BEGIN
  CREATE OPERATOR CLASS public.dmd_test_text_ops FOR TYPE text USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 bttextcmp(text, text);
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
"""


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
def test_a_construct_of_a_big_schema_is_kept_or_named(
    name, alice, fresh_database, deploy_database_url
):
    text, expected = CONSTRUCTS[name]
    source_url = fresh_database("dmd_source")
    for url in (source_url, deploy_database_url):
        fidelity.apply_with_psql(url, PREPARE, "PREPARE")
    fidelity.apply_with_psql(source_url, text, name)
    plan, schema, _ = fidelity.import_and_deploy(alice, name.replace(" ", "_"), text)
    lines = fidelity.Lines(text)
    deployed = fidelity.read_catalog(deploy_database_url, schema)
    comparison = fidelity.compare(
        fidelity.read_catalog(source_url, "public"), deployed, lines, fidelity.renamed(plan)
    )
    if expected[0] == "kept":
        assert not comparison.differences, "\n".join(map(str, comparison.differences))
        return
    assert comparison.differences, "the construct is kept whole now: move it to a test of that"
    silent = fidelity.unnamed(comparison, plan, lines)
    assert not silent, "\n".join(map(str, silent))
    kind, table, *rest = expected
    if kind in ("u", "f"):
        # Kept, as the preview says: checked at once, and valid.
        assert (kind, rest[0]) in deployed.tables[table].constraints
    elif kind == "default":
        assert deployed.tables[table].columns[rest[0]].default is rest[1]
    elif kind == "index":
        # The same index, its call written as a plain one.
        (definition,) = deployed.tables[table].indexes
        assert f'"{rest[0]}"((display_name)::text' in definition
    else:
        assert table not in deployed.types
