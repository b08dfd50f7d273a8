"""The Import & export tab and the import-a-project page: preview, confirm, errors, roles."""

import io
import pathlib
import re

from designer import projects
from designer.interchange import import_database
from designer.models import DataTable
from designer.models import Project

DATA = pathlib.Path(__file__).parent.parent / "data"
CHINOOK = (DATA / "chinook.sql").read_bytes()
PAGILA = (DATA / "pagila_schema.sql").read_bytes()


def upload(data=CHINOOK, name="chinook.sql", **form):
    return {"file": (io.BytesIO(data), name), **form}


def test_the_preview_lists_what_will_happen_and_creates_nothing(alice, shop, signed_in):
    client = signed_in(alice)
    response = client.post(f"/projects/{shop.id}/import/preview", data=upload())
    assert response.status_code == 200
    page = response.text
    assert "Will create <strong>11</strong> tables" in page
    # Chinook's keys, composite ones included, are kept as they are: nothing to report.
    assert "primary key" not in page and "line 101" not in page
    assert 'name="source"' in page and 'value="sql"' in page
    assert DataTable.select().count() == 0


def test_confirming_the_preview_imports_and_goes_to_the_project(alice, shop, signed_in):
    client = signed_in(alice)
    source = CHINOOK.decode()
    response = client.post(
        f"/projects/{shop.id}/import", data={"format": "sql", "source": source, "filename": "c.sql"}
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/projects/{shop.id}"
    assert DataTable.select().where(DataTable.project == shop.id).count() == 11


def test_an_import_without_the_csrf_token_is_refused(alice, shop, signed_in):
    client = signed_in(alice)
    client.token = None
    response = client.post(
        f"/projects/{shop.id}/import", data={"format": "sql", "source": "CREATE TABLE a (b int);"}
    )
    assert response.status_code == 400
    assert DataTable.select().count() == 0


def test_a_file_that_is_not_sql_is_a_422_next_to_the_file_input(alice, shop, signed_in):
    client = signed_in(alice)
    response = client.post(
        f"/projects/{shop.id}/import/preview", data=upload(b"CREATE TABLE (", "x.sql")
    )
    assert response.status_code == 422
    assert "This is not SQL PostgreSQL can read (line 1)" in response.text
    unknown = client.post(f"/projects/{shop.id}/import/preview", data=upload(b"x", "x.csv"))
    assert unknown.status_code == 422 and "Choose the file" in unknown.text
    binary = client.post(
        f"/projects/{shop.id}/import/preview", data=upload(b"\xff\xfe\x00", "x.sql")
    )
    assert binary.status_code == 422 and "UTF-8" in binary.text


def test_a_viewer_sees_the_exports_but_no_import_form(alice, shop, make_user, signed_in):
    vic = make_user("vic")
    projects.add_member(alice, shop.id, "vic", "viewer")
    page = signed_in(vic).get(f"/projects/{shop.id}/transfer", htmx=False)
    assert "Export DBML" in page.text
    assert f'Export PNG on the <a href="/projects/{shop.id}/diagram">Diagram</a>' in page.text
    assert "Preview import" not in page.text


def test_a_new_project_from_a_file_previews_then_creates(alice, signed_in):
    client = signed_in(alice)
    assert "Import a project" in client.get("/projects/import", htmx=False).text
    preview = client.post("/projects/import/preview", data=upload())
    assert preview.status_code == 200 and "Will create <strong>11</strong> tables" in preview.text
    assert 'name="name" value="chinook"' in preview.text
    assert Project.select().count() == 0
    done = client.post(
        "/projects/import", data={"format": "sql", "source": CHINOOK.decode(), "name": "chinook"}
    )
    project = Project.get(Project.name == "chinook")
    assert done.headers["HX-Redirect"] == f"/projects/{project.id}"
    assert DataTable.select().where(DataTable.project == project.id).count() == 11


def test_a_new_project_from_a_schema_previews_with_the_sql_it_read(
    alice, signed_in, roles, monkeypatch
):
    from designer.settings import settings
    from tests.on_target import on_target

    on_target(
        f"SET ROLE {roles['target']}; CREATE SCHEMA old;"
        " CREATE TABLE old.things (id bigint PRIMARY KEY, label text)"
    )
    # No project reserved it: an administrator lists it as importable.
    monkeypatch.setattr(settings, "import_target_schemas", frozenset({"old"}))
    client = signed_in(alice)
    preview = client.post("/projects/import/database/preview", data={"schema": "old"})
    assert preview.status_code == 200, preview.text
    assert "The schema as read from the database" in preview.text
    assert 'name="schema" value="old"' in preview.text
    done = client.post("/projects/import/database", data={"schema": "old", "name": "Old"})
    project = Project.get(Project.name == "Old")
    assert done.headers["HX-Redirect"] == f"/projects/{project.id}"
    missing = client.post("/projects/import/database/preview", data={"schema": "nope"})
    assert missing.status_code == 422 and "There is no schema nope to import." in missing.text


def test_the_pagila_preview_sums_up_first_and_folds_its_findings(alice, signed_in):
    page = signed_in(alice).post("/projects/import/preview", data=upload(PAGILA, "p.sql")).text
    summary = page[: page.index('<details class="import-tables"')]
    assert "<strong>71</strong> tables" in summary
    # 106 OWNER TO, 11 SET and 5 others; its 13 sequences are kept as their columns' serials.
    assert "<strong>122</strong> statements ignored" in summary
    assert "OWNER TO ×106, SET ×11, SELECT" in summary and "CREATE SEQUENCE" not in summary
    assert re.search(r"<strong>\d+</strong> cannot be represented", summary)
    assert "<details open" not in page and page.count("<details") > 3
    assert "55 tables alike" in page
    assert "refers to a table the file does not create" not in page.replace(
        "<code>rental_by_category</code>: refers to a table the file does not create", ""
    )
    assert "AT_" not in page and "Define" not in page and "Grant" not in page
    assert page.count('form="import-confirm">Import</button>') == 2
    assert page.count('href="/projects/import">Cancel</a>') == 2
    assert Project.select().count() == 0


def test_pasted_text_previews_and_imports_like_a_file(alice, signed_in):
    client = signed_in(alice)
    sql = client.post("/projects/import/preview", data={"source": "CREATE TABLE a (b int);"})
    assert sql.status_code == 200 and "Preview: pasted SQL" in sql.text
    assert 'name="name" value="Pasted SQL"' in sql.text
    dbml = client.post("/projects/import/preview", data={"source": "Table a {\n  b int\n}\n"})
    assert dbml.status_code == 200 and "Preview: pasted DBML" in dbml.text
    empty = client.post("/projects/import/preview", data={"source": "  "})
    assert empty.status_code == 422 and "Choose a file, or paste its text." in empty.text
    confirmed = {"source": "CREATE TABLE a (b int);", "format": "sql", "name": "Pasted SQL"}
    done = client.post("/projects/import", data={**confirmed, "filename": ""})
    project = Project.get(Project.name == "Pasted SQL")
    assert done.headers["HX-Redirect"] == f"/projects/{project.id}"
    assert [t.table_name for t in DataTable.select()] == ["a"]


def test_the_deploy_targets_importable_schemas_are_offered_in_a_list(
    alice, shop, signed_in, monkeypatch
):
    from designer.settings import settings
    from tests.on_target import on_target

    on_target("CREATE SCHEMA legacy; CREATE SCHEMA archive; CREATE SCHEMA unlisted")
    # Schemas no project reserved are offered only when an administrator lists them.
    monkeypatch.setattr(settings, "import_target_schemas", frozenset({"legacy", "archive"}))
    offered = import_database.schema_names(alice)
    assert {"legacy", "archive"} <= set(offered) and "unlisted" not in offered
    client = signed_in(alice)
    for url in ("/projects/import", f"/projects/{shop.id}/transfer"):
        page = client.get(url, htmx=False).text
        listed = page[page.index('<select id="import-schema"') :]
        listed = listed[: listed.index("</select>")]
        assert re.findall(r'<option value="([^"]+)"', listed) == offered
