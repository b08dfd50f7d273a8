"""Browser files: a first visit stays within the asset budget, files travel compressed,
fingerprinted URLs are cached for a year and change with the file."""

import gzip
import re
import shutil

import brotli
import flask_compress.flask_compress as compressing
import pytest

from designer.asset_files import AssetFiles
from designer.design import relationships
from designer.design import tables
from designer.history import versions
from designer.views.assets import LARGE_ASSETS
from designer.views.assets import precompress
from designer.web import CompressedAssets
from designer.web import compress
from tests.integration.test_security_headers import HEADERS

BUDGET = 150_000
IMMUTABLE = "public, max-age=31536000, immutable"
ASSET_LINK = re.compile(
    r'<(?:script|link)\b[^>]*?\b(?:src|href)="(/(?:assets|static|vendor)/[^"]+)"'
)


def asset_links(html):
    return ASSET_LINK.findall(html)


def transferred(client, url, encodings="br, gzip"):
    """The bytes a browser receives for `url` (following a redirect), as sent and decoded."""
    response = client.get(url, headers={"Accept-Encoding": encodings}, follow_redirects=True)
    assert response.status_code == 200, url
    sent = response.data
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress}.get(
        response.headers.get("Content-Encoding"), bytes
    )(sent)
    return len(sent), len(decoded)


@pytest.fixture
def project(alice, shop, notes):
    customers = tables.create_table(alice, shop.id, "Customers")
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": str(customers.id), "target_table_id": str(notes.id)}
    )
    versions.save_version(alice, shop.id, "first")
    return shop


PAGES = {
    "sign-in": "/login",
    "sign-up": "/signup",
    "projects": "/projects",
    "new project": "/projects/new",
    "API tokens": "/settings/tokens",
    "account": "/account",
    "project": "/projects/{p}",
    "members": "/projects/{p}/members",
    "table": "/tables/{t}",
    "relationships": "/projects/{p}/relationships",
    "timeline": "/projects/{p}/timeline",
    "version": "/projects/{p}/versions/1",
    "compare": "/projects/{p}/diff?from=1&to=working",
    "deploy": "/projects/{p}/deploy",
}


@pytest.mark.parametrize("name", PAGES)
def test_a_first_visit_to_any_page_but_the_diagram_stays_within_the_budget(
    name, alice, project, notes, signed_in, app
):
    web = signed_in(None if name.startswith("sign") else alice)
    page = web.get(PAGES[name].format(p=project.id, t=notes.id), htmx=False)
    assert page.status_code == 200
    links = asset_links(page.text)
    assert links, "the page links no assets"
    client = app.test_client()
    sizes = [transferred(client, url) for url in links]
    compressed = sum(sent for sent, _ in sizes)
    assert compressed <= BUDGET, f"{compressed} bytes compressed: {links}"
    assert not any("elk" in url or "panzoom" in url for url in links)


def test_the_diagram_alone_loads_the_layout_library(alice, project, signed_in):
    page = signed_in(alice).get(f"/projects/{project.id}/diagram", htmx=False).text
    links = " ".join(asset_links(page))
    assert "panzoom.min.js" in links
    # Loaded by diagram.js only when a layout is to be computed.
    assert re.search(r'data-layout-script="/assets/[0-9a-f]{16}/vendor/elk.bundled.js"', page)


def test_pages_link_assets_by_content_digest(alice, project, signed_in):
    page = signed_in(alice).get(f"/projects/{project.id}", htmx=False).text
    for url in asset_links(page):
        assert re.fullmatch(r"/assets/[0-9a-f]{16}/\S+", url), url


@pytest.mark.parametrize(
    ("name", "mimetype"),
    [("css/app.css", "text/css"), ("js/app.js", "text/javascript"),
     ("vendor/htmx.min.js", "text/javascript"), ("vendor/pico.min.css", "text/css")],
)  # fmt: skip
def test_fingerprinted_assets_are_immutable_and_compressed(app, name, mimetype):
    files = app.extensions["asset_files"]
    url = f"/assets/{files.digest(name)}/{name}"
    on_disk = files.path(name).read_bytes()
    client = app.test_client()
    for asked, encoding, decode in (
        ("br, gzip", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
        ("", None, bytes),
    ):
        response = client.get(url, headers={"Accept-Encoding": asked})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.headers.get("Content-Encoding") == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.mimetype == mimetype
        assert decode(response.data) == on_disk
        for header, value in HEADERS.items():
            assert response.headers[header] == value
    assert len(client.get(url, headers={"Accept-Encoding": "br"}).data) < len(on_disk) / 2


def test_a_changed_file_gets_a_new_url_and_the_old_one_leads_to_it(app, tmp_path, monkeypatch):
    shutil.copytree(app.static_folder, tmp_path, dirs_exist_ok=True)
    script = tmp_path / "js" / "app.js"
    script.write_text("console.log('first');\n")
    monkeypatch.setitem(
        app.extensions, "asset_files", AssetFiles(tmp_path, app.config["NODE_MODULES"])
    )
    client = app.test_client()
    first = asset_links(client.get("/login").text)
    script.write_text("console.log('second');\n")
    second = asset_links(client.get("/login").text)
    old = next(url for url in first if url.endswith("/js/app.js"))
    new = next(url for url in second if url.endswith("/js/app.js"))
    assert old != new
    assert client.get(new).data == b"console.log('second');\n"
    moved = client.get(old)
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith(new)
    assert "immutable" not in moved.headers["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    ["../designer/web.py", "js/../../designer/web.py", "vendor/../package.json", "js/none.js",
     "vendor/mermaid.min.js"],
)  # fmt: skip
def test_only_asset_files_are_served(app, path):
    response = app.test_client().get(f"/assets/0123456789abcdef/{path}")
    assert response.status_code == 404


def test_the_layout_bundle_is_compressed_before_anyone_asks(app, monkeypatch):
    name = "vendor/elk.bundled.js"
    assert name in LARGE_ASSETS
    files = app.extensions["asset_files"]
    url = f"/assets/{files.digest(name)}/{name}"
    monkeypatch.setattr(compress, "cache", CompressedAssets())
    precompress(app, LARGE_ASSETS)

    def no_compressing_on_request(*args):
        raise AssertionError("compressed while a visitor waited")

    monkeypatch.setattr(compressing, "_compress_data", no_compressing_on_request)
    for asked, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        response = app.test_client().get(url, headers={"Accept-Encoding": asked})
        assert response.headers["Content-Encoding"] == asked
        assert decode(response.data) == files.get(name).body
