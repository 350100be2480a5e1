"""Exceptions with stable exit codes (the contract with cron, systemd and Kubernetes).

Retryable and fatal network errors are different types: only TemporaryNetworkError is retried.
Messages say what happened and what to do, and never contain a secret.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_PARTIAL = 1  # some input or patients skipped/failed; the rest was processed
EXIT_USAGE = 2  # configuration or usage error
EXIT_SERVER = 3  # server unreachable or unauthorised
EXIT_INTERNAL = 4  # a bug of poems-fhir (an unexpected exception); the rest was processed if possible


class PoemsFhirError(Exception):
    exit_code = EXIT_USAGE


class ConfigError(PoemsFhirError):
    """The configuration (flags, TOML, environment) is unusable."""

    exit_code = EXIT_USAGE


class NetworkError(PoemsFhirError):
    exit_code = EXIT_SERVER

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class TemporaryNetworkError(NetworkError):
    """Worth retrying: 408/429/5xx, connection errors, timeouts."""


class FatalNetworkError(NetworkError):
    """Not worth retrying: 4xx other than 408/429, bad responses, refused redirects."""


class AuthError(FatalNetworkError):
    """Credentials were refused or a token could not be obtained."""


class ForeignHostError(FatalNetworkError):
    """A link pointed at another scheme/host/port than the configured server."""


class PreconditionFailedError(FatalNetworkError):
    """409/412 on a write: the resource changed underneath us."""

    exit_code = EXIT_PARTIAL


class StateLockedError(PoemsFhirError):
    """Another sync run holds the state file's lock."""

    exit_code = EXIT_USAGE
