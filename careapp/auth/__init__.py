"""Signing up, in and out, and looking after one's password."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from careapp.auth import phone, views  # noqa: E402, F401
