"""Commands of ``flask --app careapp``: seed-demo, registry, translate."""

import json
from datetime import date
from pathlib import Path

import click
import sqlalchemy as sa
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po
from flask import Flask, current_app
from flask.cli import AppGroup

from careapp.config import PROJECT_ROOT
from careapp.extensions import db
from careapp.models import Institution, Status
from careapp.services.registry import list_register

TRANSLATIONS = PROJECT_ROOT / "translations"
TEMPLATE_CATALOG = TRANSLATIONS / "messages.pot"
#: English is the source language: its catalog repeats every message id.
SOURCE_LANGUAGE = "en"

registry_cli = AppGroup("registry", help="Inspect the register of institutions.")
translate_cli = AppGroup("translate", help="Extract, update and compile translations.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only load when no institution exists yet.")
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo region, institutions and accounts (never in production)."""
    if current_app.config["CAREAPP_ENV"] == "production":
        raise click.ClickException("seed-demo refuses to run when CAREAPP_ENV=production.")
    if if_empty and db.session.scalar(sa.select(sa.func.count(Institution.id))):
        click.echo("The database already holds institutions; demo data not loaded.")
        return
    from careapp.demo import seed_demo

    created = seed_demo(current_app.config["CAREAPP_REGION"], date.today())
    db.session.commit()
    summary = ", ".join(f"{name}: {count}" for name, count in created.items())
    click.echo(f"Demo data for {current_app.config['CAREAPP_REGION']} loaded ({summary}).")


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
