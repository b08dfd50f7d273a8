"""#24's proof on every schema in tests/data: the file applied by psql, and imported through
the app, activated and deployed, are equal in pg_catalog except what the import preview
named (tests/fidelity.py says how each is read, compared and traced to its line)."""

import pytest

from tests import fidelity


@pytest.mark.parametrize("name", fidelity.schema_files())
def test_import_then_deploy_gives_back_the_file_except_what_the_preview_names(
    name, alice, fresh_database, deploy_database_url
):
    source_url = fresh_database("dmd_source")
    text = fidelity.as_server_runs(source_url, (fidelity.DATA / name).read_text())
    fidelity.prepare(source_url, text)
    fidelity.prepare(deploy_database_url, text)
    fidelity.apply_with_psql(source_url, text, name)
    plan, schema, _ = fidelity.import_and_deploy(alice, name.removesuffix(".sql"), text)
    lines = fidelity.Lines(text)
    comparison = fidelity.compare(
        fidelity.read_catalog(source_url, "public"),
        fidelity.read_catalog(deploy_database_url, schema),
        lines,
        fidelity.renamed(plan),
    )
    assert comparison.tallies["tables"].total > 0, "the file created no table in psql"
    silent = fidelity.unnamed(comparison, plan, lines)
    assert not silent, f"{len(silent)} differences the preview does not name:\n" + "\n".join(
        map(str, silent)
    )
