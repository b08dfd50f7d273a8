"""In the browser: sign up, create a project, rename it inline."""

from playwright.sync_api import expect

from tests.conftest import PASSWORD


def test_sign_up_create_a_project_and_rename_it_inline(page):
    page.goto("/signup")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()

    page.get_by_role("button", name="New project").click()
    page.get_by_label("Name", exact=True).fill("Web shop")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Web shop")).to_be_visible()

    page.get_by_role("button", name="Rename project").click()
    name = page.get_by_label("Name", exact=True)
    expect(name).to_be_focused()
    name.fill("Online store")
    name.press("Enter")
    expect(page.get_by_role("heading", name="Online store")).to_be_visible()

    page.reload()
    expect(page.get_by_role("heading", name="Online store")).to_be_visible()


def test_escape_cancels_an_inline_rename(page, user):
    from tests.e2e.conftest import sign_in

    sign_in(page)
    page.get_by_role("button", name="New project").click()
    page.get_by_label("Name", exact=True).fill("Keep me")
    page.get_by_label("Name", exact=True).press("Enter")
    page.get_by_role("button", name="Rename project").click()
    page.get_by_label("Name", exact=True).fill("Changed my mind")
    page.get_by_label("Name", exact=True).press("Escape")
    expect(page.get_by_role("heading", name="Keep me")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_count(0)


def test_validation_error_appears_next_to_the_field(page, user):
    from tests.e2e.conftest import sign_in

    sign_in(page)
    page.get_by_role("button", name="New project").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a project name.")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
