"""Errors the application layer raises; each carries a stable code and its HTTP status."""

from __future__ import annotations

from typing import Any, ClassVar


class ApplicationError(Exception):
    code: ClassVar[str] = "application.error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request refused"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(ApplicationError):
    code = "not_found"
    status = 404
    title = "Not found"


class VersionConflict(ApplicationError):
    code = "concurrency.version_conflict"
    status = 409
    title = "Version conflict"


class AlreadyExists(ApplicationError):
    code = "conflict.already_exists"
    status = 409
    title = "Already exists"


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency.key_reused"
    status = 422
    title = "Idempotency-Key reused with another request"


class Unauthenticated(ApplicationError):
    code = "auth.unauthenticated"
    status = 401
    title = "Not authenticated"


class Forbidden(ApplicationError):
    code = "auth.forbidden"
    status = 403
    title = "Role not allowed"


class ConcurrencyExhausted(ApplicationError):
    code = "concurrency.retry_exhausted"
    status = 409
    title = "Too many concurrent writes"


class ProjectionTimeout(ApplicationError):
    code = "read.min_position_timeout"
    status = 504
    title = "Read model did not reach the requested position in time"


class ProcessingRestricted(ApplicationError):
    code = "privacy.processing_restricted"
    status = 409
    title = "Processing of this person's data is restricted"


class SubjectErased(ApplicationError):
    code = "privacy.subject_erased"
    status = 409
    title = "This person's data was erased"
