"""The yardstick of ``bench/throughput.py``: the least a Flask app can do per request.

``GET /ok`` answers "ok"; ``POST /session`` reads the signed session cookie (as careapp signs
it) and answers with a redirect, as a form POST would. gunicorn serves it with the same
settings as careapp: ``gunicorn 'bench.bare_app:create_app()'``.
"""

import os

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

    return app
