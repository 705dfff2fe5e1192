"""Domain errors raised by models and services, shown to people as clear messages."""


class DomainError(Exception):
    """A rule of the domain refused an action; the message is fit to show to the person."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The person may not do this (answered with 403 where a status is needed)."""
