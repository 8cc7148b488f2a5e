#!/usr/bin/env python3
"""`sluice load` against a real PostgreSQL server that fails under it.

Usage: faults.py SLUICE PG_FIXTURE

(a) kill -9 of `sluice load` while its COPY of 3M rows runs (into the table a first load
    creates, and into the stage of a later one), and again while it waits for the
    target's lock inside the apply transaction: the target and the ledger are as before, and
    the next `sluice load` applies the version once.
(b) the loader's backend terminated (pg_terminate_backend) during the COPY, and during the apply
    transaction: exit 1, one line naming warehouse.connect or warehouse.query, nothing applied;
    a retry applies once.
(c) a closed port, a wrong password, a missing database: exit 1, one line each
    (warehouse.connect), and the password appears nowhere in the output.
Every wait is bounded; exits 0 when all hold, 1 at the first that does not.
"""
import os
import signal
import socket
import subprocess
import sys
import time

import whlib

ROWS = 3_000_000
TARGET = "gold.big"
LOCK_SQL = "SELECT pg_advisory_lock(hashtextextended('sluice.load:gold.big', 0))"


def model(version):
    # Each version changes every row, so a partly applied load would show.
    return (f"SELECT i AS id, md5(CAST(i + {version} AS VARCHAR)) AS s, i * 0.5 + {version} AS x, "
            f"{version} AS v FROM range({ROWS}) t(i)")


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


class Checker:
    def __init__(self, server, project):
        self.server, self.project = server, project

    def state(self):
        """(rows, versions of v in the target, ledger rows per version) of gold.big."""
        rows = self.server.value(f"SELECT count(*) FROM {TARGET}")
        vs = self.server.value(f"SELECT string_agg(DISTINCT v::text, ',') FROM {TARGET}")
        ledger = self.server.value(
            "SELECT string_agg(version::text || 'x' || n::text, ',' ORDER BY version) FROM "
            "(SELECT version, count(*) n FROM sluice.loads WHERE target = 'gold.big' "
            "GROUP BY version) l")
        return int(rows), vs, ledger

    def new_version(self, version):
        self.project.write_model(TARGET, model(version))
        self.project.run("run", TARGET)

    def start_load(self):
        return subprocess.Popen(self.project.argv("load", TARGET), env=self.project.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_backend(self, proc, like, timeout=60):
        """The pid of the loader's backend once it runs a statement LIKE `like`."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"the load ended ({proc.returncode}) before {like!r}:\n"
                                     f"{out}{err}")
            pid = self.server.value(
                "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND pid <> "
                f"pg_backend_pid() AND query LIKE '{like}' LIMIT 1")
            if pid:
                return int(pid)
            time.sleep(0.05)
        proc.kill()
        raise AssertionError(f"no backend ran {like!r} within {timeout} s")

    def wait_gone(self, pid, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.server.value(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") == "0":
                return True
            time.sleep(0.05)
        return False


def one_line(stderr):
    """The error lines of stderr (a `  hint:` line belongs to the error above it)."""
    return [line for line in stderr.splitlines()
            if line.strip() and not line.startswith("  hint: ")]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def body(sluice, fixture, work):
    server = whlib.Server(fixture, work)
    try:
        project = whlib.Project(sluice, work, server.project_uri, {TARGET: model(1)},
                                password=server.password)
        c = Checker(server, project)
        project.run("run", TARGET)
        # (a) kill -9 during the COPY of a first load: it fills the table it creates, in the
        # apply transaction, so nothing of it may remain.
        proc = c.start_load()
        pid = c.wait_backend(proc, "COPY %")
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        check(c.wait_gone(pid), "kill -9 during a first load's COPY: the session ended")
        check(server.value("SELECT to_regclass('gold.big') IS NULL AND (SELECT count(*) FROM "
                           "sluice.loads) = 0") == "t",
              "kill -9 during a first load's COPY: no table, no ledger row")
        project.run("load", TARGET)
        check(c.state() == (ROWS, "1", "1x1"), "version 1 loaded")

        # (a) kill -9 during the COPY.
        c.new_version(2)
        proc = c.start_load()
        pid = c.wait_backend(proc, "COPY %")
        time.sleep(0.3)  # well inside the COPY: rows are travelling
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        check(proc.returncode == -signal.SIGKILL, "kill -9 during COPY: the loader died")
        check(c.wait_gone(pid), "kill -9 during COPY: the server ended the loader's session")
        check(c.state() == (ROWS, "1", "1x1"), "kill -9 during COPY: target and ledger unchanged")
        p = project.run("load", TARGET)
        print("  ", p.stdout.strip(), c.state())
        check(c.state() == (ROWS, "2", "1x1,2x1"), "after kill -9: the next load applies once")
        p = project.run("load", TARGET)
        check("nothing to load" in p.stdout and c.state() == (ROWS, "2", "1x1,2x1"),
              "a second load of the same version applies nothing")

        # (a) kill -9 inside the apply transaction (held at the target's lock by another session).
        c.new_version(3)
        holder = subprocess.Popen([server.psql_bin, "-X", "-q", "-d", server.info["conninfo"]],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        holder.stdin.write(LOCK_SQL + ";\n\\echo locked\n")
        holder.stdin.flush()
        holder.stdout.readline()
        try:
            proc = c.start_load()
            pid = c.wait_backend(proc, "SELECT pg_advisory_xact_lock%")
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            check(c.wait_gone(pid), "kill -9 in the apply transaction: the session ended")
            check(c.state() == (ROWS, "2", "1x1,2x1"),
                  "kill -9 in the apply transaction: target and ledger unchanged")

            # (b) the backend terminated in the apply transaction.
            proc = c.start_load()
            pid = c.wait_backend(proc, "SELECT pg_advisory_xact_lock%")
            server.psql(f"SELECT pg_terminate_backend({pid})")
            out, err = proc.communicate(timeout=60)
            lines = one_line(err)
            print("  stderr:", err.strip())
            check(proc.returncode == 1 and len(lines) == 1 and (
                lines[0].startswith("error[warehouse.connect]") or
                lines[0].startswith("error[warehouse.query]")),
                "terminated in the apply transaction: exit 1, one warehouse.* line")
            check(c.state() == (ROWS, "2", "1x1,2x1"),
                  "terminated in the apply transaction: nothing applied")
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)
        project.run("load", TARGET)
        check(c.state() == (ROWS, "3", "1x1,2x1,3x1"), "the retry applies version 3 once")

        # (b) the backend terminated during the COPY.
        c.new_version(4)
        proc = c.start_load()
        pid = c.wait_backend(proc, "COPY %")
        time.sleep(0.3)
        server.psql(f"SELECT pg_terminate_backend({pid})")
        out, err = proc.communicate(timeout=60)
        lines = one_line(err)
        print(f"  exit {proc.returncode}, stdout: {out.strip()!r}, stderr: {err.strip()!r}")
        check(proc.returncode == 1 and len(lines) == 1 and (
            lines[0].startswith("error[warehouse.connect]") or
            lines[0].startswith("error[warehouse.query]")),
            "terminated during COPY: exit 1, one warehouse.* line")
        check(c.state() == (ROWS, "3", "1x1,2x1,3x1"), "terminated during COPY: nothing applied")
        project.run("load", TARGET)
        check(c.state() == (ROWS, "4", "1x1,2x1,3x1,4x1"), "the retry applies version 4 once")

        # (c) logins that fail: one line, exit 1, no password anywhere.
        secret = "Zq7-distinctive-Pw-91x"
        port, db = server.port, server.info["database"]
        cases = [
            ("connection refused", f"postgresql://postgres@127.0.0.1:{free_port()}/{db}",
             {"PGPASSWORD": secret}),
            ("connection refused, password in the URI",
             f"postgresql://postgres:{secret}@127.0.0.1:{free_port()}/{db}", {}),
            ("wrong password", f"postgresql://postgres@127.0.0.1:{port}/{db}",
             {"PGPASSWORD": secret}),
            ("wrong password in the URI", f"postgresql://postgres:{secret}@127.0.0.1:{port}/{db}",
             {}),
            ("missing database", f"postgresql://postgres@127.0.0.1:{port}/nosuchdb",
             {"PGPASSWORD": server.password}),
            ("missing database, password in the URI",
             f"postgresql://postgres:{server.password}@127.0.0.1:{port}/nosuchdb",
             {"PGPASSWORD": ""}),
        ]
        for what, uri, env in cases:
            started = time.time()
            p = project.run("load", TARGET, want=None, env=dict(env, WH_URI=uri), timeout=60)
            lines = one_line(p.stderr)
            print(f"  {what}: {p.stderr.strip()}")
            password = secret if secret in uri or env.get("PGPASSWORD") == secret else \
                server.password
            check(p.returncode == 1 and len(lines) == 1 and
                  lines[0].startswith("error[warehouse.connect]") and
                  password not in p.stdout + p.stderr and time.time() - started < 30,
                  f"{what}: exit 1, one warehouse.connect line, no password")
        check(c.state() == (ROWS, "4", "1x1,2x1,3x1,4x1"), "failed logins changed nothing")
    finally:
        server.stop()


if __name__ == "__main__":
    whlib.main(body)
