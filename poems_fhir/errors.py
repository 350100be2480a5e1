# SPDX-License-Identifier: Apache-2.0
"""Exceptions with stable exit codes (the contract with cron, systemd and Kubernetes).

Retryable and fatal network errors are different types: only TemporaryNetworkError is retried.
Messages say what happened and what to do, and never contain a secret.
"""

from __future__ import annotations

import errno as _errno
from typing import Any

EXIT_OK = 0
EXIT_PARTIAL = 1  # some input or patients skipped/failed; the rest was processed
EXIT_USAGE = 2  # configuration or usage error (also: --server is not a FHIR base)
EXIT_SERVER = 3  # server down, unreachable, too slow, or its answers unusable
EXIT_AUTH = 4  # authentication refused: the credentials or the token were not accepted
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away (`| head`): as the shell reports SIGPIPE
EXIT_TERMINATED = 143  # SIGTERM (evaluate, report, mappings ...): cleaned up, as the shell reports SIGTERM
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGINT (evaluate, report, mappings ...): cleaned up, as the shell reports SIGINT
EXIT_FORBIDDEN = 5  # authenticated, but a permission (scope) the job needs is missing (HTTP 403)
EXIT_IO = 74  # sysexits EX_IOERR: a disk full (or read-only, or over quota) while writing output, spool or state
#: a write that failed for want of space: fatal for a whole run (every next write fails too), not a bug
NO_SPACE_ERRNOS = frozenset({_errno.ENOSPC, _errno.EDQUOT, _errno.EROFS})
EXIT_INTERNAL = (
    70  # a bug of poems-fhir (an unexpected exception; sysexits EX_SOFTWARE): the rest was processed if possible
)


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
    """Worth retrying: 408/429/5xx, connection errors and resets, timeouts, bodies cut short,
    truncated JSON, a response that outlives the request deadline."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        exhausted: bool = False,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after = retry_after  # seconds the server asked us to wait (Retry-After)
        self.exhausted = exhausted  # retried already: an outer retry loop must not retry it again


class DeadlineExceededError(TemporaryNetworkError):
    """One exchange took longer than the request deadline (e.g. a response trickling in)."""


class RunDeadlineError(TemporaryNetworkError):
    """The run's deadline passed: no further request is sent in this run (never retried)."""


class PageLinkGoneError(TemporaryNetworkError):
    """A 404/410 to a search's own next link: the page expired or was lost (HAPI answers 410 for an
    expired paging link). It says nothing of the patient whose first page was read: the search is
    incomplete and the patient is retried on the next run, never taken for gone."""


class DuplicateIdentifierError(TemporaryNetworkError):
    """The server holds several resources of one patient under one identifier of ours (a clinician's
    copy of our identifier, or duplicates a server made): a conditional write cannot tell them apart.
    Nothing is written for that patient, who fails and is retried on the next run."""


class FatalNetworkError(NetworkError):
    """Not worth retrying: 4xx other than 408/429, unusable responses, refused redirects."""


class SearchNotFoundError(FatalNetworkError):
    """A 404/410 to one of a patient's type searches while ``GET Patient/ID`` answers: the search route is
    missing (a gateway that does not route ``POST …/_search``, a transient 404), not the patient. The
    patient fails for this run and is retried, never parked as gone (probe80 D3)."""

    exit_code = EXIT_PARTIAL


class NotFhirServerError(FatalNetworkError):
    """--server does not point at a FHIR base (HTML page or a non-FHIR 404 at /metadata)."""

    exit_code = EXIT_USAGE


class AuthError(FatalNetworkError):
    """Credentials were refused or a token could not be obtained."""

    exit_code = EXIT_AUTH


class UnusableTokenError(AuthError):
    """The token endpoint issued an access token that cannot be sent in an Authorization header (a line
    break, a space, a character outside visible ASCII): not used, never shown (probe80 D2)."""


class UnusableSecretError(ConfigError):
    """A token, client secret or password from a file or the environment that cannot be sent as it is
    (two lines, a character outside visible ASCII): a configuration error naming the file, never the
    value (probe80 D2)."""


class PermissionDeniedError(AuthError):
    """HTTP 403: authenticated, but not allowed this interaction on this resource type."""

    exit_code = EXIT_FORBIDDEN

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        resource_type: str = "",
        interaction: str = "",
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.resource_type = resource_type
        self.interaction = interaction


class ForeignHostError(FatalNetworkError):
    """A URL would be sent to another scheme/host/port than the configured server, or is ambiguous."""


class PreconditionFailedError(FatalNetworkError):
    """409/412 on a write: the resource changed underneath us."""

    exit_code = EXIT_PARTIAL


class _FoundResourcesError(FatalNetworkError):
    """A create-only write of ours that found resources under our identifier; ``found``: those resources."""

    exit_code = EXIT_PARTIAL

    def __init__(
        self, message: str, *, url: str | None = None, status: int | None = None, found: list[Any] | None = None
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.found: list[Any] = list(found or [])


class UnlistedResourceError(_FoundResourcesError):
    """A create-only write of ours (a conditional create, If-None-Exist) found a resource under our identifier
    that the ownership searches did not list: the server's search answers are not trusted for this patient.
    Nothing of it was changed; the patient fails for this run and is retried (probe80 D4: the conditional
    update sent instead overwrote a clinician's signed report). ``found``: the resources the write found."""


class HalfWrittenError(_FoundResourcesError):
    """A create-only write of ours found, under our identifier, a resource of ours with the very content it
    sent but with a reference to another of its entries left as the transaction's ``urn:uuid:``: what an
    earlier attempt of this write (a transaction applied in part and answered 5xx, then retried) stored. It
    is ours, half-written - never a clinician's takeover - and is written again: the job reads the server
    again and decides again (probe91 N1: it was reported as taken over by someone else). ``found``: those
    resources."""


class LyingAnswerError(FatalNetworkError):
    """A transaction answer whose ``response.location`` names a resource the write did not create or update:
    another resource than the one of ours its conditional update matched, a resource of the patient that is
    not ours (a clinician's report or plan), another resource of ours, or one of another type. The answer is
    not recorded (the state would call that resource ours); the server's resources decide on the next run.
    The patient fails for this run and is retried (probe91b D2: the state recorded a clinician's report and
    plan as ours, and every later run failed the patient, blaming the search)."""

    exit_code = EXIT_PARTIAL


class PartialTransactionError(FatalNetworkError):
    """A transaction answered 200 whose entries were not all applied (a server treating it as a batch):
    the patient is recorded as failed and written again next run."""

    exit_code = EXIT_PARTIAL


class DiscoveryStopped(PoemsFhirError):
    """A stop was requested (SIGTERM/SIGINT) while the run was still finding its patients: no patient is
    in flight, so the run ends at once, incomplete (exit 143 like any stopped run)."""


class StateLockedError(PoemsFhirError):
    """Another sync run holds the state file's lock."""

    exit_code = EXIT_USAGE


class StateError(PoemsFhirError):
    """The state file cannot be used (damaged, not ours, read-only, a folder...)."""

    exit_code = EXIT_USAGE
