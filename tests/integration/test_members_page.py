"""The members page answers every change where it was made: confirmed, or refused with the
role that is really held shown again."""

import re

from designer import projects
from designer.models import ProjectMember


def selected_role(page, user):
    row = page[page.index(f'id="member-{user.id}"') :]
    row = row[: row.index("</select>")]
    return re.search(r'<option value="(\w+)" selected>', row).group(1)


def test_a_refused_self_demotion_shows_the_role_still_held(alice, shop, signed_in):
    client = signed_in(alice)
    response = client.put(f"/projects/{shop.id}/members/{alice.id}", data={"role": "viewer"})
    assert response.status_code == 409
    assert "A project needs at least one owner" in response.text
    assert 'role="alert"' in response.text
    assert selected_role(response.text, alice) == "owner"
    assert ProjectMember.get(ProjectMember.user == alice.id).role == "owner"


def test_adding_a_member_is_confirmed(alice, shop, make_user, signed_in):
    make_user("bob")
    response = signed_in(alice).post(
        f"/projects/{shop.id}/members", data={"login": "bob", "role": "editor"}
    )
    assert response.status_code == 200
    assert '<p class="flash flash-success" role="status">Added bob as editor.</p>' in response.text


def test_a_role_change_is_confirmed_and_shown(alice, shop, make_user, signed_in):
    bob = make_user("bob")
    projects.add_member(alice, shop.id, "bob", "viewer")
    response = signed_in(alice).put(
        f"/projects/{shop.id}/members/{bob.id}", data={"role": "editor"}
    )
    assert "bob is now editor." in response.text
    assert selected_role(response.text, bob) == "editor"
