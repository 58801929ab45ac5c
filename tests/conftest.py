"""Shared fixtures: the project's sample, the real data (when ../shared is beside the clone), and
one analysis run on the sample reused by every test that needs a real :class:`Results`."""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "sample"
REAL_DIR = ROOT.parent / "shared" / "data" / "one-click"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Builds run by the tests use a cache of their own (``$XDG_CACHE_HOME``), never the user's;
    tests of the cache itself use one per module."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The project's own synthetic sample (read-only: copy before changing)."""
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The published data set; skips where ../shared is not beside the project."""
    if not (REAL_DIR / "market_file.csv").is_file():
        pytest.skip("the real data set (../shared/data/one-click) is not available")
    return REAL_DIR


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample, to make bad inputs from."""
    target = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR, target)
    return target


@pytest.fixture(scope="session")
def analysis_sample():  # noqa: ANN201 - analysis.pipeline.AnalysisOutput
    """One full analysis run on the sample (results + scores), shared by the session."""
    from analysis.config import Config
    from analysis.pipeline import run_analysis

    return run_analysis(SAMPLE_DIR, config=Config(), period="2026-10")


@pytest.fixture(scope="session")
def results_sample(analysis_sample):  # noqa: ANN001, ANN201 - analysis.results.Results
    """The :class:`Results` of the sample run."""
    return analysis_sample.results


# --- a real PostgreSQL server on loopback, for the database source (issue 16) --------------------------------

@dataclass(frozen=True)
class PostgresServer:
    """A server this test session started: ``initdb`` in a temporary folder, on 127.0.0.1."""

    host: str
    port: int
    user: str
    password: str

    def url(self, database: str = "postgres") -> str:
        """The URL the tests give ``--data``: no password (it comes from PGPASSWORD)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def admin_url(self, database: str = "postgres") -> str:
        """A URL with the password, for the fixtures' own connections (never given to the CLI)."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"


def _postgres_bindir() -> Path | None:
    """Debian's postgresql package puts initdb and pg_ctl in /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl")
    candidates = ([Path(found).resolve().parent] if found else []) + sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")), reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start PostgreSQL from the system's binaries (make sysdeps installs Debian's ``postgresql``)
    in a temporary folder, listening on 127.0.0.1 only, with a password (scram-sha-256) for its
    one user; stopped at the end of the session. Skips only when the binaries are absent."""
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed (Debian's postgresql package: make sysdeps)")
    # not under pytest's own temporary folder: that one is private to root (mode 0700), and the server
    # runs as the package's user
    root = Path(tempfile.mkdtemp(prefix="oneclick-postgres-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    password = secrets.token_hex(16)
    (root / "pwfile").write_text(password + "\n")
    user_kwargs: dict[str, int] = {}
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root: the package's own user runs them
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            account = pwd.getpwnam("nobody")
        user_kwargs = {"user": account.pw_uid, "group": account.pw_gid}
        for path in (root, sockets, root / "pwfile"):
            os.chown(path, account.pw_uid, account.pw_gid)
    made = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "oneclick", "--auth=scram-sha-256",
                           f"--pwfile={root / 'pwfile'}", "-E", "UTF8", "--no-locale", "--no-sync"],
                          capture_output=True, timeout=120, cwd=root, **user_kwargs)
    if made.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {made.stderr.decode(errors='replace')}")
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c full_page_writes=off"
    started = subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
                              "-t", "60", "start"], capture_output=True, timeout=120, cwd=root, **user_kwargs)
    if started.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr.decode()}\n"
                           f"{log.read_text() if log.exists() else ''}")
    try:
        yield PostgresServer(host="127.0.0.1", port=port, user="oneclick", password=password)
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=120, cwd=root, **user_kwargs)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def real_database(postgres_server: PostgresServer, real_dir: Path) -> str:
    """The real data loaded into the session's server (database ``real``); its URL, without a password."""
    load_into_postgres(postgres_server, "real", raw_tables_typed(real_dir, identifiers=("market_file",)))
    return postgres_server.url("real")


def raw_tables_typed(data_dir: Path, *, identifiers: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """The four raw tables of ``data_dir`` as a store's database or Parquet export holds them:
    numbers as numbers (read by pandas, independently of the project's loader), text as text, the
    raw column names, or the English identifiers for the tables in ``identifiers`` (PostgreSQL cuts
    names at 63 bytes: two of market_file's Cyrillic names are longer)."""
    import pandas as pd

    from analysis.schema import TABLES_BY_NAME

    tables = {}
    for name in ("market_file", "market_money", "market_time", "money"):
        path = data_dir / f"{name}.csv"
        head = path.read_text(encoding="utf-8").splitlines()[0]
        sep = ";" if head.count(";") > head.count(",") else ","
        tables[name] = pd.read_csv(path, sep=sep, decimal="," if sep == ";" else ".")
        if name in identifiers:
            tables[name] = tables[name].rename(columns=TABLES_BY_NAME[name].rename_map)
    return tables


def load_into_postgres(server: PostgresServer, database: str, tables: dict[str, pd.DataFrame]) -> None:
    """Create ``database`` afresh and load ``tables`` into it (ADBC bulk ingest, rows in order)."""
    import adbc_driver_postgresql.dbapi as pg
    import pyarrow as pa

    with pg.connect(server.admin_url(), autocommit=True) as admin, admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{database}"')
        cursor.execute(f'CREATE DATABASE "{database}" ENCODING \'UTF8\' TEMPLATE template0')
    with pg.connect(server.admin_url(database)) as connection:
        with connection.cursor() as cursor:
            for name, frame in tables.items():
                cursor.adbc_ingest(name, pa.Table.from_pandas(frame, preserve_index=False), mode="create")
        connection.commit()
