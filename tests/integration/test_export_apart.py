"""Large SQL, DBML and Mermaid exports written by a child process (designer/interchange/
export_apart.py, #27): the file is the one the worker writes itself, the child reads only
what the user it acts for may read, and a failure or a design that changed meanwhile is
never kept as the file its key names."""

import gzip
import pathlib

import pytest

from designer.design import tables
from designer.history import versions
from designer.interchange import downloads
from designer.interchange import export_apart
from designer.interchange import export_formats
from designer.interchange import exports
from designer.interchange import imports
from designer.settings import settings

DATA = pathlib.Path(__file__).parent.parent / "data"


@pytest.fixture
def apart(monkeypatch):
    """Every export of a whole-design format written by a child (any size of design)."""
    monkeypatch.setattr(settings, "export_apart_tables", 0)


@pytest.fixture
def rich(alice, shop):
    imports.import_into(alice, shop.id, "sql", (DATA / "every_setting.sql").read_text())
    return shop


def downloaded(browser, project_id, fmt, version=None):
    query = f"?version={version}" if version else ""
    response = browser.get(
        f"/projects/{project_id}/export/{fmt}{query}",
        htmx=False,
        headers={"Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return gzip.decompress(response.get_data()).decode("utf-8")


def whole(project_id, fmt, schema, version=None):
    snapshot, _ = versions.resolve(project_id, version or "working")
    return export_formats.full_text(snapshot, fmt, schema)


@pytest.mark.parametrize("fmt", exports.WHOLE_DESIGN_FORMATS)
def test_a_file_written_apart_is_the_file_written_here(alice, rich, signed_in, apart, fmt):
    tables.create_table(alice, rich.id, "In the version")
    saved = versions.save_version(alice, rich.id).version_number
    made = tables.create_table(alice, rich.id, "Added later")
    tables.update_table(alice, made.id, made.revision, description="Not in the version.")
    browser = signed_in(alice)
    before = export_apart.work["apart"]
    for version in (None, saved):
        text = downloaded(browser, rich.id, fmt, version)
        assert text == whole(rich.id, fmt, rich.target_schema, version)
        assert ("added_later" in text) == (version is None)
    assert export_apart.work["apart"] == before + 2
    # Kept as any download is: the repeat is read from PostgreSQL, not written again.
    built = downloads.work["built"]
    assert downloaded(browser, rich.id, fmt) == whole(rich.id, fmt, rich.target_schema)
    assert downloads.work["built"] == built and export_apart.work["apart"] == before + 2


def test_a_small_design_is_written_here(alice, rich, signed_in):
    before = export_apart.work["apart"]
    assert downloaded(signed_in(alice), rich.id, "sql") == whole(rich.id, "sql", rich.target_schema)
    assert export_apart.work["apart"] == before
    assert settings.export_apart_tables > 1000  # (the default writes only large designs apart)


def job_for(user, project, fmt="sql", scope=None):
    return {
        "url": settings.designer_database_url,
        "scope": scope if scope is not None else [str(user.id), "", ""],
        "user": str(user.id),
        "project": str(project.id),
        "fmt": fmt,
        "version": None,
        "key": ["no key names this", fmt, project.target_schema, "stem"],
    }


def test_the_child_reads_only_what_its_user_may_read(alice, make_user, rich):
    """Asked for alice's project while acting for mallory (who is no member), the child
    finds nothing: it is bound by the policies and by the project's access check."""
    mallory = make_user("mallory")
    ended = []
    job = job_for(mallory, rich)
    with pytest.raises(export_apart.ExportFailed) as failed:
        "".join(export_apart.text_apart(job, ended.append))
    assert "could not be written" in str(failed.value)
    assert ended == []
    # Named as alice but acting for mallory: the connection's scope binds it all the same.
    as_mallory = job_for(alice, rich, scope=[str(mallory.id), "", ""])
    with pytest.raises(export_apart.ExportFailed):
        "".join(export_apart.text_apart(as_mallory, ended.append))
    # And the same job acting for alice writes her file.
    text = "".join(export_apart.text_apart(job_for(alice, rich), ended.append))
    assert text == whole(rich.id, "sql", rich.target_schema)


def test_content_its_key_does_not_name_is_never_kept(alice, rich):
    """The child says whether what it wrote is what the worker's key names: a key made
    before a change (another stamp) is not, and a downloaded file is kept only when it is."""
    ended = []
    "".join(export_apart.text_apart(job_for(alice, rich), ended.append))
    assert ended == [False]
    source = exports.Source(alice, rich.id, "sql")
    job = {**job_for(alice, rich), "key": list(source.key_parts())}
    "".join(export_apart.text_apart(job, ended.append))
    assert ended == [False, True]


def test_a_child_that_fails_is_reported_and_reaped(alice, rich):
    job = {**job_for(alice, rich), "url": "postgresql://nobody@127.0.0.1:1/none"}
    with pytest.raises(export_apart.ExportFailed) as failed:
        "".join(export_apart.text_apart(job, lambda fixed: None))
    # Our own words, not the child's exception (which names the server it tried).
    assert "127.0.0.1" not in str(failed.value)


def test_the_size_that_decides_is_the_designs_own(alice, rich):
    """A version is measured by its own tables (its manifest), the working copy by its own."""
    count = len(versions.resolve(rich.id, "working")[0]["tables"])
    tables.create_table(alice, rich.id, "One more")
    saved = versions.save_version(alice, rich.id).version_number
    for made in range(2):
        tables.create_table(alice, rich.id, f"Later {made}")
    assert exports.Source(alice, rich.id, "sql", saved).table_count() == count + 1
    assert exports.Source(alice, rich.id, "sql").table_count() == count + 3
