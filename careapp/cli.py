"""Commands of ``flask --app careapp``: seed-demo, registry, translate."""

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from careapp import clock
from careapp.config import PROJECT_ROOT
from careapp.extensions import db
from careapp.models import Institution, Role, Status
from careapp.services.registry import list_register

TRANSLATIONS = PROJECT_ROOT / "translations"
TEMPLATE_CATALOG = TRANSLATIONS / "messages.pot"
#: English is the source language: its catalog repeats every message id.
SOURCE_LANGUAGE = "en"

registry_cli = AppGroup("registry", help="Inspect the register of institutions.")
translate_cli = AppGroup("translate", help="Extract, update and compile translations.")
jobs_cli = AppGroup("jobs", help="Periodic jobs (run them from cron).")
cache_cli = AppGroup("page-cache", help="The cache of public pages.")
open_data_cli = AppGroup("open-data", help="The whole-register downloads.")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only load when no institution exists yet.")
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo region, institutions and accounts (never in production)."""
    if current_app.config["CAREAPP_ENV"] == "production":
        raise click.ClickException("seed-demo refuses to run when CAREAPP_ENV=production.")
    if if_empty and db.session.scalar(sa.select(sa.func.count(Institution.id))):
        click.echo("The database already holds institutions; demo data not loaded.")
        return
    from careapp.demo import seed_demo
    from careapp.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_accounts
    from careapp.demo.courses import seed_courses
    from careapp.demo.inspections import seed_inspections
    from careapp.demo.places import seed_places
    from careapp.demo.quality import seed_quality
    from careapp.demo.staff import seed_staff
    from careapp.services.accounts import find_user

    created = seed_demo(current_app.config["CAREAPP_REGION"], clock.today())
    created.update(seed_accounts(clock.today()))
    created.update(seed_staff(clock.today()))
    created.update(seed_places(clock.today(), find_user(DEMO_ACCOUNTS[Role.PARENT][0])))
    created.update(seed_courses(clock.today()))
    created.update(seed_quality(clock.today()))
    created.update(seed_inspections(clock.today()))
    db.session.commit()
    summary = ", ".join(f"{name}: {count}" for name, count in created.items())
    click.echo(f"Demo data for {current_app.config['CAREAPP_REGION']} loaded ({summary}).")
    click.echo(f"Demo accounts (password {DEMO_PASSWORD}):")
    for role, (email, _name) in DEMO_ACCOUNTS.items():
        click.echo(f"  {role:<12} {email}")


@registry_cli.command("list")
@click.option("--status", type=click.Choice(Status.values()), help="Only this lifecycle status.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects.")
def registry_list_command(status: str | None, as_json: bool) -> None:
    """List every institution with its id, name and status."""
    rows = [
        {"id": inst.id, "name": inst.name, "status": str(inst.status)}
        for inst in list_register(status)
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['id']:>6}  {row['status']:<13} {row['name']}")


@click.command("create-user")
@with_appcontext
@click.option("--role", required=True, type=click.Choice(Role.values()), help="The account's role.")
@click.option("--email", required=True, help="The sign-in address.")
@click.option("--name", "display_name", help="Name shown in the site; defaults to the address.")
def create_user_command(role: str, email: str, display_name: str | None) -> None:
    """Create an account of any role; the only way to make a regulator account.

    The password is asked for at a prompt, or read from the first line of standard input.
    """
    from email_validator import EmailNotValidError, validate_email

    from careapp.auth.forms import PASSWORD_MIN_LENGTH
    from careapp.services.accounts import EmailTaken, create_user

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="--email") from error
    password = _read_password()
    if len(password) < PASSWORD_MIN_LENGTH:
        raise click.BadParameter(
            f"use at least {PASSWORD_MIN_LENGTH} characters", param_hint="password"
        )
    try:
        user = create_user(
            email=email, password=password, role=Role(role), display_name=display_name or email
        )
    except EmailTaken as error:
        raise click.ClickException(f"An account with {email} exists already.") from error
    db.session.commit()
    click.echo(f"Created {role} account {user.email} (id {user.id}).")


def _read_password() -> str:
    """The new account's password, from a prompt when interactive, else from stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


@jobs_cli.command("run")
def jobs_run_command() -> None:
    """Run the periodic jobs once; safe to call every minute from cron, and twice at once.

    Expires unanswered waitlist offers (passing places on), generates slots from schedules,
    queues the day-before reminders, then delivers the outbox.
    """
    from careapp.jobs import run_jobs
    from careapp.services.mail import configured_sender

    send = configured_sender()
    report = run_jobs(clock.now(), clock.today(), send)
    click.echo(
        f"Offers expired: {report.expired}; slots generated: {report.generated};"
        f" reminders: {report.reminded}."
    )
    click.echo(f"Messages (e-mail and SMS): {report.sent} sent, {report.failed} failed.")
    click.echo(f"Children's details erased after the retention period: {report.erased}.")


@open_data_cli.command("build")
def open_data_build_command() -> None:
    """Build the register CSV and HSDS files of every language whose file is older than the
    register (minutes at national scale: run it from its own timer, not every minute)."""
    from careapp.open_data_files import build_all

    click.echo(f"Open-data files built: {build_all()}.")


@cache_cli.command("clear")
def page_cache_clear_command() -> None:
    """Forget every kept page: needed after a database restore, whose versions go back."""
    from careapp import cache

    cache.clear()
    click.echo("Page cache cleared.")


def _pybabel(*args: str) -> None:
    """Run a pybabel command in-process."""
    CommandLineInterface().run(["pybabel", "-q", *args])


def fill_source_catalog(path: Path) -> int:
    """Copy each message id into its empty translation in the source-language catalog."""
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=SOURCE_LANGUAGE)
    filled = 0
    for message in catalog:
        if not message.id or message.string and all(message.string):
            continue
        message.string = message.id if isinstance(message.id, str) else tuple(message.id)
        message.flags.discard("fuzzy")
        filled += 1
    with path.open("wb") as po_file:
        write_po(po_file, catalog, width=100)
    return filled


@translate_cli.command("extract")
def translate_extract() -> None:
    """Extract messages from the code and templates into translations/messages.pot."""
    _pybabel(
        "extract",
        "-F",
        str(TRANSLATIONS / "babel.cfg"),
        "-k",
        "_l",
        "-k",
        "lazy_ngettext:1,2",
        "--no-location",
        "--sort-output",
        "-o",
        str(TEMPLATE_CATALOG),
        str(PROJECT_ROOT),
    )


@translate_cli.command("update")
@click.pass_context
def translate_update(ctx: click.Context) -> None:
    """Extract, then merge new messages into every catalog (English filled from the ids)."""
    ctx.invoke(translate_extract)
    for language in current_app.config["LANGUAGES"]:
        catalog = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        command = "update" if catalog.exists() else "init"
        extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if command == "update" else []
        _pybabel(
            command,
            "-i",
            str(TEMPLATE_CATALOG),
            "-d",
            str(TRANSLATIONS),
            "-l",
            language,
            "-w",
            "100",
            *extra,
        )
    filled = fill_source_catalog(TRANSLATIONS / SOURCE_LANGUAGE / "LC_MESSAGES" / "messages.po")
    click.echo(f"Catalogs updated; {filled} English messages filled from their ids.")


@translate_cli.command("compile")
def translate_compile() -> None:
    """Compile every catalog to .mo files."""
    _pybabel("compile", "-d", str(TRANSLATIONS))


def init_app(app: Flask) -> None:
    """Register the commands on ``app``."""
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(registry_cli)
    app.cli.add_command(translate_cli)
    app.cli.add_command(create_user_command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(cache_cli)
    app.cli.add_command(open_data_cli)
