#!/usr/bin/env python3
"""A warehouse model (`materialized: warehouse`) on a real PostgreSQL server, stopped mid-build.

Usage: models.py SLUICE PG_FIXTURE

(a) Ctrl-C (SIGINT) while the model's query runs on the server: the statement is cancelled there,
    sluice exits 130 within seconds (not when the query would have ended), the run is recorded
    as cancelled, and the model's table is the one of the run before.
(b) kill -9 while the query runs: the table is the one of the run before, and no staging table
    is left behind; the next run builds it.
Every wait is bounded; exits 0 when all hold, 1 at the first that does not.
"""
import os
import signal
import subprocess
import time

import whlib

SLOW = "SELECT 2 AS generation FROM (SELECT pg_sleep(30)) AS s"


def body(sluice, fixture, work):
    server = whlib.Server(fixture, work)
    try:
        p = whlib.Project(sluice, work, server.project_uri, {"mart.gen": "SELECT 1 AS generation"},
                          password=server.password)
        with open(os.path.join(p.dir, "models", "mart", "gen.yaml"), "w") as f:
            f.write("materialized: warehouse\n")
        out = p.run("run", "mart.gen").stdout
        assert "built mart.gen in the warehouse: 1 row" in out, out

        def generation():
            return server.value("SELECT generation FROM mart.gen")

        def leftovers():
            return server.value("SELECT count(*) FROM pg_tables WHERE tablename LIKE "
                                "'\\_sluice\\_build\\_%'")

        p.write_model("mart.gen", SLOW)
        for how in (signal.SIGINT, signal.SIGKILL):
            proc = subprocess.Popen(p.argv("run", "mart.gen"), env=p.env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # Until the server runs the query.
            deadline = time.time() + 20
            while time.time() < deadline and server.value(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' "
                    "AND pid <> pg_backend_pid()") in (None, "0"):
                time.sleep(0.1)
            started = time.time()
            proc.send_signal(how)
            _, err = proc.communicate(timeout=25)
            took = time.time() - started
            if how == signal.SIGINT:
                assert proc.returncode == 130, (proc.returncode, err)
                assert took < 10, f"Ctrl-C took {took:.1f}s: the query was not cancelled"
                runs = p.run("runs", "--name", "mart.gen").stdout
                assert "cancelled" in runs, runs
            else:
                assert proc.returncode == -signal.SIGKILL, proc.returncode
            assert generation() == "1", f"after {how.name}: generation {generation()}"
            deadline = time.time() + 20  # the killed session's backend ends its transaction
            while time.time() < deadline and leftovers() != "0":
                time.sleep(0.2)
            assert leftovers() == "0", "a staging table was left behind"
        p.write_model("mart.gen", "SELECT 3 AS generation")
        p.run("run", "mart.gen")
        assert generation() == "3", generation()
        print("ok: a stopped warehouse model leaves its table as it was")
    finally:
        server.stop()


if __name__ == "__main__":
    whlib.main(body)
