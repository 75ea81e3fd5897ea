"""Views of the providers blueprint."""

from flask import render_template

from careapp.providers import bp


@bp.get("/")
def home():
    """A guidance provider's start page."""
    return render_template("providers/home.html")
