"""The projects list and the project page count tables once per change of the project, not
on every view: counting reads every table of the project (#27)."""

from designer import projects
from designer.db import counting_queries
from designer.design import table_list
from designer.design import tables


def test_the_status_counts_are_counted_again_only_after_a_change(alice, shop):
    tables.create_table(alice, shop.id, "Orders")
    assert table_list.status_counts(shop.id)["draft"] == 1
    with counting_queries() as counter:
        assert table_list.status_counts(shop.id)["draft"] == 1
    assert counter.count == 1  # the project's stamp only
    tables.create_table(alice, shop.id, "Lines")
    assert table_list.status_counts(shop.id)["draft"] == 2


def test_the_projects_list_counts_tables_again_only_after_a_change(alice, shop):
    other = projects.create_project(alice, "Other")
    tables.create_table(alice, shop.id, "Orders")
    counted = {p.name: p.table_count for p in projects.projects_for(alice)}
    assert counted == {"Shop": 1, "Other": 0}
    with counting_queries() as counter:
        counted = {p.name: p.table_count for p in projects.projects_for(alice)}
    assert counted == {"Shop": 1, "Other": 0}
    assert counter.count == 1  # the projects with their counters only
    tables.create_table(alice, other.id, "Notes")
    with counting_queries() as counter:
        counted = {p.name: p.table_count for p in projects.projects_for(alice)}
    assert counted == {"Shop": 1, "Other": 1}
    assert counter.count == 2  # and one count, of the project that changed
