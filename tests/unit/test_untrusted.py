"""Raw input the designer cannot store or read is found before any view runs."""

import pytest

from designer.untrusted import UnreadableInput
from designer.untrusted import first_bad_json_value
from designer.untrusted import first_unstorable
from designer.untrusted import is_storable
from designer.untrusted import json_depth
from designer.untrusted import load_json


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfff"])
def test_nul_and_lone_surrogates_cannot_be_stored(text):
    assert not is_storable(text)


@pytest.mark.parametrize("text", ["", "plain", "emoji \U0001f600", "tab\tnew\nline"])
def test_ordinary_text_can_be_stored(text):
    assert is_storable(text)


def test_the_first_unstorable_pair_is_named_by_its_key():
    assert first_unstorable([("name", "ok"), ("reason", "a\x00"), ("q", "\x00")]) == "reason"
    assert first_unstorable([("na\x00me", "ok")]) == "name"
    assert first_unstorable([("name", "ok")]) is None


def test_bad_json_values_are_named_by_the_key_holding_them():
    assert first_bad_json_value({"a": {"reason": ["ok", "\ud800"]}})[0] == "reason"
    assert first_bad_json_value({"min": float("inf")})[0] == "min"
    assert first_bad_json_value({"\x00": 1})[0] == "body"
    assert first_bad_json_value({"name": "fine", "n": 1.5}) is None


@pytest.mark.parametrize(
    "raw", [b"[" * 1000 + b"]" * 1000, b'{"a":' * 40 + b"1" + b"}" * 40, b"NaN", b"{", b"\xff"]
)
def test_unreadable_json_is_refused(raw):
    with pytest.raises(UnreadableInput):
        load_json(raw)


def test_json_within_the_depth_limit_is_read():
    assert load_json(b'{"a": [{"b": 1}]}') == {"a": [{"b": 1}]}
    assert json_depth({"a": [{"b": 1}]}) == 3
    assert json_depth(1) == 0
