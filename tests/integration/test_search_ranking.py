"""Table search ranks: the table named as searched first, then names starting with the
query, names containing it, descriptions, and tables found only by a column; each group
by name."""

import pathlib

import pytest

from designer.design import fields
from designer.design import table_list
from designer.design import tables
from designer.interchange import imports
from designer.models import DataTable

DATA = pathlib.Path(__file__).resolve().parent.parent / "data"

# Pagila's rental table and its payment partitions (one per month: the full schema has
# them through several years), beside the excerpt's film catalogue, whose film table has
# rental_duration and rental_rate columns.
RENTAL = """
CREATE TABLE rental (
    rental_id integer NOT NULL,
    rental_date timestamp with time zone NOT NULL,
    inventory_id integer NOT NULL,
    customer_id integer NOT NULL,
    return_date timestamp with time zone,
    staff_id integer NOT NULL,
    last_update timestamp with time zone DEFAULT now() NOT NULL
);
"""
PAYMENT = """
CREATE TABLE payment_p{year}_{month:02d} (
    payment_id integer NOT NULL,
    customer_id integer NOT NULL,
    staff_id integer NOT NULL,
    rental_id integer NOT NULL,
    amount numeric(5,2) NOT NULL,
    payment_date timestamp with time zone NOT NULL
);
"""
PARTITIONS = [(year, month) for year in (2020, 2021, 2022, 2023, 2024) for month in range(1, 13)]


def names(project_id, query, **kw):
    return [t.name for t in table_list.list_tables(project_id, query, **kw)[0]]


@pytest.fixture
def rentals(alice, shop):
    made = {}
    for name, table_name, description in [
        ("Rental", "rental", ""),
        ("Rentals by month", "rentals_by_month", ""),
        ("Rental archive", "rental_archive", ""),
        ("Car", "car_rental", ""),
        ("Holiday rental", "holiday_rental", ""),
        ("Store", "store", "Where the rental desk is"),
        ("Payment", "payment", ""),
        ("Film", "film", ""),
        ("Actor", "actor", ""),
    ]:
        made[name] = tables.create_table(alice, shop.id, name, table_name, description)
    fields.create_field(alice, made["Payment"].id, {"name": "Rental", "field_name": "rental_id"})
    fields.create_field(alice, made["Film"].id, {"name": "Rental rate"})
    return made


def test_search_ranks_exact_then_prefix_then_contains_then_description_then_columns(shop, rentals):
    assert names(shop.id, "Rental") == [
        "Rental",
        "Rental archive",
        "Rentals by month",
        "Car",  # car_rental: the table name contains it
        "Holiday rental",
        "Store",
        "Film",
        "Payment",
    ]


def test_a_ranked_search_continues_page_by_page_without_a_gap_or_a_repeat(shop, rentals):
    whole = names(shop.id, "rental")
    seen, after = [], None
    while True:
        rows, after = table_list.list_tables(shop.id, "rental", after=after, limit=3)
        seen += [t.name for t in rows]
        if after is None:
            break
    assert seen == whole and len(whole) == 8


def test_searching_rental_in_pagila_puts_the_rental_table_first(alice, signed_in):
    sql = (DATA / "pagila_excerpt.sql").read_text() + RENTAL
    sql += "".join(PAYMENT.format(year=y, month=m) for y, m in PARTITIONS)
    project, _, _ = imports.import_new_project(alice, "Pagila", "sql", sql)
    found = table_list.list_tables(project.id, "rental")[0]
    assert [t.table_name for t in found[:2]] == ["rental", "film"]
    assert len(found) == 50  # a first page: the 60 partitions come after it
    # And so the project page lists it.
    page = signed_in(alice).get(f"/projects/{project.id}?q=rental", htmx=False).text
    rows = page.split('id="table-list"')[1].split("<tbody>")[1]
    assert rows.index(">Rental</a>") < rows.index(">Film</a>") < rows.index(">Payment p2020 01</a>")


def every_page(project_id, query, status="", limit=2, first_after=None):
    """[(names of a page, its cursor), ...] of a search, paged to its end."""
    pages, after = [], first_after
    while True:
        rows, after = table_list.list_tables(project_id, query, status, after, limit)
        pages.append(([t.name for t in rows], after))
        if after is None:
            return pages


BROAD = ["rental", "RENTAL", "rent", "desk", "rate", "rental_id", "ren", "al", "r", "nothing"]


def ranked(project_id, query, status):
    """The names a search shows, in order, as its ranks say, worked out here."""
    q = query.lower()
    rows = DataTable.select().where(DataTable.project == project_id)
    shown = []
    for t in rows:
        if status != "all" and (t.status == "deleted") != (status == "deleted"):
            continue
        if status not in ("", "all", "deleted") and t.status != status:
            continue
        if q not in t.search_text:
            continue
        names = (t.name.lower(), t.table_name.lower())
        rank = (
            0 if q in names
            else 1 if any(n.startswith(q) for n in names)
            else 2 if any(q in n for n in names)
            else 3 if q in t.description.lower()
            else 4
        )  # fmt: skip
        shown.append((rank, t.name))
    return [name for _, name in sorted(shown)]


@pytest.mark.parametrize("status", ["", "all", "deleted", "active"])
def test_a_broad_search_pages_as_the_index_does(shop, rentals, monkeypatch, status):
    """Past INDEXED_MATCHES, a search reads its groups apart (broad_search): the same pages
    and cursors as when the index named the tables, in the order the ranks give, a group
    split across pages or not, and from a cursor of an older page (a bare name)."""
    DataTable.update(status="deleted").where(DataTable.name == "Holiday rental").execute()
    DataTable.update(status="active").where(DataTable.name.in_(["Car", "Film"])).execute()
    broad, read_apart = table_list.broad_search, []

    def counted(*args):
        read_apart.append(args)
        return broad(*args)

    for query in BROAD:
        expected = ranked(shop.id, query, status)
        for limit in (1, 2, 3, 50):
            indexed = every_page(shop.id, query, status, limit)
            with monkeypatch.context() as patched:
                patched.setattr(table_list, "INDEXED_MATCHES", 0)
                patched.setattr(table_list, "broad_search", counted)
                assert every_page(shop.id, query, status, limit) == indexed, (query, limit)
            assert [name for names, _ in indexed for name in names] == expected, (query, limit)
        indexed = every_page(shop.id, query, status, first_after="Rental archive")
        with monkeypatch.context() as patched:
            patched.setattr(table_list, "INDEXED_MATCHES", 0)
            broad_pages = every_page(shop.id, query, status, first_after="Rental archive")
        assert broad_pages == indexed, query
    assert {args[1] for args in read_apart} == set(BROAD) - {"nothing"}
    expected = ranked(shop.id, "rental", status)
    assert len(expected) == {"": 7, "all": 8, "deleted": 1, "active": 2}[status]
    assert sum(len(names) for names, _ in every_page(shop.id, "rental", status)) == len(expected)
