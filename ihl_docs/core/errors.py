"""Domain errors. Services raise them; the web, API and CLI edges translate them for the user."""


class DomainError(Exception):
    """A refused operation, with a message fit to show the user."""

    code = "refused"
    status = 400

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvalidInput(DomainError):
    """Input that breaks a rule; `fields` maps each field to its message."""

    code = "invalid"
    status = 422


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    """A duplicate, or a change that clashes with the current state."""

    code = "conflict"
    status = 409


class StaleVersion(Conflict):
    """An edit based on an older version of the record than the one stored."""

    code = "stale_version"

    def __init__(self, message: str, current_version: int, changes: list[dict]):
        super().__init__(message)
        self.current_version = current_version
        self.changes = changes


class LoginThrottled(DomainError):
    code = "throttled"
    status = 429


class TooLarge(DomainError):
    code = "too_large"
    status = 413


class CustodyRuleViolation(InvalidInput):
    """A custody event that contradicts the chain (dated before collection, in the future …)."""

    code = "custody_rule"


class EvidenceIntegrityError(DomainError):
    """A stored file is missing, or its bytes no longer match the recorded SHA-256."""

    code = "integrity"
    status = 409
