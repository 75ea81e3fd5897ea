"""gunicorn's access log without secrets: private calendar addresses, sign-in and reset
tokens are written as ``…`` (``gunicorn --logger-class careapp.access_log.RedactingLogger``)."""

import re

from gunicorn.glogging import Logger

#: Paths whose last part is a secret.
SECRET_IN_PATH = re.compile(r"(/calendar/|/password/reset/|/login/link/)[^/?\s]+")
#: Query parameters that carry a secret.
SECRET_IN_QUERY = re.compile(r"((?:^|[?&])(?:token|key)=)[^&\s]*")
REDACTED = "…"


def redact(text: str | None) -> str | None:
    """``text`` with every secret in it replaced by ``…``."""
    if not text:
        return text
    text = SECRET_IN_PATH.sub(lambda m: m.group(1) + REDACTED, text)
    return SECRET_IN_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


class RedactingLogger(Logger):
    """gunicorn's logger, with secrets taken out of every value an access-log line may use
    (request line, path, query, referrer, headers and environment)."""

    def atoms(self, resp, req, environ, request_time):
        """The usual atoms, redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(v) if isinstance(v, str) else v for key, v in atoms.items()}
