"""Shared pieces of the warehouse tests (tests/warehouse/*.py SLUICE PG_FIXTURE): a real
PostgreSQL server from tests/support/pg_fixture.cc, a scratch project pointed at it, and psql."""
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from run_case import SKIPPED, Postgres  # noqa: E402  (tests/run_case.py: the process handling)


class Server(Postgres):
    """A pg_fixture process: a real PostgreSQL server until stop(). Exits 77 (skipped) where
    PostgreSQL is not installed."""

    def __init__(self, fixture, work, database="warehouse"):
        super().__init__(fixture, database, work)
        if self.info is None:
            self.stop()
            if self.proc.returncode == SKIPPED:
                print(f"SKIPPED: {self.log().removeprefix('SKIPPED: ')}")
                sys.exit(SKIPPED)
            raise SystemExit(f"pg_fixture exited {self.proc.returncode}:\n{self.log()}")
        self.psql_bin = self.info["psql"] or shutil.which("psql")
        self.port, self.password = self.info["port"], self.info["password"]
        # What a project says: no password in it; PGPASSWORD carries it.
        self.project_uri = f"postgresql://postgres@127.0.0.1:{self.port}/{self.info['database']}"

    def psql(self, sql, check=True, timeout=300):
        """Runs SQL with psql (CSV, header first); returns the rows after the header."""
        p = subprocess.run([self.psql_bin, "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-d",
                            self.info["conninfo"], "-c", sql], capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"psql failed: {sql}\n{p.stderr}")
        return p.stdout.splitlines()[1:] if p.stdout else []

    def value(self, sql):
        """The first column of the first row (None for no row, "" for NULL)."""
        rows = list(csv.reader(io.StringIO("\n".join(self.psql(sql)))))
        return rows[0][0] if rows else None


class Project:
    """A scratch project whose dev environment's warehouse is `warehouse`."""

    def __init__(self, sluice, work, warehouse, models, password=None):
        self.sluice, self.dir = sluice, os.path.join(work, "project")
        os.makedirs(os.path.join(self.dir, "models"), exist_ok=True)
        with open(os.path.join(self.dir, "sluice.yaml"), "w") as f:
            f.write("project: whtest\nenvironments:\n  dev:\n    warehouse: ${env:WH_URI}\n")
        for name, sql in models.items():
            db, table = name.split(".")
            os.makedirs(os.path.join(self.dir, "models", db), exist_ok=True)
            with open(os.path.join(self.dir, "models", db, table + ".sql"), "w") as f:
                f.write(sql + "\n")
        self.env = dict(os.environ, NO_COLOR="1", WH_URI=warehouse)
        if password is not None:
            self.env["PGPASSWORD"] = password

    def write_model(self, name, sql):
        db, table = name.split(".")
        with open(os.path.join(self.dir, "models", db, table + ".sql"), "w") as f:
            f.write(sql + "\n")

    def argv(self, *args):
        return [self.sluice, "-C", self.dir] + list(args)

    def run(self, *args, want=0, env=None, timeout=600):
        p = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout,
                           env=dict(self.env, **(env or {})))
        if want is not None and p.returncode != want:
            raise AssertionError(f"sluice {' '.join(args)}: exit {p.returncode}, expected {want}"
                                 f"\n--- stdout\n{p.stdout}--- stderr\n{p.stderr}")
        return p


def main(body):
    """Runs body(sluice, fixture, work) in a scratch folder removed afterwards."""
    sluice, fixture = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    work = tempfile.mkdtemp(prefix="sluice-wh-")
    try:
        body(sluice, fixture, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
