#!/usr/bin/env python3
"""Runs one data-driven case: tests/cases/<name>/ holds a project, its inputs and a `test` script.

Usage: run_case.py SLUICE_BINARY CASE_DIR [WAREHOUSE]

Exits 0 when the case passes, 1 when it fails, 77 when it is skipped (it uses `postgres:`, or
WAREHOUSE is postgres, and PostgreSQL is not installed; ctest shows it as skipped).

One script, both warehouses: a case folder holding a file `warehouses` (names separated by
spaces or lines: `duckdb`, `postgres`) runs once per name. CMakeLists.txt registers case.NAME
for duckdb and case.NAME.pg for postgres, and passes the name as WAREHOUSE. The script's
commands then see SLUICE_WAREHOUSE, for the project to say (in sluice.yaml)

    environments:
      dev:
        warehouse: ${env:SLUICE_WAREHOUSE}

  duckdb     SLUICE_WAREHOUSE=.sluice/test.duckdb (a DuckDB file in the project folder)
  postgres   a PostgreSQL server is started before the first block, as by `postgres:` (so
             SLUICE_TEST_PG, PGPASSWORD and psql: work too), and SLUICE_WAREHOUSE=$SLUICE_TEST_PG;
             such a case must not have a `postgres:` block of its own.

and SLUICE_WAREHOUSE_KIND=duckdb or postgres. A block with the line `when: duckdb` (or
`when: postgres`) runs on that warehouse only (say, for messages that spell types as the
engine does); without WAREHOUSE no block has `when:`. Check the warehouse's rows with
`warehouse: SQL` and the lines after ----, in SQL both engines accept and whose answers print
alike (ORDER BY every column; cast numbers that are not integers, and times, to VARCHAR/text).

The case folder:
  project/   the project files (sluice.yaml, sources/, jobs/, models/); copied to a fresh folder
  input/     files the commands use (copied beside the project as input/)
  test       the script: blocks separated by blank lines, each starting with one of

    run: ARGS          run `sluice ARGS` in the project; it must exit 0 (or `exit: N`)
    error: ARGS        as run:, but it must fail (exit 2 unless `exit: N`)
    query: SQL         `sluice query --format csv SQL`; the lines after ---- are the exact answer
    warehouse: SQL     `sluice query --warehouse --format csv SQL` (the project's warehouse), as
                       query:, the lines after ---- the exact answer
    write: PATH        write the lines after ---- to PATH in the project (change a file mid-case)
    remove: PATH       delete PATH in the project
    env: NAME=VALUE    set an environment variable for the following commands
    cd: PATH           run the following commands in PATH (relative to the project folder)
    postgres:          start a real PostgreSQL server for the rest of the case, with a database
    postgres: DBNAME   `warehouse` (or DBNAME: letters, digits, _), and set for the following
                       commands SLUICE_TEST_PG=postgresql://postgres@127.0.0.1:PORT/DBNAME (no
                       password in it) and PGPASSWORD (the server's password), so a project can
                       say `warehouse: ${env:SLUICE_TEST_PG}`. One per case; the server is
                       stopped and removed when the case ends, passed or failed.
    psql: SQL          run SQL on that server's database with `psql -X -q --csv -v
                       ON_ERROR_STOP=1 -c SQL`, as postgres over TCP with the password (as a
                       project connects); the lines after ---- are the exact answer, CSV with
                       its header line first, as for query: (a statement without rows, such
                       as create or insert, answers nothing; an SQL error exits 1)

  then optional lines `when: WAREHOUSE` (see above), `exit: N`, `contains: TEXT` (stdout or stderr must contain TEXT) and
  `lacks: TEXT` (neither may contain it), and
  for run:/error: the lines after ---- must each appear in the output (stdout for run:, stderr
  for error:), in order. Lines starting with # are comments.

The server of `postgres:` is tests/support/pg_fixture.cc (the unit tests' pg::testing::Server:
a copy of an initdb'd template cluster, on a free port, so cases running in parallel each have
their own). run_case.py finds the program in $SLUICE_PG_FIXTURE (set by CMakeLists.txt for the
case tests), else beside SLUICE_BINARY. Where PostgreSQL is not installed, a case reaching a
`postgres:` block stops there with exit 77 (skipped) and says so.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

SKIPPED = 77


class Postgres:
    """A pg_fixture process: a real PostgreSQL server until stop() (or this process's end, which
    closes the fixture's stdin)."""

    def __init__(self, fixture, database, work):
        self.log_path = os.path.join(work, "pg_fixture.log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([fixture, database], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.proc.stdout.readline()
        self.info = json.loads(line) if line.strip() else None

    def log(self):
        with open(self.log_path) as f:
            return f.read().strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()  # end of file: the fixture stops the server and removes it
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


def parse(text):
    blocks, block = [], []
    for line in text.splitlines():
        if line.startswith("#") and not block:
            continue
        if line.strip() == "":
            if block:
                blocks.append(block)
                block = []
            continue
        block.append(line)
    if block:
        blocks.append(block)
    return blocks


def fail(case, lineno, message):
    print(f"FAIL {case} (block at test line {lineno}): {message}")
    sys.exit(1)


WAREHOUSES = ("duckdb", "postgres")


def start_postgres(case, lineno, sluice, database, work, env):
    """Starts pg_fixture and sets SLUICE_TEST_PG and PGPASSWORD in env; exits 77 (skipped) where
    PostgreSQL is not installed."""
    fixture = os.environ.get("SLUICE_PG_FIXTURE") or os.path.join(
        os.path.dirname(sluice), "pg_fixture")
    if not os.access(fixture, os.X_OK):
        fail(case, lineno, f"no pg_fixture program at {fixture} (build it: ninja "
             "pg_fixture; or set SLUICE_PG_FIXTURE)")
    postgres = Postgres(fixture, database, work)
    if postgres.info is None:
        postgres.stop()
        if postgres.proc.returncode == SKIPPED:
            print(f"SKIPPED {case} (block at test line {lineno}): "
                  f"{postgres.log().removeprefix('SKIPPED: ')}")
            sys.exit(SKIPPED)
        fail(case, lineno, f"pg_fixture exited {postgres.proc.returncode}:\n{postgres.log()}")
    info = postgres.info
    env["SLUICE_TEST_PG"] = (f"postgresql://postgres@127.0.0.1:{info['port']}/"
                             f"{info['database']}")
    env["PGPASSWORD"] = info["password"]
    return postgres


def main():
    sluice, case_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    warehouse = sys.argv[3] if len(sys.argv) > 3 else None
    case = name = os.path.basename(case_dir)
    if warehouse is not None and warehouse not in WAREHOUSES:
        fail(case, 0, f"unknown warehouse {warehouse!r} (known: {', '.join(WAREHOUSES)})")
    if warehouse:
        case = f"{case} ({warehouse})"
    with open(os.path.join(case_dir, "test")) as f:
        script = f.read()
    # Line numbers of block starts, for messages.
    starts, prev_blank = [], True
    for i, line in enumerate(script.splitlines(), 1):
        if line.startswith("#") and prev_blank:
            continue  # a comment before a block leaves the block's start to its first line
        if line.strip() and prev_blank:
            starts.append(i)
        prev_blank = line.strip() == ""
    work = tempfile.mkdtemp(prefix=f"sluice-case-{name}-{warehouse or ''}")
    env = dict(os.environ, SLUICE_MASK_SALT="test-salt", NO_COLOR="1")
    postgres = None
    try:
        proj = os.path.join(work, "project")
        shutil.copytree(os.path.join(case_dir, "project"), proj)
        if os.path.isdir(os.path.join(case_dir, "input")):
            shutil.copytree(os.path.join(case_dir, "input"), os.path.join(proj, "input"))
        cwd = proj
        if warehouse == "postgres":
            if any(b[0].partition(":")[0].strip() == "postgres" for b in parse(script)):
                fail(case, 0, "a case run on each warehouse starts no postgres: of its own")
            postgres = start_postgres(case, 0, sluice, "warehouse", work, env)
            env["SLUICE_WAREHOUSE"] = env["SLUICE_TEST_PG"]
        elif warehouse == "duckdb":
            env["SLUICE_WAREHOUSE"] = ".sluice/test.duckdb"
        if warehouse:
            env["SLUICE_WAREHOUSE_KIND"] = warehouse
        for n, block in enumerate(parse(script)):
            lineno = starts[n] if n < len(starts) else 0
            head, rest = block[0], block[1:]
            kind, _, arg = head.partition(":")
            kind, arg = kind.strip(), arg.strip()
            opts, expected, in_expected = {"contains": [], "lacks": []}, [], False
            when = None
            for line in rest:
                if in_expected:
                    expected.append(line)
                elif line.strip() == "----":
                    in_expected = True
                elif line.startswith("when:"):
                    when = line[5:].strip()
                    if when not in WAREHOUSES:
                        fail(case, lineno, f"when: names no warehouse ({', '.join(WAREHOUSES)})")
                    if not warehouse:
                        fail(case, lineno, "when: is for cases with a `warehouses` file")
                elif line.startswith("exit:"):
                    opts["exit"] = int(line[5:].strip())
                elif line.startswith("contains:"):
                    opts["contains"].append(line[9:].strip())
                elif line.startswith("lacks:"):
                    opts["lacks"].append(line[6:].strip())
                else:
                    fail(case, lineno, f"cannot read line {line!r}")
            if when and when != warehouse:
                continue
            if kind == "env":
                name, _, value = arg.partition("=")
                env[name] = value
                continue
            if kind == "cd":
                cwd = os.path.join(proj, arg)
                continue
            if kind == "write":
                path = os.path.join(proj, arg)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write("\n".join(expected) + "\n")
                continue
            if kind == "remove":
                os.remove(os.path.join(proj, arg))
                continue
            if kind == "postgres":
                if postgres:
                    fail(case, lineno, "a case starts at most one postgres: server")
                postgres = start_postgres(case, lineno, sluice, arg or "warehouse", work, env)
                continue
            if kind in ("query", "warehouse"):
                argv = [sluice, "-C", cwd, "query", "--format", "csv", arg]
                if kind == "warehouse":
                    argv.insert(4, "--warehouse")
                want_exit = opts.get("exit", 0)
            elif kind == "psql":
                if not postgres:
                    fail(case, lineno, "psql: needs a postgres: block before it")
                psql = postgres.info["psql"] or shutil.which("psql")
                if not psql:
                    fail(case, lineno, "psql is not installed")
                argv = [psql, "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-d",
                        postgres.info["uri"], "-c", arg]
                want_exit = opts.get("exit", 0)
            elif kind in ("run", "error"):
                argv = [sluice, "-C", cwd] + shlex.split(arg)
                want_exit = opts.get("exit", 0 if kind == "run" else 2)
            else:
                fail(case, lineno, f"unknown block kind {kind!r}")
            p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
            command = "psql " + shlex.quote(arg) if kind == "psql" else "sluice " + " ".join(
                shlex.quote(a) for a in argv[3:])
            shown = f"\n$ {command}\n--- stdout\n{p.stdout}--- stderr\n{p.stderr}"
            if p.returncode != want_exit:
                fail(case, lineno, f"exit code {p.returncode}, expected {want_exit}{shown}")
            for text in opts["contains"]:
                if text not in p.stdout and text not in p.stderr:
                    fail(case, lineno, f"output does not contain {text!r}{shown}")
            for text in opts["lacks"]:
                if text in p.stdout or text in p.stderr:
                    fail(case, lineno, f"output contains {text!r}{shown}")
            if kind in ("query", "warehouse", "psql"):
                got = p.stdout.rstrip("\n").split("\n") if p.stdout.strip() else []
                if expected and got != expected:
                    fail(case, lineno, f"{kind} answer differs\n--- expected\n" +
                         "\n".join(expected) + "\n--- actual\n" + "\n".join(got) + shown)
            elif expected:
                out = p.stdout if kind == "run" else p.stderr
                pos = 0
                for want in expected:
                    at = out.find(want, pos)
                    if at < 0:
                        fail(case, lineno, f"missing (in order) {want!r}{shown}")
                    pos = at + len(want)
        print(f"ok {case}")
    finally:
        if postgres:
            postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
