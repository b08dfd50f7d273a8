"""Work on a thread of its own (designer/database/background.py) acts for the user who
started it, bound by row-level security as the app's role: in these tests a thread outside
a request is given the superuser's connections (tests/rls_harness.py), so here it is given
the app role's, as a server gives it."""

import pytest

from designer import projects
from designer.database import background
from designer.models import Project
from tests.integration.conftest import as_app_role


@pytest.fixture
def as_the_app_role(app_database_url):
    """Threads outside requests connect as the app role (what the server does)."""
    with as_app_role(app_database_url):
        yield


def seen(user_id):
    jobs = background.Jobs("rls-test")
    job, started = jobs.start(
        "p", "key", lambda job: sorted(p.name for p in Project.select()), user_id
    )
    assert started
    assert job.done.wait(30)
    if job.error is not None:
        raise job.error
    return job.answer


def test_a_job_acts_for_its_user_under_row_level_security(make_user, request):
    alice, bob = make_user("alice"), make_user("bob")
    projects.create_project(alice, "Alice's")
    projects.create_project(bob, "Bob's")
    request.getfixturevalue("as_the_app_role")
    assert seen(alice.id) == ["Alice's"]
    assert seen(bob.id) == ["Bob's"]
    assert seen(None) == []
