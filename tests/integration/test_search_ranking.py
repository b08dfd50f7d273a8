"""Table search ranks: the table named as searched first, then names starting with the
query, names containing it, descriptions, and tables found only by a column; each group
by name."""

import pathlib

import pytest

from designer.design import fields
from designer.design import table_list
from designer.design import tables
from designer.interchange import imports

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
