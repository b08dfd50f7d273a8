"""The pages #27 made independent of the schema's size run as many queries at 3,000 tables
as at 100, and the live poll and the diagram's data answer as much: a version page (and its
further pages), compare, diagram.json, the project page and its live poll (unchanged: a 204
from the stamp alone). test_route_query_counts holds every route to this at 10 and 1,000.
"""

from designer import web
from designer.db import counting_queries
from designer.design import page_stamps
from designer.history import versions
from tests.integration.test_route_query_counts import get_routes
from tests.integration.test_route_query_counts import seed

PAGES = (
    "versions.show",
    "versions.compare",
    "diagram.data",
    "diagram.find_tables",
    "projects.show",
    "tables.project_live",
)


def measured(app, browser, values):
    """{route: (queries, status, bytes)} of the pages, and of the live poll an open, current
    project page sends."""
    stamp = page_stamps.project_stamp(values["project_id"])
    routes = [r for r in get_routes(app, values) if r[0].split(" ")[0] in PAGES]
    routes.append(("poll", f"/projects/{values['project_id']}/live?v={stamp}", True))
    found = {}
    for name, path, htmx in routes:
        with counting_queries() as counter:
            response = browser.get(path, htmx=htmx)
        assert response.status_code < 400, (name, response.status_code, response.text[:300])
        found[name] = (counter.count, response.status_code, len(response.data))
    return found


def test_the_scaled_pages_run_as_many_queries_at_3000_tables_as_at_100(
    app, alice, make_user, signed_in, monkeypatch
):
    monkeypatch.setattr(web, "SWEEP_EVERY_SECONDS", float("inf"))
    versions.cache.clear()
    bob = make_user("bob")
    browser = signed_in(alice)
    small = measured(app, browser, seed(alice, bob, 100))
    large = measured(app, browser, seed(alice, bob, 3000))
    assert small["poll"][1:] == large["poll"][1:] == (204, 0)
    grew = {
        name: (small[name][0], large[name][0]) for name in small if small[name][0] != large[name][0]
    }
    assert not grew, f"queries at 100 tables, at 3,000: {grew}"
    # 100 tables are drawn whole; of 3,000 only a neighbourhood is drawn and sent (the names
    # of the others are searched for): never more than the whole of 100.
    assert large["diagram.data"][2] < small["diagram.data"][2]
