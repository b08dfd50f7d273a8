"""Branch and merge request pages (#28): which branch a page is of, the Branches tab, forking,
the comparison, and a merge request's review, approvals, comments and merge, in the browser's
HTML (Flask test client)."""

import re

import pytest

from designer import branches
from designer import merge_requests
from designer.database import deploy
from designer.design import fields
from designer.design import tables
from designer.history import versions
from designer.models import BranchOrigin
from designer.models import DataField
from designer.models import MergeRequest
from designer.models import Project


def local_field(branch, origin):
    local = BranchOrigin.get(
        BranchOrigin.branch == branch.id, BranchOrigin.origin_id == origin.id
    ).local_id
    return DataField.get_by_id(local)


def rename(user, field, name):
    """Rename a field (as it is now) to `name`, its display name to match."""
    revision = DataField.get_by_id(field.id).revision
    changes = {"name": name.title(), "field_name": name}
    fields.update_field(user, field.id, revision, changes, partial=True)


@pytest.fixture
def renamed(alice, shop, designed):
    """The branch `redesign` (alice's) renames orders.total to amount."""
    branch = branches.fork(alice, shop.id, "redesign")
    rename(alice, local_field(branch, designed["total"]), "amount")
    return branch


@pytest.fixture
def opened(alice, renamed):
    return merge_requests.open_request(alice, renamed.id, "Rename total")


def request_url(mr):
    return f"/projects/{mr.project_id}/merge-requests/{mr.number}"


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_branch_page_says_which_branch_it_is_and_main_offers_to_switch(
    alice, shop, renamed, signed_in
):
    web = signed_in(alice)
    page = web.get(f"/projects/{renamed.id}", htmx=False)
    assert page.status_code == 200
    assert "Branch redesign of" in text_of(page.text)
    assert f'href="/projects/{shop.id}"' in page.text
    main_page = web.get(f"/projects/{shop.id}", htmx=False).text
    assert "Branch redesign of" not in text_of(main_page)
    assert f'<option value="{renamed.id}"' in main_page
    # The projects list shows main only.
    listed = web.get("/projects", htmx=False).text
    assert "Shop" in listed and "redesign" not in listed


def test_every_page_of_a_branch_says_so(alice, shop, designed, renamed, signed_in):
    web = signed_in(alice)
    tabs = ["", "/relationships", "/enums", "/diagram", "/timeline", "/deploy", "/transfer",
            "/members"]  # fmt: skip
    urls = [f"/projects/{renamed.id}{tab}" for tab in tabs]
    orders = BranchOrigin.get(
        BranchOrigin.branch == renamed.id, BranchOrigin.origin_id == designed["orders"].id
    ).local_id
    urls += [f"/tables/{orders}", f"/branches/{renamed.id}/compare"]
    for url in urls:
        page = web.get(url, htmx=False)
        assert page.status_code == 200, url
        assert "Branch redesign of Shop" in text_of(page.text), url
    # Its tables move through their lifecycle on main only.
    assert ">Activate</button>" not in web.get(f"/tables/{orders}", htmx=False).text


def test_switching_keeps_the_tab_and_the_table(alice, shop, designed, renamed, signed_in):
    web = signed_in(alice)
    switched = web.get(
        f"/projects/{shop.id}/switch?to={renamed.id}&page=versions.timeline", htmx=False
    )
    assert switched.headers["Location"] == f"/projects/{renamed.id}/timeline"
    orders = designed["orders"]
    switched = web.get(
        f"/projects/{shop.id}/switch?to={renamed.id}&page=tables.show&table={orders.id}",
        htmx=False,
    )
    branch_orders = BranchOrigin.get(
        BranchOrigin.branch == renamed.id, BranchOrigin.origin_id == orders.id
    ).local_id
    assert switched.headers["Location"] == f"/tables/{branch_orders}"
    back = web.get(
        f"/projects/{renamed.id}/switch?to={shop.id}&page=tables.show&table={branch_orders}",
        htmx=False,
    )
    assert back.headers["Location"] == f"/tables/{orders.id}"
    # A page main has no counterpart of: main's project page.
    back = web.get(f"/projects/{renamed.id}/switch?to={shop.id}&page=nothing", htmx=False)
    assert back.headers["Location"] == f"/projects/{shop.id}"
    odd = web.get(f"/projects/{renamed.id}/switch?to={shop.id}&page=tables.show&table=x1")
    assert odd.headers["Location"] == f"/projects/{shop.id}"


def test_the_branches_tab_lists_branches_and_forks_from_a_version(
    alice, shop, designed, renamed, signed_in
):
    web = signed_in(alice)
    tab = text_of(web.get(f"/projects/{shop.id}/branches", htmx=False).text)
    assert "redesign" in tab and "version 1" in tab and "alice" in tab and "open" in tab
    made = web.post(f"/projects/{shop.id}/branches", data={"name": "from-one", "version": "1"})
    fork = Project.get(Project.name == "from-one")
    assert made.headers["HX-Redirect"] == f"/projects/{fork.id}"
    assert versions.get_version(shop.id, 1).id == fork.fork_version_id


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Give the branch a name."), ("redesign", "already has a branch named redesign")],
)
def test_a_refused_fork_says_why_next_to_the_name(alice, shop, renamed, signed_in, name, message):
    web = signed_in(alice)
    refused = web.post(f"/projects/{shop.id}/branches", data={"name": name, "version": ""})
    assert refused.status_code == 422
    assert 'id="name-error"' in refused.text and message in refused.text
    assert 'aria-invalid="true"' in refused.text


def test_a_branch_tab_of_a_branch_leads_to_main(alice, shop, renamed, signed_in):
    web = signed_in(alice)
    answer = web.get(f"/projects/{renamed.id}/branches", htmx=False)
    assert answer.headers["Location"] == f"/projects/{shop.id}/branches"


def test_strangers_get_404_on_every_branch_page(alice, shop, opened, renamed, signed_in, make_user):
    web = signed_in(make_user("mallory"))
    for url in (
        f"/projects/{shop.id}/branches",
        f"/branches/{renamed.id}/compare",
        request_url(opened),
        request_url(opened) + "/live",
        f"/projects/{renamed.id}/switch?to={shop.id}",
    ):
        assert web.get(url, htmx=False).status_code == 404, url
    assert web.post(request_url(opened) + "/approval").status_code == 404


def test_actions_need_the_csrf_token(alice, shop, opened, renamed, signed_in, bob):
    web = signed_in(bob)
    web.token = "forged"
    assert web.post(request_url(opened) + "/approval").status_code == 400
    assert web.post(f"/projects/{shop.id}/branches", data={"name": "x"}).status_code == 400
    opened_again = web.post(f"/branches/{renamed.id}/merge-requests", data={"title": "t"})
    assert opened_again.status_code == 400
    assert MergeRequest.select().where(MergeRequest.state == "open").count() == 1


def test_the_comparison_shows_both_sides_in_sentences_and_the_migration(
    alice, shop, designed, renamed, signed_in
):
    rename(alice, designed["email"], "mail")
    web = signed_in(alice)
    page = web.get(f"/branches/{renamed.id}/compare", htmx=False)
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "Main since the fork" in shown and "The branch" in shown
    assert "customers.email to mail" in shown
    assert "orders.total to amount" in shown
    assert "No conflicts" in shown
    assert 'RENAME COLUMN "total" TO "amount"' in page.text.replace("&#34;", '"')
    assert "Open merge request" in shown


def test_a_conflict_is_highlighted_and_the_migration_waits_for_it(
    alice, shop, designed, renamed, signed_in
):
    rename(alice, designed["total"], "sum")
    web = signed_in(alice)
    shown = web.get(f"/branches/{renamed.id}/compare", htmx=False).text
    assert "Both sides changed this" in shown
    assert 'class="in-conflict"' in shown
    assert "Shown once every conflict is decided" in shown


def test_opening_a_merge_request_needs_a_title_next_to_the_input(alice, renamed, signed_in):
    web = signed_in(alice)
    refused = web.post(f"/branches/{renamed.id}/merge-requests", data={"title": " "})
    assert refused.status_code == 422
    assert 'id="title-error"' in refused.text
    made = web.post(f"/branches/{renamed.id}/merge-requests", data={"title": "Amount"})
    mr = MergeRequest.get(MergeRequest.branch == renamed.id)
    assert made.headers["HX-Redirect"] == request_url(mr)


def test_the_author_cannot_approve_and_is_told_why(alice, opened, signed_in):
    web = signed_in(alice)
    page = web.get(request_url(opened), htmx=False).text
    assert "an editor other than its author approves it" in page
    assert ">Approve</button>" not in page
    refused = web.post(request_url(opened) + "/approval")
    assert refused.status_code == 403
    assert "author of a merge request cannot approve it" in refused.text


def test_an_owner_waiting_for_approvals_is_told_where_to_set_how_many(
    alice, shop, opened, signed_in, bob
):
    """A newcomer working alone could not merge: nobody else may approve."""
    hint = "Owners choose how many approvals a merge needs"
    assert hint in text_of(signed_in(alice).get(request_url(opened), htmx=False).text)
    assert hint not in text_of(signed_in(bob).get(request_url(opened), htmx=False).text)
    merge_requests.approve(bob, shop.id, opened.number)
    assert hint not in text_of(signed_in(alice).get(request_url(opened), htmx=False).text)


def merge_enabled(html):
    button = re.search(r"<button[^>]*merge-requests/\d+/merge\"[^>]*>", html).group(0)
    return not re.search(r"\sdisabled[\s>]", button)


def test_merge_is_enabled_once_approved_then_the_page_shows_the_merged_version(
    alice, shop, opened, signed_in, bob
):
    author = signed_in(alice)
    page = author.get(request_url(opened), htmx=False).text
    assert not merge_enabled(page)
    assert "It needs 1 approval by editors other than its author (0 so far)." in page
    reviewer = signed_in(bob)
    approved = reviewer.post(request_url(opened) + "/approval")
    assert approved.status_code == 200 and 'hx-swap-oob="true"' in approved.text
    assert "Withdraw approval" in approved.text
    page = author.get(request_url(opened), htmx=False).text
    assert merge_enabled(page)
    assert "bob" in text_of(page) and "stands" in page
    merged = author.post(request_url(opened) + "/merge")
    assert merged.headers["HX-Redirect"] == request_url(opened)
    page = text_of(author.get(request_url(opened), htmx=False).text)
    version = versions.latest(shop.id)
    assert f"as version {version.version_number}" in page
    html = author.get(request_url(opened), htmx=False).text
    assert f"/projects/{shop.id}/versions/{version.version_number}" in html
    # Nothing is left to merge: the panel is hidden, not an empty box.
    assert re.search(r'<section id="merge-panel"[^>]*\shidden[\s>]', html)


def test_an_approval_stops_standing_once_the_branch_changes(
    alice, opened, renamed, designed, signed_in, bob
):
    merge_requests.approve(bob, opened.project_id, opened.number)
    tables.create_table(alice, renamed.id, "Invoices")
    page = signed_in(alice).get(request_url(opened), htmx=False).text
    assert "no longer stands" in page
    assert not merge_enabled(page)


def test_a_conflict_is_decided_on_the_request(alice, shop, designed, opened, signed_in, bob):
    rename(alice, designed["total"], "sum")
    web = signed_in(bob)
    page = web.get(request_url(opened), htmx=False).text
    conflict_ids = re.findall(r'name="conflict" value="([^"]+)"', page)
    assert len(conflict_ids) == 2
    for conflict_id in conflict_ids:
        answer = web.post(request_url(opened) + "/conflicts",
                          data={"conflict": conflict_id, "side": "theirs"})  # fmt: skip
        assert answer.status_code == 200
    assert "Decided: keep the branch" in answer.text
    assert 'RENAME COLUMN "sum" TO "amount"' in answer.text.replace("&#34;", '"')
    assert MergeRequest.get_by_id(opened.id).resolutions == dict.fromkeys(conflict_ids, "theirs")


def test_comments_are_listed_and_an_empty_one_is_refused_next_to_the_box(
    alice, opened, signed_in, bob
):
    web = signed_in(bob)
    refused = web.post(request_url(opened) + "/comments", data={"body": "  "})
    assert refused.status_code == 422 and 'id="body-error"' in refused.text
    added = web.post(request_url(opened) + "/comments", data={"body": "Looks right to me"})
    assert added.status_code == 200
    assert "Looks right to me" in added.text
    assert "Looks right to me" in signed_in(alice).get(request_url(opened), htmx=False).text


def test_the_live_poll_answers_204_until_a_teammate_acts(alice, opened, signed_in, bob):
    web = signed_in(alice)
    page = web.get(request_url(opened), htmx=False).text
    stamp = re.search(r'id="request-live"[^>]*data-version="([^"]+)"', page).group(1)
    assert web.get(request_url(opened) + f"/live?v={stamp}").status_code == 204
    merge_requests.comment(bob, opened.project_id, opened.number, "One question")
    moved = web.get(request_url(opened) + f"/live?v={stamp}")
    assert moved.status_code == 200 and "One question" in moved.text
    assert moved.headers["X-Live-Version"] != stamp


def test_a_branch_deploy_tab_offers_no_deploy(alice, shop, designed, signed_in):
    deploy.transition(alice, designed["orders"].id, "active")
    branch = branches.fork(alice, shop.id, "live")
    rename(alice, local_field(branch, designed["total"]), "amount")
    page = signed_in(alice).get(f"/projects/{branch.id}/deploy", htmx=False).text
    assert "Only main deploys; open a merge request" in page
    assert "Pending changes" in page and "nothing pending" not in page.lower()
    assert ">Deploy</button>" not in page and ">Dry run</button>" not in page


def test_deep_links_render_whole_pages(alice, shop, opened, renamed, signed_in):
    web = signed_in(alice)
    for url in (f"/branches/{renamed.id}/compare", request_url(opened),
                f"/projects/{shop.id}/branches"):  # fmt: skip
        page = web.get(url, htmx=False)
        assert page.status_code == 200 and "<html" in page.text, url


def test_a_merged_branch_is_read_only_in_its_pages(alice, shop, opened, renamed, signed_in, bob):
    merge_requests.approve(bob, opened.project_id, opened.number)
    merge_requests.merge(alice, opened.project_id, opened.number)
    page = signed_in(alice).get(f"/projects/{renamed.id}", htmx=False).text
    assert "merged" in text_of(page) and "Add table" not in page


def test_a_decision_whose_conflict_went_away_does_not_stop_the_merge(
    alice, shop, designed, opened, signed_in, bob
):
    """Main renamed total too, the request kept the branch's name, then main renamed it
    back: the conflict is gone, and its old decision no longer blocks the merge."""
    rename(alice, designed["total"], "sum")
    _, compared = branches.comparison(alice, opened.branch_id)
    for conflict in compared.conflicts:
        merge_requests.decide(bob, shop.id, opened.number, conflict.id, "theirs")
    rename(alice, designed["total"], "total")
    merge_requests.approve(bob, shop.id, opened.number)
    web = signed_in(alice)
    assert merge_enabled(web.get(request_url(opened), htmx=False).text)
    merged = web.post(request_url(opened) + "/merge")
    assert merged.status_code == 200, merged.text
    assert DataField.get_by_id(designed["total"].id).field_name == "amount"


def test_the_author_closes_a_request_and_others_cannot(alice, opened, signed_in, bob):
    reviewer = signed_in(bob)
    assert ">Close</button>" not in reviewer.get(request_url(opened), htmx=False).text
    assert reviewer.post(request_url(opened) + "/close").status_code == 403
    author = signed_in(alice)
    closed = author.post(request_url(opened) + "/close")
    assert closed.headers["HX-Redirect"] == request_url(opened)
    page = author.get(request_url(opened), htmx=False).text
    assert "Closed without merging" in page and ">Merge</button>" not in page


def test_forking_and_merging_show_that_they_are_running(alice, shop, opened, signed_in):
    """A fork of 3,000 tables takes seconds, a merge one or two: each says it is running."""
    web = signed_in(alice)
    tab = web.get(f"/projects/{shop.id}/branches", htmx=False).text
    form = re.search(r'<form[^>]*id="fork-form"[^>]*>', tab).group(0)
    assert 'hx-indicator="#fork-progress"' in form and "hx-disabled-elt" in form
    assert re.search(r'id="fork-progress" class="htmx-indicator"[^>]*>Copying', tab)
    page = web.get(request_url(opened), htmx=False).text
    button = re.search(r"<button[^>]*merge-requests/\d+/merge\"[^>]*>", page).group(0)
    assert 'hx-indicator="#merge-progress"' in button
    assert re.search(r'id="merge-progress" class="htmx-indicator"[^>]*>Merging', page)
