"""The API tokens page in a browser: a new token's Copy button puts its secret on the clipboard."""

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in


def test_copy_puts_the_new_tokens_secret_on_the_clipboard(browser, base_url, user):
    context = browser.new_context(
        base_url=base_url, permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        page = context.new_page()
        sign_in(page)
        page.goto("/settings/tokens")
        expect(page.get_by_label("Expires")).to_have_value("90")
        page.get_by_label("Name").fill("CI script")
        page.get_by_label("Access").select_option("read")
        page.get_by_role("button", name="Create token").click()
        secret = page.get_by_label("New token").input_value()
        assert secret.startswith("dmd_")
        expect(page.get_by_role("cell", name="read-only · all projects")).to_be_visible()
        page.get_by_role("button", name="Copy").click()
        expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == secret
    finally:
        context.close()
