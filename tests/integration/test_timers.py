"""No polling timer lives inside a region that something on the page replaces.

htmx starts an element's `every Ns` timer when the element is processed; if
a swap replaces the element (or any ancestor), the timer starts over. A
heartbeat inside a panel that polls faster than it beats never fires at all:
the defect that once let every lock lapse while its page was open. A timer
may replace itself (that is how a poll works); nothing else may replace it.
"""

import pathlib
import re
from html.parser import HTMLParser

import pytest

from designer import locks
from designer import projects
from designer.design import fields
from designer.design import tables

TEMPLATES = pathlib.Path(__file__).resolve().parents[2] / "templates"
VERBS = ("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def inherited(self, name):
        for node in (self, *self.ancestors()):
            if name in node.attrs:
                return node.attrs[name]
        return None

    def __repr__(self):
        return f"<{self.tag} {self.attrs.get('id', '')}>"


class Tree(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.root = Element("#root", {}, None)
        self.current = self.root
        self.elements = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.current)
        self.elements.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent


def out_of_band_ids():
    """Ids that some response replaces out of band (hx-swap-oob="true" in a template)."""
    ids = set()
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<[a-z]+\b[^>]*hx-swap-oob=\"true\"[^>]*>", path.read_text()):
            found = re.search(r'\bid="([^"{]+)"', tag)
            if found:
                ids.add(found.group(1))
    return ids | {"flash"}  # errors are retargeted into #flash


def replaced_regions(tree):
    """Every element some swap on this page can replace (or empty and refill)."""
    by_id = {e.attrs["id"]: e for e in tree.elements if "id" in e.attrs}
    regions = {id(by_id[i]) for i in out_of_band_ids() if i in by_id}
    for element in tree.elements:
        if not any(verb in element.attrs for verb in VERBS):
            continue
        if element.inherited("hx-swap") == "none":
            continue
        target = element.inherited("hx-target") or "this"
        if target == "this":
            regions.add(id(element))
        elif target.startswith("#") and target[1:] in by_id:
            regions.add(id(by_id[target[1:]]))
        elif target.startswith("closest "):
            wanted = target.split(" ", 1)[1]
            hit = next((a for a in element.ancestors() if a.tag == wanted), None)
            if hit is not None:
                regions.add(id(hit))
    return regions


def misplaced_timers(html):
    """Timers (hx-trigger "every …") with an ancestor that a swap replaces."""
    tree = Tree(html)
    regions = replaced_regions(tree)
    bad = []
    for element in tree.elements:
        if "every " not in element.attrs.get("hx-trigger", ""):
            continue
        inside = [a for a in element.ancestors() if id(a) in regions]
        if inside:
            bad.append((element, inside))
    return bad


@pytest.fixture
def team(make_user):
    owner, editor, viewer = make_user("olga"), make_user("eddie"), make_user("vera")
    project = projects.create_project(owner, "Shop")
    projects.add_member(owner, project.id, "eddie", "editor")
    projects.add_member(owner, project.id, "vera", "viewer")
    table = tables.create_table(owner, project.id, "Orders")
    field = fields.create_field(owner, table.id, {"name": "Total", "data_type": "number"})
    return {"owner": owner, "editor": editor, "viewer": viewer, "project": project,
            "table": table, "field": field}  # fmt: skip


def test_the_checker_finds_a_heartbeat_inside_a_polled_panel():
    html = (
        '<section id="panel" hx-get="/p" hx-trigger="every 5s" hx-swap="outerHTML">'
        '<div hx-post="/beat" hx-trigger="every 20s" hx-swap="none"></div></section>'
        '<div id="keeper" hx-post="/beat" hx-trigger="every 20s" hx-swap="none"></div>'
    )
    [(timer, inside)] = misplaced_timers(html)
    assert timer.attrs["hx-post"] == "/beat" and inside[0].attrs["id"] == "panel"


@pytest.mark.parametrize("viewer_role", ["editor", "owner", "viewer"])
@pytest.mark.parametrize("lock_state", ["mine", "theirs", "free", "form open"])
def test_no_timer_on_the_table_page_sits_in_a_replaced_region(
    team, signed_in, viewer_role, lock_state
):
    me = team[viewer_role]
    table = team["table"]
    web = signed_in(me)
    if lock_state == "mine" and viewer_role != "viewer":
        web.post(f"/tables/{table.id}/lock", data={"lock_type": "pessimistic"})
    elif lock_state == "theirs":
        other = team["owner"] if viewer_role != "owner" else team["editor"]
        locks.acquire(table.id, other, "pessimistic", "splitting the address")
    page = web.get(f"/tables/{table.id}", htmx=False).text
    if lock_state == "form open" and viewer_role != "viewer":
        page = page.replace(
            f'<tr id="field-{team["field"].id}"',
            web.get(f"/fields/{team['field'].id}/edit").text + "<tr data-replaced",
        )
    assert "every " in page
    assert misplaced_timers(page) == []
    if viewer_role != "viewer":
        keeper = next(e for e in Tree(page).elements if e.attrs.get("id") == "lock-keeper")
        assert "every 20000ms" in keeper.attrs["hx-trigger"]


@pytest.mark.parametrize(
    "path", ["/projects/{p}", "/projects/{p}/diagram", "/projects/{p}/timeline"]
)
def test_no_timer_on_project_pages_sits_in_a_replaced_region(team, signed_in, path):
    web = signed_in(team["editor"])
    page = web.get(path.format(p=team["project"].id), htmx=False).text
    assert misplaced_timers(page) == []
