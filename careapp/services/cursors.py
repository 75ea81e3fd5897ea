"""Opaque keyset cursors: the sort key of the last item of a page, to continue after it."""

import base64
import binascii
import json

from flask_babel import lazy_gettext as _l

from careapp.services.errors import InvalidParameters

#: Longer cursors were not written here (a key holds at most a name and two numbers).
MAX_CURSOR_LENGTH = 1000
BAD_CURSOR_MESSAGE = _l("This cursor is not valid; please start again from the first page.")


def encode(key: tuple) -> str:
    """``key`` (JSON values) as an opaque, URL-safe cursor."""
    text = json.dumps(list(key), ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, types: tuple[type, ...], name: str = "after") -> tuple:
    """The key of ``cursor``, each value of the matching type of ``types``; raises
    InvalidParameters (on ``name``) for anything this module did not write."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidParameters({name: BAD_CURSOR_MESSAGE})
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidParameters({name: BAD_CURSOR_MESSAGE}) from None
    if not isinstance(values, list) or len(values) != len(types):
        raise InvalidParameters({name: BAD_CURSOR_MESSAGE})
    # bool is an int in Python: compare the exact type.
    if any(type(value) is not kind for value, kind in zip(values, types, strict=True)):
        raise InvalidParameters({name: BAD_CURSOR_MESSAGE})
    return tuple(values)
