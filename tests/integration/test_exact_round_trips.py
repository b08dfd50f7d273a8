"""Exact round trips at every size, and files as they are published (psql meta-commands)."""

from designer.models import Project

# A file as published for psql: meta-commands one per line, and lines inside quoted text
# and comments that begin with a backslash too (those are not meta-commands).
PSQL_FILE = r"""-- For psql: psql -f music.sql
\set ON_ERROR_STOP on
\connect music
CREATE TABLE artist (
    id serial PRIMARY KEY,
    name text NOT NULL DEFAULT 'one
\not a meta-command'
);
/* a comment
\nor this */
\i more.sql
  \echo 'artists done'
CREATE TABLE album (id serial PRIMARY KEY, artist_id integer REFERENCES artist (id));
\unset ON_ERROR_STOP
"""


def test_psql_meta_commands_import_each_a_finding_with_its_line(alice, api):
    client = api(alice)
    preview = client.post("/projects/import?format=sql", json={"source": PSQL_FILE})
    assert preview.status_code == 200, preview.json
    assert preview.json["creates"]["tables"] == 2
    found = [
        (f["line"], f["kind"], f["subject"])
        for f in preview.json["findings"]
        if "psql's" in f["message"]
    ]
    assert sorted(found) == [
        (2, "ignored", r"\set ON_ERROR_STOP on"),
        (3, "ignored", r"\connect music"),
        (11, "unrepresentable", r"\i more.sql"),
        (12, "ignored", r"\echo 'artists done'"),
        (14, "ignored", r"\unset ON_ERROR_STOP"),
    ]
    done = client.post(
        "/projects/import?format=sql", json={"source": PSQL_FILE, "name": "Music", "confirm": True}
    )
    assert done.status_code == 201, done.json
    exported = client.get(f"/projects/{done.json['project_id']}/export?format=sql").text
    assert "DEFAULT 'one\n\\not a meta-command'" in exported
    assert Project.select().count() == 1
