"""Domain exceptions raised by services and translated into messages by views."""


class CareappError(Exception):
    """Base class of every domain error."""


class InvalidParameters(CareappError):
    """One or more request parameters are malformed or unknown.

    ``errors`` maps each parameter name to a translated message.
    """

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors

    @property
    def first_message(self) -> str:
        """The message of the first offending parameter."""
        return str(next(iter(self.errors.values())))
