"""The yardstick of ``bench/throughput.py``: the least a Flask app can do per request.

``GET /ok`` answers "ok"; ``POST /session`` reads the signed session cookie (as careapp signs
it) and answers with a redirect, as a form POST would. gunicorn serves it with the same
settings as careapp: ``gunicorn 'bench.bare_app:create_app()'``.

With ``DATABASE_URL`` set, ``GET /statements/<n>`` and ``POST /session/<n>`` do the same and
also send ``n`` statements (``SELECT 1``, through SQLAlchemy Core, on a pooled connection) to
the database: the floor of a page or a form that needs ``n`` statements, whatever they read.
"""

import os

import sqlalchemy as sa
from flask import Flask, abort, redirect, session


def create_app(secret_key: str | None = None) -> Flask:
    """A Flask app with the two bare routes, signing sessions with ``secret_key`` (by default
    the environment's ``SECRET_KEY``)."""
    app = Flask(__name__)
    app.secret_key = secret_key or os.environ["SECRET_KEY"]

    @app.get("/ok")
    def ok():
        """The bare route."""
        return "ok"

    @app.post("/session")
    def session_post():
        """The bare session POST: a signed-in visitor's form, answered with a redirect."""
        if "_user_id" not in session:
            abort(403)
        return redirect("/ok")

    if os.environ.get("DATABASE_URL"):
        add_statement_routes(app, sa.create_engine(os.environ["DATABASE_URL"]))
    return app


def add_statement_routes(app: Flask, engine: sa.Engine) -> None:
    """The bare routes that also send ``n`` statements to ``engine``'s database."""

    def send(count: int) -> None:
        with engine.connect() as connection:
            for _ in range(count):
                connection.execute(sa.text("SELECT 1")).scalar()

    @app.get("/statements/<int:count>")
    def statements(count: int):
        """The bare route, and ``count`` statements."""
        send(count)
        return "ok"

    @app.post("/session/<int:count>")
    def session_statements(count: int):
        """The bare session POST, and ``count`` statements."""
        if "_user_id" not in session:
            abort(403)
        send(count)
        return redirect("/ok")
