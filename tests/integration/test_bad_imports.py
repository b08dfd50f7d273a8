"""Hostile import files and `source` strings, in every format, through every import route
(uploaded files, the confirm form's source, the API's source, preview and import): nothing
answers 5xx, and a refused import changes no row of the designer's database.

Extends tests/integration/test_bad_input.py (same world, same row fingerprint) to what
the request-level checks cannot see: the contents of a file.
"""

import io
import json
from urllib.parse import urlencode

import pytest

from designer.db import database
from designer.settings import settings
from tests.integration import test_access
from tests.integration.test_bad_input import client_for
from tests.integration.test_bad_input import fingerprint

built_world = test_access.built_world
world = test_access.world


def nested(opening, middle, closing, depth):
    return opening * depth + middle + closing * depth


SQL = {
    "a NUL between two statements": b"CREATE TABLE a (x int);\n\x00\nCREATE TABLE b (y int);",
    "invalid UTF-8": b"CREATE TABLE \xff (x int);",
    "Latin-1": "CREATE TABLE café (x int);".encode("latin-1"),
    "a view of 200 nested sub-selects": (
        "CREATE VIEW v AS " + nested("SELECT * FROM (", "SELECT 1", ") s", 200)
    ).encode(),
    "a CHECK nested 500 deep": (
        "CREATE TABLE t (a int CHECK (" + nested("abs(", "a", ")", 500) + " > 1));"
    ).encode(),
    "a CHECK of 1,000 NOTs": ("CREATE TABLE t (a bool CHECK (" + "NOT " * 1000 + "a));").encode(),
    "a sum of 100,000 terms": ("CREATE TABLE t (a int DEFAULT " + "1+" * 100_000 + "1);").encode(),
    "parentheses 20,000 deep": ("SELECT " + nested("(", "1", ")", 20_000)).encode(),
    "an unterminated string": b"CREATE TABLE t (a text DEFAULT 'x);",
    "an unterminated comment": b"CREATE TABLE t (a int); /* and then",
    "1 MB of INSERT constants": (
        "CREATE TABLE t (a int, b text);\nINSERT INTO t VALUES "
        + ",".join(f"({n}, 'row {n}')" for n in range(60_000))
        + ";"
    ).encode(),
    "COPY with its data": b"CREATE TABLE t (a int);\nCOPY t FROM stdin;\n1\n\\.\n",
    "a table named twice": b"CREATE TABLE a (x int); CREATE TABLE a (y int);",
    "a reference to no table": b"CREATE TABLE a (x int REFERENCES nowhere (id));",
    "2,000 columns": (
        "CREATE TABLE wide (" + ", ".join(f"c{n} int" for n in range(2000)) + ");"
    ).encode(),
    "only comments": b"-- nothing\n/* here */",
    "only a BOM": "\ufeff".encode(),
    "names of every script": 'CREATE TABLE "Ünïcødé 表" ("😀" int, "x\x01y" text);'.encode(),
    "a 1,000-character name": f"CREATE TABLE {'n' * 1000} (x int);".encode(),
    "numbers beyond any type": (
        b"CREATE TABLE t (a numeric(1000000, 2) DEFAULT 1e1000000 CHECK (a > -1e1000000),"
        b" b varchar(100000000), c timestamp(99));"
    ),
    "an invalid pattern": b"CREATE TABLE t (a text CHECK (a ~ '(['));",
    "a self-reference and a cycle": (
        b"CREATE TABLE a (id int PRIMARY KEY, a_id int REFERENCES a, b_id int);"
        b"CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);"
        b"ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b;"
    ),
    "SQL that is not DDL": b"DROP TABLE project CASCADE; COMMIT; ALTER ROLE x SUPERUSER;",
}
DBML = {
    "a check note nested 400 deep": (
        'Table t {\n  a int [note: "check: ' + nested("abs(", "a", ")", 400) + ' > 1"]\n}\n'
    ).encode(),
    "a table named twice": b"Table a {\n x int\n}\nTable a {\n y int\n}\n",
    "a ref to a missing table": b"Table a {\n x int\n}\nRef: a.x > b.y\n",
    "a ref to a missing column": b"Table a {\n x int\n}\nTable b {\n y int\n}\nRef: a.z > b.y\n",
    "a ref given twice": (
        b"Table a {\n x int\n}\nTable b {\n y int\n}\nRef: a.x > b.y\nRef: a.x > b.y"
    ),
    "a table without columns": b"Table a {\n}\n",
    "an enum named twice": b"Enum e {\n a\n}\nEnum e {\n b\n}\n",
    "a group of a missing table": b"TableGroup g {\n zz\n}\n",
    "an index on a missing column": b"Table a {\n x int\n indexes {\n  (q) [unique]\n }\n}\n",
    "a NUL": b"Table a {\n x int\n}\x00\nTable b {\n y int\n}\n",
    "invalid UTF-8": b"Table \xff {\n x int\n}\n",
    "an unclosed table": b"Table a {\n x int\n",
    "a number beyond any type": (
        b"Table a {\n x int [default: 1e1000000]\n y varchar(99999999999)\n}"
    ),
    "names of every script": 'Table "Ünïcødé 表" {\n "😀" int\n}\n'.encode(),
    "a many-to-many and a composite ref": (
        b"Table a {\n x int\n y int\n}\nTable b {\n x int\n y int\n}\n"
        b"Ref: a.x <> b.x\nRef: a.(x, y) < b.(x, y)\n"
    ),
}


def json_export(tables):
    return {"format": 1, "tables": tables, "relationships": {}}


JSON = {
    "a list 1,000 deep": ("[" * 1000 + "]" * 1000).encode(),
    "a field_config 100 deep": json.dumps(
        json_export({"x": {"field_config": json.loads("[" * 100 + "]" * 100)}})
    ).encode(),
    "a lone surrogate in a key": b'{"format": 1, "tables": {"\\ud800": {}}}',
    "a lone surrogate in a value": b'{"format": 1, "tables": {}, "relationships": {"\\udc00": 1}}',
    "a NUL in a value": b'{"format": 1, "tables": {"a": {"name": "x\\u0000"}}}',
    "NaN": b'{"format": NaN, "tables": {}, "relationships": {}}',
    "a huge number": b'{"format": 1e1000000, "tables": {}, "relationships": {}}',
    "invalid UTF-8": b'{"format": 1, "tables": {"\xff": {}}, "relationships": {}}',
    "not an object": b"[]",
    "a string": b'"text"',
    "tables as a list": b'{"format": 1, "tables": [], "relationships": {}}',
    "truncated": b'{"format": 1, "tables": {',
}
CORPUS = {"sql": SQL, "dbml": DBML, "json": JSON}


def hostile_exports(client, project_id):
    """The project's JSON export with each key of a table, a field of it and its settings
    given a hostile value in turn."""
    export = client.get(f"/projects/{project_id}/export?format=json").json
    values = ["\ud800", "a\x00", 2**70, 1e308, -1, None, [], {}, True, "", "x" * 10_000]
    table, field = next(
        (t, f)
        for t in export["tables"].values()
        for f in t["fields"].values()
        if not f["field_config"].get("system")
    )
    n = 0
    for target in (table, field, field["field_config"]):
        for key in [key for key in target if key not in ("fields", "id")]:
            kept = target[key]
            # A lone surrogate in every key (echoed in an error, it was a 500), and three
            # more values a key, every value somewhere.
            for value in ["\udfff", *values[n % 4 :: 4]]:
                target[key] = value
                yield f"{key} = {value!r:.20}", json.dumps(export).encode()
            target[key], n = kept, n + 1


MODES = ("file preview", "file import", "new project file", "source preview",
         "source import", "api preview", "api import", "api new project")  # fmt: skip


def send(mode, fmt, data, clients, project_id):
    """Send `data` (a file's bytes) to the route of `mode`."""
    web, api = clients
    text = data.decode("utf-8", "surrogateescape")  # invalid bytes: lone surrogates
    upload = {"format": fmt, "file": (io.BytesIO(data), f"hostile.{fmt}"), "name": "Hostile"}
    # The form as a browser sends it: bytes a page could not have sent stay as they are.
    form = urlencode({"format": fmt, "source": data, "name": "Hostile", "filename": "h"})
    form = {"data": form, "content_type": "application/x-www-form-urlencoded"}
    if mode == "file preview":
        return web.post(f"/projects/{project_id}/import/preview", data=upload)
    if mode == "file import":
        return web.post(f"/projects/{project_id}/import", data=upload)
    if mode == "new project file":
        return web.post("/projects/import", data=upload)
    if mode == "source preview":
        return web.post("/projects/import/preview", **form)
    if mode == "source import":
        return web.post(f"/projects/{project_id}/import", **form)
    query = f"?format={fmt}"
    body = {"source": text, "confirm": mode != "api preview"}
    if mode == "api new project":
        return api.post(f"/projects/import{query}", json={**body, "name": "Hostile"})
    return api.post(f"/projects/{project_id}/import{query}", json=body)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", CORPUS)
def test_hostile_imports_never_get_a_server_error_nor_change_anything(
    fmt, mode, world, api, signed_in
):
    owner, project_id = "owner", world["ids"]["p"]
    clients = (client_for("html", owner, world, api, signed_in),
               client_for("api", owner, world, api, signed_in))  # fmt: skip
    corpus = list(CORPUS[fmt].items())
    if fmt == "json":
        corpus += list(hostile_exports(clients[1], project_id))
    failures = []
    for label, data in corpus:
        before = fingerprint()
        try:
            response = send(mode, fmt, data, clients, project_id)
        except Exception as exc:  # the test app propagates what would have been a 500
            failures.append(f"{label}: raised {exc!r}")
            continue
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code} {response.text[:200]}")
        elif response.status_code >= 400 and fingerprint() != before:
            failures.append(f"{label}: refused with {response.status_code} but changed data")
    assert not failures, failures


def counts():
    """How many tables and projects the designer holds."""
    return [
        database.execute_sql(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("project", "data_table", "data_field", "schema_version")
    ]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (SQL["a NUL between two statements"], "NUL byte at byte offset 24 (line 2)"),
        (SQL["invalid UTF-8"], "cannot be read from byte offset 13 (line 1)"),
    ],
)
@pytest.mark.parametrize("action", ["import/preview", "import"])
def test_an_upload_with_a_nul_or_not_utf8_is_refused_naming_the_byte(
    action, data, words, world, api, signed_in
):
    """A NUL between two statements once imported only the first, and said nothing."""
    client, before = client_for("html", "owner", world, api, signed_in), counts()
    upload = {"format": "sql", "file": (io.BytesIO(data), "schema.sql")}
    response = client.post(f"/projects/{world['ids']['p']}/{action}", data=upload)
    assert response.status_code == 422
    assert words in response.text
    assert counts() == before


@pytest.mark.parametrize(
    ("cap", "value", "status", "words"),
    [
        ("import_max_bytes", 100, 413, "an import reads at most 100 KB of SQL"),
        ("import_max_statements", 2, 413, "3 statements: an import reads at most 2"),
        ("import_max_tables", 1, 413, "more than 1 tables"),
        ("import_max_seconds", 0, 422, "took longer than 0 s"),
    ],
)
def test_the_caps_refuse_a_file_beyond_them_and_nothing_is_written(
    cap, value, status, words, world, api, signed_in, monkeypatch
):
    monkeypatch.setattr(settings, cap, value * 1024 if cap == "import_max_bytes" else value)
    text = (
        "CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n-- " + "x" * 110 * 1024 + "\nSET a = 1;"
    )
    web, before = client_for("html", "owner", world, api, signed_in), counts()
    upload = {"format": "sql", "file": (io.BytesIO(text.encode()), "schema.sql")}
    page = web.post(f"/projects/{world['ids']['p']}/import", data=upload)
    assert (page.status_code, words in page.text) == (status, True)
    answer = api(world["actors"]["owner"]).post(
        "/projects/import?format=sql", json={"source": text, "confirm": True, "name": "Big"}
    )
    assert answer.status_code == status
    assert words in answer.json["error"]["message"]
    assert counts() == before


def test_an_upload_over_the_cap_is_too_large_even_cut_inside_a_character(
    world, api, signed_in, monkeypatch
):
    """Read up to the cap, the file below ended inside the é: it was refused as not UTF-8."""
    monkeypatch.setattr(settings, "import_max_bytes", 13)
    client, before = client_for("html", "owner", world, api, signed_in), counts()
    upload = {"format": "sql", "file": (io.BytesIO("CREATE TABLE é ();".encode()), "s.sql")}
    response = client.post(f"/projects/{world['ids']['p']}/import/preview", data=upload)
    assert response.status_code == 413
    assert "This file is 19 bytes: an import reads at most 13 bytes of SQL." in response.text
    assert counts() == before
