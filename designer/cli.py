"""`flask users ...`: account administration for scripts."""

import click
from flask.cli import AppGroup

from designer import accounts
from designer import locks
from designer.errors import ValidationFailed

users_cli = AppGroup("users", help="Manage accounts.")
locks_cli = AppGroup("locks", help="Table locks.")


@users_cli.command("create")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(username, email, password):
    """Create an account."""
    try:
        user = accounts.create_user(username, email, password)
    except ValidationFailed as exc:
        for field, message in exc.fields.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from exc
    click.echo(f"created user {user.username} ({user.id})")


@locks_cli.command("sweep")
def sweep_locks():
    """Record every lock past its expiry as expired."""
    click.echo(f"{locks.expire_stale()} expired lock(s) recorded")
