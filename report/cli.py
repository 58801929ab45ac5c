"""The ``oneclick-report`` command line: a thin layer over :mod:`analysis` and :mod:`report`.

Exit codes: 0 success, 2 invalid input or usage, 1 unexpected failure (or delivery failure).
Heavy libraries are imported only by the commands that need them, so ``--help`` and
``validate`` answer quickly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from functools import partial
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn

if TYPE_CHECKING:
    from analysis.config import Config
    from report.build import BuildOutputs

EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2
_PERIOD = re.compile(r"[1-9]\d{3}-(0[1-9]|1[0-2])")  # whole string only (fullmatch): no trailing newline
#: The largest synthetic sample (a million customers take a few seconds and ~2 GB to analyse).
_MAX_SAMPLE_CUSTOMERS = 10_000_000
#: Signals that end a build: it cleans up (its work folder, its workers) and publishes nothing.
_TERMINATING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors exit 2, as argparse does, with our prefix
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"oneclick-report: error: {message}\n")


def _period(value: str) -> str:
    if not _PERIOD.fullmatch(value):
        raise argparse.ArgumentTypeError(f"period must be YYYY-MM with a year from 1000 and a month 01–12 "
                                         f"(e.g. 2026-10), got {value!r}")
    return value


_LANGS = ("ru", "en")


def _langs(value: str) -> tuple[str, ...]:
    """``ru``, ``en`` or several, comma-separated (``ru,en``): each once."""
    langs = tuple(part.strip() for part in value.split(","))
    unknown = [lang for lang in langs if lang not in _LANGS]
    if unknown or not langs:
        raise argparse.ArgumentTypeError(f"expected ru, en or both comma-separated (ru,en), got {value!r}")
    if len(set(langs)) != len(langs):
        raise argparse.ArgumentTypeError(f"a language named twice in {value!r}")
    return langs


def _int_in(lo: int, hi: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
        if not lo <= number <= hi:
            raise argparse.ArgumentTypeError(f"expected a whole number at least {lo} and at most {hi}, got {value}")
        return number
    return parse


def _check_output_folder(path: Path, option: str) -> None:
    """Before any work: ``path`` must be a folder or creatable as one."""
    if path.exists() and not path.is_dir():
        raise _Invalid(f"{option} {path} exists and is not a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise _Invalid(f"{option} {path}: {parent} is not a folder")
            break


def _check_input_folder(path: Path, option: str) -> None:
    if not path.is_dir():
        raise _Invalid(f"{option} {path}: " + ("not a folder" if path.exists() else "no such folder"))


_DATA_HELP = ("folder with the four tables as CSV (or <table>.parquet) files, or a PostgreSQL database "
              "postgresql://host:port/database (tables or queries in the config's [source]; the password "
              "in PGPASSWORD, never in the URL)")


def _data_source(value: str) -> Path | object:
    """``--data``: a folder, or a database URL without a password (checked before any work)."""
    if not value.startswith(("postgresql://", "postgres://")):
        return Path(value)
    from analysis.sources import parse_source  # imports polars: only for a database

    try:
        return parse_source(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _check_input(source: object, option: str) -> None:
    """A folder must exist; a database is checked when it is read."""
    if isinstance(source, Path):
        _check_input_folder(source, option)


def _current_period() -> str:
    return dt.date.today().strftime("%Y-%m")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = _Parser(prog="oneclick-report",
                     description="Monthly purchasing-activity report for «В один клик»: validate the data, "
                                 "build HTML and PDF reports, send and verify them.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="check the four tables and print a data-quality summary")
    p.add_argument("--data", type=_data_source, required=True, help=_DATA_HELP)
    p.add_argument("--config", type=Path, help="configuration file (TOML or JSON)")

    p = sub.add_parser("sample", help="write a seeded synthetic data set in the raw formats")
    p.add_argument("--out", type=Path, required=True, help="folder to write the four CSV files into")
    p.add_argument("--customers", type=_int_in(2, _MAX_SAMPLE_CUSTOMERS), default=1300,
                   help="number of customers (default 1300)")
    p.add_argument("--seed", type=_int_in(0, 2**32 - 1), default=42, help="random seed (default 42)")
    p.add_argument("--next-from", type=Path, dest="next_from",
                   help="write next month's tables for the customers of this data folder instead of a new sample")
    p.add_argument("--actions", type=Path, help="with --next-from: that month's actions.csv")
    p.add_argument("--effect", action="append", default=[], metavar="ACTION=CHANGE",
                   help="with --next-from: change of the decline probability of ACTION's treated customers "
                        "(e.g. promo_cart=-0.15); repeatable")

    p = sub.add_parser("build", help="analyse the data and write the report (HTML, PDF, results, scores)")
    p.add_argument("--data", type=_data_source, required=True, help=_DATA_HELP)
    p.add_argument("--out", type=Path, help="output folder (default out/<period>)")
    p.add_argument("--period", type=_period, default=None, help="reporting month YYYY-MM (default: this month)")
    p.add_argument("--lang", type=_langs, default=None, metavar="LANG[,LANG]",
                   help="report language: ru, en, or ru,en for both from one analysis, each into its own "
                        "subfolder OUT/ru, OUT/en (default: the configuration's, ru)")
    p.add_argument("--config", type=Path, help="configuration file (TOML or JSON)")
    p.add_argument("--no-cache", dest="no_cache", action="store_true",
                   help="neither use nor store the analysis cache ($XDG_CACHE_HOME/oneclick-report)")
    p.add_argument("--previous", type=Path, help="previous month's results.json for the comparison "
                   "(default with --archive: the previous period's latest archived results)")
    p.add_argument("--archive", type=Path, help="also file the outputs under ARCHIVE/<period>/rNNN "
                   "(never overwriting an archived report)")

    p = sub.add_parser("monthly", help="the monthly run: build the month that just ended, archive it, compare "
                                       "it with the previous archived month and email it")
    p.add_argument("--config", type=Path, required=True, help="the monthly run's configuration (TOML)")
    p.add_argument("--period", type=_period, default=None,
                   help="reporting month YYYY-MM (default: the month that just ended)")
    p.add_argument("--no-cache", dest="no_cache", action="store_true", help="do not use the analysis cache")

    p = sub.add_parser("send", help="email the report: a summary with the PDF attached")
    p.add_argument("--report", type=Path, required=True, help="output folder of a build")
    p.add_argument("--to", required=True, help="recipient address(es), comma-separated")
    p.add_argument("--from", dest="sender", required=True, help="sender address")
    p.add_argument("--smtp", required=True, help="SMTP server HOST:PORT")
    security = p.add_mutually_exclusive_group()
    security.add_argument("--starttls", action="store_true", help="upgrade the connection with STARTTLS")
    security.add_argument("--ssl", action="store_true", help="connect with implicit TLS")
    p.add_argument("--dry-run", type=Path, metavar="FILE.eml", help="write the message to FILE.eml instead of sending")

    p = sub.add_parser("verify", help="check a report PDF against its manifest, attachments and inputs")
    p.add_argument("pdf", type=Path, help="the report PDF (manifest.json beside it)")
    p.add_argument("--data", type=Path, help="input folder to check against the recorded hashes")
    return parser


def _load_config(path: Path | None) -> Config:  # analysis.config is imported lazily
    from pydantic import ValidationError

    from analysis.config import ModelConfig, load_config

    if path is not None and path.exists() and not path.is_file():
        raise _Invalid(f"--config {path} is not a file")
    defaults = ModelConfig()
    try:
        config = load_config(path)
    except FileNotFoundError:
        raise _Invalid(f"configuration file not found: {path}") from None
    except OSError as exc:
        raise _Invalid(f"cannot read the configuration file {path}: {exc.strerror}") from None
    except (ValidationError, ValueError) as exc:
        raise _Invalid(f"{path}: invalid configuration: {exc}") from None
    if config.model.candidates != defaults.candidates or config.model.extra_candidates != defaults.extra_candidates:
        from analysis.model import check_candidates  # imports scikit-learn: only for candidates of one's own

        try:
            check_candidates(config.model)
        except ValueError as exc:
            raise _Invalid(f"{path}: invalid configuration: {exc}") from None
    return config


class _Invalid(Exception):
    """Invalid usage or input: exit 2."""


def _cmd_validate(args: argparse.Namespace) -> int:
    from analysis.features import prepare_data
    from report.texts import cleaning_note

    _check_input(args.data, "--data")
    config = _load_config(args.config)
    data = prepare_data(args.data, config)
    r = data.result
    print(f"Data in {args.data}: valid.")
    print("Tables:")
    for t in r.tables:
        sep = {"\t": "tab"}.get(t.separator, t.separator)
        print(f"  {t.file:<18} {t.rows:>9} rows  encoding {t.encoding}, separator '{sep}', decimal '{t.decimal}'")
    print("Fixes:" if r.cleaning_log else "Fixes: none")
    for e in r.cleaning_log:
        change = ""
        if e.from_ is not None:
            change = f"{e.from_!r} → {e.to!r}" if e.to is not None else f"{e.from_!r} dropped"
        note = f" ({cleaning_note(e.note, lang='en')})" if e.note else ""
        print(f"  {e.table}.{e.column or '*'}: {e.action} {change} [{e.rows} rows]{note}")
    for o in r.outliers:
        values = ", ".join(str(v) for v in o.values)
        print(f"Outlier: {o.table}.{o.column} {values} (customers {', '.join(map(str, o.ids))}), "
              f"threshold {o.threshold:.1f}, policy {o.policy}")
    print(f"Customers: {r.n_customers_raw} raw → {r.n_customers_active} active in all three months "
          f"(−{r.n_dropped_inactive} inactive) → {r.n_customers_analysed} analysed "
          f"(−{r.n_dropped_outlier} by the outlier policy); {r.n_declined} declined, {r.n_stable} same level.")
    return EXIT_OK


def _effects(items: list[str]) -> dict[str, float]:
    effects: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            change = float(value)
        except ValueError:
            change = float("nan")
        if not sep or not key.strip() or not -1.0 <= change <= 1.0:
            raise _Invalid(f"--effect {item!r}: expected ACTION=CHANGE with CHANGE in [-1, 1], e.g. promo_cart=-0.15")
        effects[key.strip()] = change
    return effects


def _cmd_sample_next(args: argparse.Namespace) -> int:
    import pandas as pd

    from analysis.sample import next_month, write_tables

    if args.actions is None or not args.actions.is_file():
        raise _Invalid(f"--next-from needs --actions FILE (that month's actions.csv); not found: {args.actions}")
    effects = _effects(args.effect)
    try:
        actions = pd.read_csv(args.actions, usecols=["id", "action", "group"])
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise _Invalid(f"{args.actions}: not an actions.csv with the columns id, action, group ({exc})") from None
    try:
        tables = next_month(args.next_from, actions=actions, effects=effects, seed=args.seed)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None
    for path in write_tables(tables, args.out):
        print(path)
    return EXIT_OK


def _cmd_sample(args: argparse.Namespace) -> int:
    from analysis.sample import write_sample

    _check_output_folder(args.out, "--out")
    if args.next_from is not None:
        return _cmd_sample_next(args)
    if args.actions is not None or args.effect:
        raise _Invalid("--actions and --effect go with --next-from")
    for path in write_sample(args.out, n_customers=args.customers, seed=args.seed):
        print(path)
    return EXIT_OK


def _cmd_build(args: argparse.Namespace) -> int:
    _check_input(args.data, "--data")
    config = _load_config(args.config)
    period = args.period or _current_period()
    langs = args.lang or (config.report.lang,)
    out = args.out or Path("out") / period
    _check_output_folder(out, "--out")
    if args.archive is not None:
        _check_output_folder(args.archive, "--archive")
    previous = args.previous
    if previous is None and args.archive is not None:
        from report.archive import find_previous_results

        previous = find_previous_results(args.archive, period)
    if previous is not None and not previous.is_file():
        raise _Invalid(f"previous results not found: {previous}")
    outputs = run_build(data=args.data, out=out, period=period, langs=langs, config=config, previous=previous,
                        use_cache=not args.no_cache, signing_key=_signing_key())
    for built in outputs:
        for path in built.all():
            print(path)
    if args.archive is not None:
        from report.archive import archive_outputs

        for built in outputs:
            print(f"archived: {archive_outputs(built.manifest.parent, archive_root=args.archive, period=period)}")
    return EXIT_OK


def run_build(*, data: Path, out: Path, period: str, langs: Sequence[str], config: Config, previous: Path | None,
              use_cache: bool, signing_key: bytes | None) -> tuple[BuildOutputs, ...]:
    """A build with its progress line and its signal handling (``build`` and ``monthly``)."""
    from report.build import Progress, build_reports
    from report.cache import AnalysisCache

    progress = Progress()
    cache = AnalysisCache(max_entries=config.cache.max_entries, max_bytes=config.cache.max_bytes,
                          signing_key=signing_key, note=progress.note) if use_cache else None
    with _StopOnSignal() as stop:
        try:
            return build_reports(data_dir=data, out_dir=out, period=period, langs=langs, config=config,
                                 previous=previous, progress=progress, signing_key=signing_key,
                                 cancelled=stop.requested, cache=cache)
        finally:
            progress.done()


def _signing_key() -> bytes | None:
    from report.signing import key_from_env

    try:
        return key_from_env(os.environ)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None


def _cmd_send(args: argparse.Namespace) -> int:
    from report.delivery import ReportFolderError, compose_report_email
    from report.email import DeliveryError, credentials_from_env, parse_smtp_address, send_message, write_eml

    if args.dry_run is not None and args.dry_run.is_dir():
        raise _Invalid(f"--dry-run {args.dry_run} is a folder; expected a file name (FILE.eml)")
    try:
        host, port = parse_smtp_address(args.smtp)
        username, password = credentials_from_env(os.environ)
        recipients = [a.strip() for a in args.to.split(",") if a.strip()]
        message = compose_report_email(args.report, sender=args.sender, recipients=recipients, key=_signing_key())
    except (ValueError, ReportFolderError) as exc:
        raise _Invalid(str(exc)) from None
    if args.dry_run is not None:
        print(write_eml(message, args.dry_run))
        return EXIT_OK
    security: Literal["none", "starttls", "ssl"] = "starttls" if args.starttls else ("ssl" if args.ssl else "none")
    try:
        send_message(message, host=host, port=port, security=security, username=username, password=password)
    except DeliveryError as exc:
        print(f"oneclick-report: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"sent «{message['Subject']}» to {', '.join(recipients)} via {args.smtp}")
    return EXIT_OK


def _cmd_monthly(args: argparse.Namespace) -> int:
    from report.monthly import MonthlyConfigError, MonthlyError, load_monthly_config, run_monthly

    try:
        monthly = load_monthly_config(args.config)
    except MonthlyConfigError as exc:
        raise _Invalid(str(exc)) from None
    config = _load_config(monthly.source.config)
    try:
        report = run_monthly(monthly, config=config, period=args.period, environ=os.environ,
                             signing_key=_signing_key(), build=partial(run_build, use_cache=not args.no_cache),
                             log=partial(print, file=sys.stderr))
    except MonthlyConfigError as exc:
        raise _Invalid(str(exc)) from None
    except MonthlyError as exc:
        print(f"oneclick-report: monthly run failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(report)
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    from report.verify import verify_report

    if args.pdf.is_dir():
        pdfs = sorted(p.name for p in args.pdf.glob("*.pdf"))
        raise _Invalid(f"{args.pdf} is a folder; expected the report PDF"
                       + (f" (there: {', '.join(pdfs)})" if pdfs else ""))
    result = verify_report(args.pdf, data_dir=args.data, key=_signing_key())
    for check in result.checks:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    print("verified" if result.ok else "NOT verified")
    return EXIT_OK if result.ok else EXIT_FAILURE


class _Terminated(BaseException):
    """A termination signal: the build unwinds (its work folder is removed) and publishes nothing."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _StopOnSignal:
    """SIGINT/SIGTERM/SIGHUP handlers for a build: remember the signal and raise :class:`_Terminated`
    (the first time only: a second signal does not interrupt the clean-up).

    The exception unwinds the build; the record is what the publisher asks (``requested``) just
    before it renames anything, because an exception raised by a handler that runs inside an
    at-fork or finaliser callback is printed and dropped by the interpreter.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopOnSignal:
        for signum in _TERMINATING:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: object) -> None:  # a signal handler's signature
        if self.signum is not None:
            return
        self.signum = signum
        raise _Terminated(signum)

    def requested(self) -> bool:
        """Whether a termination signal arrived."""
        return self.signum is not None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``oneclick-report``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    from analysis.errors import DataError
    from report.publish import OutputFolderError, PublishInterrupted, describe_os_error

    commands = {"validate": _cmd_validate, "sample": _cmd_sample, "build": _cmd_build, "send": _cmd_send,
                "monthly": _cmd_monthly, "verify": _cmd_verify}
    try:
        return commands[args.command](args)
    except DataError as exc:
        print(f"oneclick-report: invalid input: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except (_Invalid, OutputFolderError) as exc:
        print(f"oneclick-report: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("oneclick-report: interrupted; nothing was published", file=sys.stderr)
        return EXIT_FAILURE
    except PublishInterrupted as exc:
        print(f"oneclick-report: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except _Terminated as exc:
        print(f"oneclick-report: stopped by {signal.Signals(exc.signum).name}; nothing was published",
              file=sys.stderr)
        return 128 + exc.signum
    except OSError as exc:  # a full disk, a protected file: the message names the path
        print(f"oneclick-report: {describe_os_error(exc)}", file=sys.stderr)
        if os.environ.get("ONECLICK_DEBUG"):
            raise
        return EXIT_FAILURE
    except BrokenProcessPool as exc:
        where = "".join(f" {note}" for note in getattr(exc, "__notes__", ()))
        print(f"oneclick-report: a worker process died{where} (killed, or out of memory); the build "
              "stopped and wrote nothing", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:
        print(f"oneclick-report: unexpected failure: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("ONECLICK_DEBUG"):
            raise
        if exc.__cause__ is not None and getattr(exc, "__notes__", None):  # raised in a worker: its traceback
            print(str(exc.__cause__).strip(), *exc.__notes__, sep="\n", file=sys.stderr)
        return EXIT_FAILURE


def run() -> NoReturn:
    """The ``oneclick-report`` command (and ``python -m report.cli``): :func:`main`, then exit.

    Before the interpreter finalises, every object is moved to the garbage collector's permanent
    generation (:func:`gc.freeze`), so the collection that finalisation runs does not traverse the
    objects of every library a build imported (measured on the real data: 0.5–1.2 s of exit → 0.1 s).
    Nothing is left to clean up by then: the build removed its work folder and stopped its workers,
    and the memory goes back to the system with the process. :func:`main` itself, called as a
    library (the tests), leaves nothing frozen (the analysis freezes what it keeps alive only while
    it runs, and not at all when the caller froze something: :func:`runtime.collector.frozen`).
    """
    code = main()
    sys.stdout.flush()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # ``python -m report.cli``
    run()
