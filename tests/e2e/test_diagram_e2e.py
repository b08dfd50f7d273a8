"""In the browser: the diagram of a real schema can be zoomed, panned, searched, opened
and exported, and what users write is drawn as text."""

import re
import xml.etree.ElementTree as ET

from playwright.sync_api import expect

from designer import projects
from designer.design import fields
from designer.design import relationships
from designer.design import schema_graph
from designer.design import tables
from tests.e2e.conftest import sign_in

MARKUP = "<img src=x onerror=alert(1)> %%{init: {'theme': 'dark'}}%%"


def seed(user, count):
    """A project of `count` tables, each linked to a parent table (a tree of three-way forks)."""
    project = projects.create_project(user, "Warehouse")
    made = []
    for i in range(count):
        table = tables.create_table(user, project.id, f"Table {i:03d}")
        fields.create_field(user, table.id, {"name": "Label"})
        if made:
            parent = made[(i - 1) // 3]
            relationships.create_relationship(
                user,
                project.id,
                {"source_table_id": str(parent.id), "target_table_id": str(table.id)},
            )
        made.append(table)
    return project, made


def scale_and_pan(page):
    """Panzoom's current transform of the drawing: (scale, x, y)."""
    transform = page.locator(".diagram-canvas").evaluate("node => node.style.transform")
    found = re.search(r"scale\(([-\d.e]+)\) translate\(([-\d.e]+)px, ([-\d.e]+)px\)", transform)
    assert found, transform
    return tuple(float(v) for v in found.groups())


def open_diagram(page, project):
    sign_in(page)
    page.goto(f"/projects/{project.id}/diagram")
    expect(page.locator("#diagram[data-drawn]")).to_have_count(1)


def test_a_diagram_of_100_tables_zooms_pans_opens_a_table_and_exports(page, user, tmp_path):
    project, made = seed(user, 100)
    open_diagram(page, project)
    drawing = page.locator("#diagram svg")
    expect(drawing.locator("a.table")).to_have_count(100)
    expect(drawing.locator("g.link")).to_have_count(99)
    expect(page.get_by_role("status")).to_contain_text("Showing all 100 tables")

    # Fit: the whole drawing inside the frame.
    frame = page.locator("#diagram").bounding_box()
    drawn = page.locator(".diagram-canvas").bounding_box()
    assert drawn["width"] <= frame["width"] + 1 and drawn["height"] <= frame["height"] + 1
    fitted, _, _ = scale_and_pan(page)

    page.get_by_role("button", name="Zoom in").click()
    # Panzoom applies each transform on the next animation frame: wait for it to come.
    page.wait_for_function(
        "fitted => new DOMMatrix(getComputedStyle(document.querySelector('.diagram-canvas'))"
        ".transform).a > fitted",
        arg=fitted,
    )
    zoomed, _, _ = scale_and_pan(page)
    assert zoomed > fitted
    page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    page.mouse.wheel(0, 400)
    page.wait_for_function(
        "zoomed => new DOMMatrix(getComputedStyle(document.querySelector('.diagram-canvas'))"
        ".transform).a < zoomed",
        arg=zoomed,
    )

    _, x, y = scale_and_pan(page)
    page.mouse.move(frame["x"] + 40, frame["y"] + 40)
    page.mouse.down()
    page.mouse.move(frame["x"] + 140, frame["y"] + 100, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "([x, y]) => { const m = /translate\\(([-\\d.e]+)px, ([-\\d.e]+)px\\)/"
        ".exec(document.querySelector('.diagram-canvas').style.transform);"
        " return m !== null && (Number(m[1]) !== x || Number(m[2]) !== y); }",
        arg=[x, y],
    )
    _, panned_x, panned_y = scale_and_pan(page)
    assert (panned_x, panned_y) != (x, y)
    expect(page).to_have_url(re.compile(r"/diagram"))

    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Export SVG").click()
    path = tmp_path / "diagram.svg"
    downloaded.value.save_as(path)
    svg = ET.parse(path).getroot()  # noqa: S314 (the file this test just exported)
    words = {node.text for node in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert {table.table_name for table in made} <= words

    page.get_by_label("Find table").fill("table_042")
    page.get_by_role("button", name="Find").click()
    chosen = drawing.locator("a.table.chosen")
    expect(chosen).to_have_attribute("data-name", "table_042")
    chosen.click()
    expect(page).to_have_url(re.compile(rf"/tables/{made[42].id}$"))
    expect(page.get_by_role("heading", name="Table 042")).to_be_visible()


def test_pointing_at_a_table_lights_up_its_neighbours(page, user):
    project, made = seed(user, 8)
    open_diagram(page, project)
    page.locator('a.table[data-name="table_001"]').hover()
    lit = page.locator("#diagram svg.highlighting a.table.lit")
    # table_001's parent is table_000; its children are table_004, 005 and 006.
    expect(lit).to_have_count(5)
    names = sorted(lit.evaluate_all("nodes => nodes.map(n => n.dataset.name)"))
    assert names == ["table_000", "table_001", "table_004", "table_005", "table_006"]
    expect(page.locator("#diagram svg g.link.lit")).to_have_count(4)


def test_each_line_starts_at_the_column_holding_the_foreign_key(page, user):
    project, made = seed(user, 2)
    open_diagram(page, project)
    column = page.locator('a.table[data-name="table_001"] g.column[data-column="table_000_id"]')
    expect(column).to_contain_text("FK")
    row = column.bounding_box()
    path = page.locator("#diagram g.link path")
    start = path.evaluate("p => { const m = p.getScreenCTM(); const s = p.getPointAtLength(0);"
                          " return {x: s.x * m.a + m.e, y: s.y * m.d + m.f}; }")  # fmt: skip
    assert row["y"] <= start["y"] <= row["y"] + row["height"]


def test_a_png_export_is_an_image_of_the_drawing(page, user, tmp_path):
    project, _ = seed(user, 3)
    open_diagram(page, project)
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Export PNG").click()
    path = tmp_path / "diagram.png"
    downloaded.value.save_as(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 200 and height > 50


def test_a_big_schema_starts_at_a_neighbourhood_and_search_moves_it(page, user, monkeypatch):
    monkeypatch.setattr(schema_graph, "DRAW_LIMIT", 10)
    project, made = seed(user, 30)
    open_diagram(page, project)
    drawing = page.locator("#diagram svg")
    expect(page.get_by_role("status")).to_contain_text("of 30 tables")
    # The best connected table first: table_001 to table_009 have four neighbours each
    # (a parent, three children), and the first by name is chosen.
    expect(drawing.locator("a.table.chosen")).to_have_attribute("data-name", "table_001")
    expect(drawing.locator("a.table")).to_have_count(5)
    page.get_by_label("Find table").fill("table_029")
    page.get_by_role("button", name="Find").click()
    expect(drawing.locator('a.table[data-name="table_029"]')).to_have_count(1)
    expect(drawing.locator('a.table[data-name="table_009"]')).to_have_count(1)
    expect(drawing.locator("a.table")).to_have_count(2)
    page.get_by_label("Tables shown").select_option("2")
    # table_009's parent table_002 and its other child table_028 join.
    expect(drawing.locator("a.table")).to_have_count(4)
    expect(page).to_have_url(re.compile(rf"focus={made[29].id}&steps=2"))


def test_typing_offers_tables_not_drawn_and_a_prefix_finds_one(page, user, monkeypatch):
    monkeypatch.setattr(schema_graph, "DRAW_LIMIT", 10)
    project, _ = seed(user, 30)
    open_diagram(page, project)
    expect(page.get_by_role("status")).to_contain_text("of 30 tables")
    page.get_by_label("Find table").press_sequentially("table_02")
    options = page.locator("#diagram-table-names option")
    expect(options).to_have_count(10)  # table_020 … table_029, none of them drawn
    expect(options.first).to_have_attribute("value", "table_020")
    page.get_by_role("button", name="Find").click()
    drawing = page.locator("#diagram svg")
    expect(drawing.locator("a.table.chosen")).to_have_attribute("data-name", "table_020")
    page.get_by_label("Find table").fill("no_such_table")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("status")).to_contain_text("No table is named “no_such_table”.")


def test_names_are_drawn_as_literal_text(page, user):
    shop = projects.create_project(user, "Shop")
    orders = tables.create_table(user, shop.id, "Orders")
    fields.create_field(user, orders.id, {"name": MARKUP, "field_name": "amount"})
    fields.create_field(user, orders.id, {"name": 'Note "quoted" %% not a comment'})
    open_diagram(page, shop)
    svg = page.locator("#diagram svg")
    expect(svg).to_contain_text(MARKUP)
    expect(svg).to_contain_text('Note "quoted" %% not a comment')
    expect(svg.locator("img")).to_have_count(0)
    expect(page.get_by_text("could not be drawn")).to_have_count(0)


def table_places(page):
    """Each drawn table's translate(), by name."""
    return dict(
        page.locator("#diagram svg a.table").evaluate_all(
            "nodes => nodes.map(n => [n.dataset.name, n.getAttribute('transform')])"
        )
    )


def test_a_reopened_diagram_reuses_its_layout_until_the_schema_changes(page, user):
    project, made = seed(user, 6)
    open_diagram(page, project)
    figure = page.locator("#diagram")
    expect(figure).to_have_attribute("data-layout", "computed")
    computed = table_places(page)

    page.reload()
    expect(figure).to_have_attribute("data-layout", "kept")
    assert table_places(page) == computed
    expect(page.locator("#diagram svg g.link")).to_have_count(5)
    kept = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    assert "table_000" not in kept and "Table 000" not in kept

    fields.create_field(user, made[0].id, {"name": "Added later"})
    page.reload()
    expect(figure).to_have_attribute("data-layout", "computed")
    added = page.locator('a.table[data-name="table_000"] g.column[data-column="added_later"]')
    expect(added).to_have_count(1)


def test_a_teammates_new_column_is_drawn_without_a_reload(page, user):
    project, made = seed(user, 3)
    open_diagram(page, project)
    drawn = page.locator("#diagram").get_attribute("data-drawn")
    fields.create_field(user, made[1].id, {"name": "Added by a teammate"})
    added = page.locator(
        'a.table[data-name="table_001"] g.column[data-column="added_by_a_teammate"]'
    )
    expect(added).to_have_count(1, timeout=15_000)
    assert page.locator("#diagram").get_attribute("data-drawn") != drawn
    expect(page.locator("#diagram svg")).to_have_count(1)


def test_a_diagram_of_50_tables_fits_1280_by_800_after_fit(browser, base_url, user):
    project, _ = seed(user, 50)
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        open_diagram(page, project)
        frame = page.locator("#diagram").bounding_box()
        assert frame["y"] < 320, "a compact heading and toolbar above the canvas"
        assert 760 <= frame["y"] + frame["height"] <= 800, "the canvas reaches the window's bottom"
        page.get_by_role("button", name="Fit").click()
        boxes = page.locator("#diagram a.table").evaluate_all(
            "tables => tables.map(t => t.getBoundingClientRect().toJSON())"
        )
        assert len(boxes) == 50
        for box in boxes:
            assert frame["x"] <= box["left"] and box["right"] <= frame["x"] + frame["width"]
            assert frame["y"] <= box["top"] and box["bottom"] <= frame["y"] + frame["height"]
        status = page.locator("#diagram-status").bounding_box()
        assert min(box["top"] for box in boxes) >= status["y"] + status["height"], "none under it"
    finally:
        context.close()


def darkest_beside_the_line_start(page, svg_text):
    """The darkest red value just outside the table, above the line where it starts: where
    the upper toe of the crow's foot runs when it is drawn outside the box."""
    start = page.locator("#diagram g.link path").evaluate(
        "p => { const s = p.getPointAtLength(0); return [s.x, s.y]; }"
    )
    return page.evaluate(
        """async ([text, x, y]) => {
            const image = new Image();
            image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
            await image.decode();
            const board = document.createElement("canvas");
            board.width = image.width;
            board.height = image.height;
            const context = board.getContext("2d");
            context.drawImage(image, 0, 0);
            const pixels = context.getImageData(Math.round(x) + 1, Math.round(y) - 6, 4, 4).data;
            let darkest = 255;
            for (let i = 0; i < pixels.length; i += 4) darkest = Math.min(darkest, pixels[i]);
            return darkest;
        }""",
        [svg_text, *start],
    )


def exported_svg(page, tmp_path, name):
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Export SVG").click()
    assert downloaded.value.suggested_filename == "warehouse-diagram.svg"
    path = tmp_path / name
    downloaded.value.save_as(path)
    return path.read_text()


def test_crows_feet_lie_outside_the_boxes_in_the_exported_drawing(page, user, tmp_path):
    project, _ = seed(user, 2)
    open_diagram(page, project)
    text = exported_svg(page, tmp_path, "light.svg")
    assert text.index('class="tables"') < text.index('class="links"'), "lines over the boxes"
    assert darkest_beside_the_line_start(page, text) < 200


def test_dark_mode_draws_a_dark_canvas_and_exports_light_unless_asked(
    browser, base_url, user, tmp_path
):
    project, _ = seed(user, 2)
    context = browser.new_context(base_url=base_url, color_scheme="dark")
    try:
        page = context.new_page()
        open_diagram(page, project)
        backdrop = page.locator("#diagram svg rect.backdrop")
        assert backdrop.evaluate("r => getComputedStyle(r).fill") == "rgb(19, 23, 31)"
        light = exported_svg(page, tmp_path, "light.svg")
        assert "#13171f" not in light and ".backdrop { fill: #fff; }" in light
        page.get_by_label("dark export").check()
        dark = exported_svg(page, tmp_path, "dark.svg")
        assert ".backdrop { fill: #13171f; }" in dark
    finally:
        context.close()
