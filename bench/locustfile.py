"""A designer's working day for locust: browse, poll, edit inline, heartbeat the lock, save.

Run by bench/soak.py (which seeds the users and starts the servers); each simulated user
is one seeded editor, holding the lock on a table of their own in a shared project.
SOAK_USERS names the JSON file of seeded users.
"""

import itertools
import json
import os
import re

from locust import HttpUser
from locust import between
from locust import task

SEEDED = json.loads(open(os.environ["SOAK_USERS"]).read())  # noqa: SIM115
NEXT = itertools.count()
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


class Designer(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        number = next(NEXT)
        self.me = SEEDED[number % len(SEEDED)]
        # Several servers without a proxy: each user keeps to one, as a sticky balancer would.
        hosts = os.environ.get("SOAK_HOSTS", "").split(",")
        if len(hosts) > 1:
            self.client.base_url = hosts[number % len(hosts)]
        self.api = {"Authorization": f"Bearer {self.me['token']}"}
        # The seeded revisions, as an earlier run may have left them.
        self.revisions = {}
        for field_id, _ in self.me["fields"]:
            field = self.client.get(f"/api/v1/fields/{field_id}", headers=self.api, name="sign in")
            self.revisions[field_id] = field.json()["revision"]
        self.required = False
        page = self.client.get("/login", name="sign in")
        token = CSRF.search(page.text).group(1)
        self.client.post(
            "/login",
            data={"username": self.me["username"], "password": self.me["password"],
                  "csrf_token": token},
            name="sign in",
            allow_redirects=False,
        )  # fmt: skip

    @task(3)
    def browse_project(self):
        self.client.get(f"/projects/{self.me['project_id']}", name="browse project")

    @task(3)
    def browse_table(self):
        self.client.get(f"/tables/{self.me['table_id']}", name="browse table")

    @task(4)
    def live_poll(self):
        self.client.get(
            f"/tables/{self.me['table_id']}/live", headers={"HX-Request": "true"}, name="live poll"
        )

    @task(2)
    def edit_inline(self):
        field_id = next(iter(self.revisions))
        self.required = not self.required
        body = {"is_required": self.required, "revision": self.revisions[field_id]}
        headers = {**self.api, "X-Lock-Token": self.me["lock_token"]}
        with self.client.patch(
            f"/api/v1/fields/{field_id}", json=body, headers=headers, name="edit inline",
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code == 200:
                self.revisions[field_id] = response.json()["revision"]
                # The next edit goes to the next field of the table.
                self.revisions[field_id] = self.revisions.pop(field_id)
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(2)
    def heartbeat(self):
        self.client.post(
            f"/api/v1/tables/{self.me['table_id']}/lock/heartbeat",
            json={"lock_token": self.me["lock_token"]},
            headers=self.api,
            name="heartbeat",
        )

    @task(1)
    def save_version(self):
        with self.client.post(
            f"/api/v1/projects/{self.me['project_id']}/versions",
            json={"message": "soak"},
            headers=self.api,
            name="save version",
            catch_response=True,
        ) as response:
            # Nothing changed since a teammate's save: a 409 the user expects, not an error.
            if response.status_code == 409 and "No changes" in response.text:
                response.success()
