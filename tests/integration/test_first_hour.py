"""Small frictions of a newcomer's first hour, each fixed: words, feedback, focus, names."""

import re


def label_texts(page):
    return re.findall(r'<label for="[^"]+">([^<]+)</label>', page)


def test_a_many_to_many_form_names_its_tables_first_and_second(alice, shop, signed_in):
    client = signed_in(alice)
    url = f"/projects/{shop.id}/relationships/form"
    pair = label_texts(client.get(url, query_string={"relationship_type": "many_to_many"}).text)
    assert "First table" in pair and "Second table" in pair
    assert "One table" not in pair and "Many table" not in pair
    single = label_texts(client.get(url, query_string={"relationship_type": "one_to_many"}).text)
    assert "One table" in single and "Many table" in single
