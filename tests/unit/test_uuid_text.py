"""An id in a snapshot is a UUID written as str(uuid.UUID(...)) writes it; snapshot_rules.is_uuid
says so by a pattern, and must agree with parsing it on every text."""

import uuid

from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from designer.design.snapshot_rules import is_uuid


def parses_to_itself(value):
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def variants(made):
    """The ways one UUID can be written that uuid.UUID reads."""
    text = str(made)
    groups = text.split("-")
    # Each group alone in capitals (a pattern may get one group's letters wrong).
    capitals = [
        "-".join(g.upper() if n == i else g for n, g in enumerate(groups))
        for i in range(len(groups))
    ]
    return [
        text, text.upper(), made.hex, "{" + text + "}", "urn:uuid:" + text, text + "\n",
        " " + text, text[:-1], text + "0", text.replace("-", "", 1), *capitals,
    ]  # fmt: skip


@settings(max_examples=600, derandomize=True)
@given(st.uuids(), st.integers(min_value=0, max_value=14))
def test_is_uuid_agrees_with_parsing_on_every_way_of_writing_one(made, way):
    value = variants(made)[way]
    assert is_uuid(value) == parses_to_itself(value)


@settings(max_examples=300, derandomize=True)
@given(st.one_of(st.text(alphabet="0123456789abcdefABCDEF-{}:urn \n٣", max_size=40), st.none(),
                 st.integers()))  # fmt: skip
@example("12345678-1234-1234-1234-12345678901٣")
@example("12345678-1234-1234-1234-123456789012")
def test_is_uuid_agrees_with_parsing_on_any_text(value):
    assert is_uuid(value) == parses_to_itself(value)
