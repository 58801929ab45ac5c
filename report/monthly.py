"""The monthly run in one command: ``oneclick-report monthly --config monthly.toml``.

It builds the month that just ended (or ``--period``) from the configured source, compares it with
the previous month's latest archived results, checks the built report against its manifest,
archives it and emails it. The steps run in that order and each must succeed before the next:
a failure at any step exits non-zero with a message naming the step, and nothing is sent. The
message is sent last, so the only failure after which anything reached a recipient is a refusal
of some recipients by the server (the error names them).

The configuration (:class:`MonthlyConfig`, TOML) names the source, where the builds and the
archive live, the languages, the recipients and the SMTP server; relative paths are relative to
the file. Secrets never go into it: the SMTP user name and password come from
``ONECLICK_SMTP_USER`` and ``ONECLICK_SMTP_PASSWORD``, the manifest signing key from
``ONECLICK_MANIFEST_KEY``, a database's password from ``PGPASSWORD`` or ``~/.pgpass``.

``source.data`` is any source ``build --data`` reads (:mod:`analysis.sources`): a folder of CSV or
Parquet tables, or a PostgreSQL URL without a password. Which tables (or which SQL query per table)
a database is read with is the analysis configuration's ``[source]`` (``source.config``), as for
``build --config``: that is their one place. The period names the month the report is about (its
title, its date, its archive folder, the previous month compared with); it does not filter the
data. The source must hold that month's tables: a folder of that month's files, or tables, views
or queries that give that month's rows. Example::

    [source]
    data = "/srv/oneclick/data"        # the four tables of the month, or postgresql://host:port/db
    config = "analysis.toml"           # optional: thresholds, budgets, seed, the database's tables

    [output]
    folder = "/srv/oneclick/out"       # each month is built into <folder>/<period>
    archive = "/srv/oneclick/archive"  # <archive>/<period>/rNNN, never overwritten
    languages = ["ru"]                 # or ["ru", "en"]: <folder>/<period>/ru, …/en
    require_previous = true            # fail when the previous month is not archived

    [email]
    from = "Отчёты «В один клик» <reports@oneclick.example>"
    to = ["director@oneclick.example", "cfo@oneclick.example"]
    language = "ru"                    # the report attached (default: the first language)

    [smtp]
    host = "smtp.oneclick.example"
    port = 587
    security = "starttls"              # none, starttls or ssl
"""

from __future__ import annotations

import datetime as dt
import email.utils
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analysis.sources import PostgresSource, is_database_url, parse_source

if TYPE_CHECKING:
    from analysis.config import Config
    from report.build import BuildOutputs

__all__ = ["MonthlyConfig", "MonthlyConfigError", "MonthlyError", "MonthlyInputError", "MonthlyReport",
           "default_period", "load_monthly_config", "run_monthly"]

#: Keys that look like secrets: refused in the file, with the variable to use instead.
_SECRETS = {"password": "ONECLICK_SMTP_PASSWORD", "user": "ONECLICK_SMTP_USER", "username": "ONECLICK_SMTP_USER",
            "key": "ONECLICK_MANIFEST_KEY", "signing_key": "ONECLICK_MANIFEST_KEY"}
#: … in ``[source]``: the database's, which libpq reads from its own variables (or ``~/.pgpass``).
_SOURCE_SECRETS = {"password": "PGPASSWORD (or ~/.pgpass)", "user": "PGUSER (or the URL's user@)",
                   "username": "PGUSER (or the URL's user@)"}


class MonthlyConfigError(ValueError):
    """The monthly configuration is missing, unreadable or invalid (exit 2)."""


class MonthlyInputError(MonthlyConfigError):
    """The month's data are refused at the build (a file or table is missing, a column has the wrong
    type, the database cannot be reached): invalid input, exit 2 as for ``build``; the message names
    the step, the table and the problem (:class:`analysis.errors.DataError`); nothing was built,
    archived or sent."""


class MonthlyError(RuntimeError):
    """A step of the monthly run failed (exit 1); nothing was sent."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceConfig(_Section):
    """Where the month's tables are and the analysis configuration."""

    #: The four tables: a folder (CSV or Parquet files) or a PostgreSQL database
    #: (``postgresql://host:port/database``, no password: :func:`analysis.sources.parse_source`).
    data: Path | PostgresSource
    #: The analysis configuration (TOML or JSON, as ``build --config``); the defaults without it.
    #: Its ``[source]`` names a database's tables or queries.
    config: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _tables_in_the_analysis_config(cls, data: object) -> object:
        from analysis.config import SourceConfig as DatabaseTables

        if isinstance(data, dict):
            misplaced = sorted(k for k in data if k in DatabaseTables.model_fields)
            if misplaced:
                raise ValueError(f"{', '.join(misplaced)}: a database's tables and queries go into the analysis "
                                 "configuration's [source] (the file named by source.config), their one place, "
                                 "as for build --config")
        return data

    @field_validator("data", mode="before")
    @classmethod
    def _source(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("empty; expected a folder or postgresql://host:port/database")
            if is_database_url(value):
                return parse_source(value, option="")  # ValueError on a password, naming PGPASSWORD
        return value


class OutputConfig(_Section):
    """Where builds and the archive go, and in which languages."""

    #: Each month is built into ``<folder>/<period>``.
    folder: Path
    #: The archive: ``<archive>/<period>/rNNN`` (:mod:`report.archive`).
    archive: Path
    languages: tuple[Literal["ru", "en"], ...] = ("ru",)
    #: Fail (before building) when the previous month has no archived results to compare with;
    #: ``false`` builds the first month of an archive without the comparison.
    require_previous: bool = False

    @field_validator("languages")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("one or more distinct languages, e.g. [\"ru\"] or [\"ru\", \"en\"]")
        return value


def _check_address(value: str, what: str) -> str:
    _, address = email.utils.parseaddr(value)
    local, _, domain = address.rpartition("@")
    if (not address or not local or not domain or any(c.isspace() for c in address)
            or any(ord(c) < 32 for c in value)):
        raise ValueError(f"{what} {value!r} is not an email address (e.g. reports@oneclick.example)")
    return value


class EmailConfig(_Section):
    """The message: sender, recipients, and which language's report it carries."""

    sender: str = Field(alias="from")
    to: tuple[str, ...] = Field(min_length=1)
    #: The report attached; the first of ``output.languages`` when omitted.
    language: Literal["ru", "en"] | None = None

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _check_address(value, "the sender")

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_address(v, "the recipient") for v in value)


class SmtpConfig(_Section):
    """The SMTP server (credentials from the environment)."""

    host: str = Field(min_length=1, max_length=253)
    port: int = Field(ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    #: Seconds to wait for each network operation.
    timeout: float = Field(30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _address(self) -> SmtpConfig:
        from report.email import parse_smtp_address

        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        parse_smtp_address(f"{host}:{self.port}")  # ValueError names what is wrong with the host
        return self


class MonthlyConfig(_Section):
    """The monthly run's configuration (``monthly.toml``)."""

    source: SourceConfig
    output: OutputConfig
    email: EmailConfig
    smtp: SmtpConfig

    @model_validator(mode="after")
    def _emailed_language_is_built(self) -> MonthlyConfig:
        if self.email.language is not None and self.email.language not in self.output.languages:
            raise ValueError(f"email.language {self.email.language!r} is not among output.languages "
                             f"{list(self.output.languages)}")
        return self

    @property
    def emailed_language(self) -> str:
        """The language of the report that is sent."""
        return self.email.language or self.output.languages[0]


def _find_secrets(data: object, where: str = "") -> str | None:
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{where}.{key}" if where else str(key)
            secrets = {**_SECRETS, **_SOURCE_SECRETS} if path.split(".")[0] == "source" else _SECRETS
            if str(key).lower() in secrets:
                variable = secrets[str(key).lower()]
                return f"{path}: secrets are not read from the file; set {variable} in the environment"
            found = _find_secrets(value, path)
            if found:
                return found
    return None


def _resolve(base: Path, path: Path | None) -> Path | None:
    if path is None:
        return None
    path = path.expanduser()
    return path if path.is_absolute() else base / path


def load_monthly_config(path: Path) -> MonthlyConfig:
    """Read and check ``monthly.toml``; relative paths become relative to its folder.

    Raises
    ------
    MonthlyConfigError
        Naming the file and every field that is missing, of the wrong type or out of range.
    """
    path = Path(path)
    if not path.is_file():
        raise MonthlyConfigError(f"--config {path}: " + ("not a file" if path.exists() else "no such file"))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise MonthlyConfigError(f"{path}: not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise MonthlyConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise MonthlyConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    secret = _find_secrets(data)
    if secret:
        raise MonthlyConfigError(f"{path}: {secret}")
    try:
        config = MonthlyConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors())
        raise MonthlyConfigError(f"{path}: invalid monthly configuration: {problems}") from None
    base = path.resolve().parent
    tables = config.source.data
    source = config.source.model_copy(update={"data": _resolve(base, tables) if isinstance(tables, Path) else tables,
                                              "config": _resolve(base, config.source.config)})
    output = config.output.model_copy(update={"folder": _resolve(base, config.output.folder),
                                              "archive": _resolve(base, config.output.archive)})
    return config.model_copy(update={"source": source, "output": output})


def default_period(today: dt.date | None = None) -> str:
    """The month that just ended: on any day of December 2026, ``2026-11``."""
    from report.archive import previous_period

    today = today or dt.date.today()
    return previous_period(f"{today.year:04d}-{today.month:02d}")


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    """What a monthly run did."""

    period: str
    previous: Path | None
    outputs: tuple[BuildOutputs, ...]
    revisions: tuple[Path, ...]
    sent: Path
    recipients: tuple[str, ...]
    smtp: str

    def __str__(self) -> str:
        compared = (f"compared with {self.previous.parent.parent.name} ({self.previous.parent})"
                    if self.previous is not None else "no previous month archived: no comparison")
        return "\n".join([f"monthly run {self.period}: {compared}",
                          *(f"built: {o.pdf}" for o in self.outputs),
                          *(f"archived: {r}" for r in self.revisions),
                          f"sent «{self.sent.name}» to {', '.join(self.recipients)} via {self.smtp}"])


def run_monthly(monthly: MonthlyConfig, *, config: Config, period: str | None, environ: Mapping[str, str],
                signing_key: bytes | None, build: Callable[..., tuple[BuildOutputs, ...]],
                log: Callable[[str], None] = lambda _line: None, today: dt.date | None = None) -> MonthlyReport:
    """Build, check, archive and email the month.

    Parameters
    ----------
    monthly : MonthlyConfig
        From :func:`load_monthly_config`.
    config : Config
        The analysis configuration (``source.config``).
    period : str, optional
        ``YYYY-MM``; the month that just ended (:func:`default_period`) when ``None``.
    environ : mapping
        Where the SMTP credentials are read (``ONECLICK_SMTP_USER``, ``ONECLICK_SMTP_PASSWORD``).
    signing_key : bytes, optional
        The manifest key: the build signs with it, the check before sending requires it.
    build : callable
        Builds the report (``report.cli.run_build`` without ``use_cache``): keyword arguments
        ``data`` (``source.data``: a folder or a :class:`analysis.sources.PostgresSource`), ``out``,
        ``period``, ``langs``, ``config``, ``previous``, ``signing_key``.
    log : callable
        Told each step as it starts.

    Raises
    ------
    MonthlyConfigError
        When the environment's credentials are half set or the source is a folder that does not
        exist (before any work).
    MonthlyInputError
        When the build refuses the data (:class:`analysis.errors.DataError`: a missing file or
        table, a wrong type, a database that cannot be reached or refuses the login, or a bad
        previous month), naming the step and the table; nothing has been built, archived or sent.
    MonthlyError
        When a step fails (the previous month is required but missing, the built report does not
        verify, archiving or delivery fails); nothing has been sent.
    """
    from analysis.errors import DataError
    from report.archive import ArchiveError, archive_outputs, find_previous_results
    from report.delivery import ReportFolderError, compose_report_email
    from report.email import DeliveryError, credentials_from_env, send_message

    period = period or default_period(today)
    try:
        username, password = credentials_from_env(environ)
    except ValueError as exc:
        raise MonthlyConfigError(str(exc)) from None
    source = monthly.source.data
    if isinstance(source, Path) and not source.is_dir():  # a database is checked as it is read
        raise MonthlyConfigError(f"source.data {source}: " + ("not a folder" if source.exists() else "no such folder"))
    archive = monthly.output.archive
    for name, folder in (("output.folder", monthly.output.folder), ("output.archive", archive)):
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        if not existing.is_dir():
            raise MonthlyConfigError(f"{name} {folder}: {existing} exists and is not a folder")
    try:
        previous = find_previous_results(archive, period)
    except ValueError as exc:
        raise MonthlyConfigError(f"--period {period}: {exc}") from None
    if previous is None and monthly.output.require_previous:
        from report.archive import previous_period

        raise MonthlyError(f"no archived results of {previous_period(period)} in {archive} to compare with "
                           "(output.require_previous = true); build and archive that month first, or set it to "
                           "false; nothing was built or sent")
    log(f"monthly run {period}: comparing with {previous}" if previous is not None
        else f"monthly run {period}: no archived previous month; the report has no comparison")
    log(f"monthly run {period}: building from {source}")
    try:
        outputs = build(data=source, out=monthly.output.folder / period, langs=monthly.output.languages,
                        config=config, previous=previous, signing_key=signing_key, period=period)
    except DataError as exc:
        raise MonthlyInputError(f"monthly run {period}, step «build» (source.data = {source}): {exc} "
                                "Nothing was built, archived or sent.") from None
    emailed = next(o for o in outputs if o.pdf.stem.endswith(f"_{monthly.emailed_language}"))
    try:  # composed (and the report verified against its manifest) before anything is archived or sent
        message = compose_report_email(emailed.pdf.parent, sender=monthly.email.sender,
                                       recipients=list(monthly.email.to), key=signing_key)
    except (ReportFolderError, ValueError) as exc:
        raise MonthlyError(f"the built report cannot be sent: {exc}; nothing was archived or sent") from None
    revisions = []
    for built in outputs:
        try:
            revisions.append(archive_outputs(built.manifest.parent, archive_root=archive, period=period))
        except (ArchiveError, OSError) as exc:
            archived = f" (archived so far: {', '.join(map(str, revisions))})" if revisions else ""
            raise MonthlyError(f"archiving {built.manifest.parent} into {archive} failed: {exc}{archived}; "
                               "nothing was sent") from None
    smtp = f"{monthly.smtp.host}:{monthly.smtp.port}"
    log(f"sending «{message['Subject']}» to {', '.join(monthly.email.to)} via {smtp}")
    try:
        send_message(message, host=monthly.smtp.host, port=monthly.smtp.port, security=monthly.smtp.security,
                     username=username, password=password, timeout=monthly.smtp.timeout)
    except DeliveryError as exc:
        archived = ", ".join(map(str, revisions))
        raise MonthlyError(f"built and archived as {archived}, but the email failed: {exc}") from None
    return MonthlyReport(period=period, previous=previous, outputs=tuple(outputs), revisions=tuple(revisions),
                         sent=emailed.pdf, recipients=monthly.email.to, smtp=smtp)
