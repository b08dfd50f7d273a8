"""#24 item 4, nothing lost without a word: every node of each tests/data schema's parse tree
(pglast's, read by the test itself) is in the imported design or named by a finding of the
preview on its line. What the design holds of a table (keys, defaults, indexes...) is
checked against the catalog by test_fidelity; here, that each statement is accounted for."""

import pytest

from designer.interchange import imports
from tests import fidelity


@pytest.mark.parametrize("name", fidelity.schema_files())
def test_every_statement_of_the_file_is_in_the_design_or_named_on_its_line(name, app):
    text = (fidelity.DATA / name).read_text()
    plan = imports.plan_text("sql", text)
    missing = fidelity.unaccounted(plan, fidelity.Lines(text))
    assert not missing, f"{len(missing)} nodes neither designed nor named:\n" + "\n".join(missing)
