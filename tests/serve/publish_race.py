#!/usr/bin/env python3
"""Two real processes race one incremental merge job on one table, on an SQLite metastore and on
a PostgreSQL one. A test holds the metastore's write lock (SQLite's BEGIN IMMEDIATE, the
PostgreSQL dialect's advisory lock) while both start, so both read the same version and the same
bookmarks; then one publishes, the other loses the race (publish.conflict), reads again and
finds its files done: both succeed, every key is in the table once, one version per round, the
loser's log says it started over, and no file is left in the lake that the catalog does not
know.

Usage: publish_race.py SLUICE. PostgreSQL comes from pg_fixture beside SLUICE (the PostgreSQL half
is skipped, loudly, without it). Bounded: at most 5 rounds per metastore, 240 s in all.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from servetest import Deadline, check, write_project  # noqa: E402

deadline = Deadline(240)
LOCK_KEY = 127961165620581  # the PostgreSQL dialect's advisory lock (meta/dialect.cc)


class SqliteMeta:
    name = "sqlite"

    setting = ""  # the default metastore: the project's .sluice/dev.db

    def __init__(self):
        self.db = None  # set once the project's folder exists

    def query(self, sql):
        return sqlite3.connect(self.db).execute(sql).fetchall()

    def hold_lock(self):
        lock = sqlite3.connect(self.db, timeout=30, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # both runs wait at StartRun, then start together

        def release():
            lock.execute("COMMIT")
            lock.close()
        return release


class PostgresMeta:
    name = "postgresql"

    def __init__(self, fixture):
        self.proc = subprocess.Popen([fixture, "meta"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.info = json.loads(self.proc.stdout.readline())
        self.uri = self.info["uri"]
        self.setting = "environments:\n  dev:\n    metastore: ${env:RACE_METASTORE}\n"
        os.environ["RACE_METASTORE"] = self.uri

    def psql(self, *args, **kw):
        return subprocess.run([self.info["psql"], "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                               self.uri, *args], capture_output=True, text=True, timeout=60, **kw)

    def query(self, sql):
        out = self.psql("-F", "\t", "-c", sql)
        check(out.returncode == 0, f"psql: {out.stderr}")
        return [tuple(line.split("\t")) for line in out.stdout.splitlines()]

    def hold_lock(self):
        session = subprocess.Popen([self.info["psql"], "-X", "-q", "-At", self.uri],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        session.stdin.write(f"SELECT pg_advisory_lock({LOCK_KEY});\n")
        session.stdin.flush()
        session.stdout.readline()  # the lock is held once psql answers

        def release():
            session.stdin.write(f"SELECT pg_advisory_unlock({LOCK_KEY});\n\\q\n")
            session.stdin.flush()
            session.communicate(timeout=30)
        return release

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def sluice(binary, root, *args):
    out = subprocess.run([binary, "-C", root, *args], capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"sluice {' '.join(args)} exited {out.returncode}: {out.stderr}")
    return out.stdout


def lake_files(root, folder):
    base = os.path.join(root, "lake")
    found = []
    for dirpath, _, files in os.walk(os.path.join(base, folder)):
        found += [os.path.relpath(os.path.join(dirpath, f), base) for f in files]
    return sorted(found)


def race_round(binary, root, meta, n):
    """Lands file n (keys n*100 .. n*100+149: half new, half updates), then races two runs."""
    data = os.path.join(root, f"o-{n}.csv")
    with open(data, "w") as f:
        f.write("id,v\n")
        for i in range(n * 100, n * 100 + 150):
            f.write(f"{i},{n}\n")
    sluice(binary, root, "ingest", "o", data)
    sluice(binary, root, "crawl", "o")
    release = meta.hold_lock()
    runs = [subprocess.Popen([binary, "-C", root, "run", "merge_o"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(0.5)
    release()
    results = []
    for p in runs:
        out, err = p.communicate(timeout=60)
        results.append((p.returncode, out, err))
    return results


def race(binary, meta):
    root = tempfile.mkdtemp(prefix="sluice-race-")
    try:
        write_project(root, {
            "sluice.yaml": "project: race\n" + meta.setting,
            "sources/o.yaml": "source: o\n",
            "jobs/merge_o.yaml": "job: merge_o\ninput: bronze.o\nincremental: true\n"
            "output: { table: silver.o, mode: merge, key: [id] }\n",
        })
        if isinstance(meta, SqliteMeta):
            meta.db = os.path.join(root, ".sluice", "dev.db")
        # A first version of the table, so the race builds on version 1.
        with open(os.path.join(root, "o-0.csv"), "w") as f:
            f.write("id,v\n" + "".join(f"{i},0\n" for i in range(150)))
        sluice(binary, root, "ingest", "o", os.path.join(root, "o-0.csv"))
        sluice(binary, root, "crawl", "o")
        sluice(binary, root, "run", "merge_o")
        version = "SELECT current_version FROM tables WHERE db = 'silver' AND name = 'o'"
        started_over = "SELECT count(*) FROM run_logs WHERE message LIKE '%starts over%'"
        for n in range(1, 6):
            check(time.monotonic() < deadline.end, "out of time")
            before = int(meta.query(version)[0][0])
            results = race_round(binary, root, meta, n)
            check([r[0] for r in results] == [0, 0],
                  f"{meta.name}: both runs must succeed: {results}")
            for r in results:
                check("UNIQUE constraint" not in r[2], "a raw constraint message leaked")
            # The catalog: every key once, the newest value.
            rows = json.loads(sluice(binary, root, "query", "--format", "json",
                                     "SELECT count(*) AS n, count(DISTINCT id) AS k, "
                                     "max(v) AS v FROM silver.o"))
            check(rows[0]["n"] == n * 100 + 150 and rows[0]["k"] == rows[0]["n"],
                  f"{meta.name}: after round {n}: {rows}")
            runs = json.loads(sluice(binary, root, "runs", "--kind", "job", "--format", "json",
                                     "--limit", "1000"))
            check(all(r["status"] == "succeeded" for r in runs), f"a run failed: {runs}")
            after = int(meta.query(version)[0][0])
            check(after == before + 1, f"{meta.name}: version {before} -> {after} in one round")
            # No orphans: every file in the table's folder is one the catalog lists.
            known = {k for (k,) in meta.query(
                "SELECT f.key FROM table_files f JOIN tables t ON t.id = f.table_id "
                "WHERE t.db = 'silver' AND t.name = 'o'")}
            orphans = [f for f in lake_files(root, "staging/o") if f not in known]
            check(not orphans, f"{meta.name}: files no version references: {orphans}")
            check(not lake_files(root, "_scratch"), "scratch files left behind")
            if int(meta.query(started_over)[0][0]) > 0:
                break
        check(int(meta.query(started_over)[0][0]) > 0,
              f"{meta.name}: no round made a run start over (the runs never overlapped)")
        print(f"ok publish_race on {meta.name} ({n} round(s))")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    binary = os.path.abspath(sys.argv[1])
    race(binary, SqliteMeta())
    fixture = os.path.join(os.path.dirname(binary), "pg_fixture")
    if not os.path.exists(fixture) or not shutil.which("initdb") and not os.path.isdir(
            "/usr/lib/postgresql"):
        print("SKIPPED the PostgreSQL half: PostgreSQL or pg_fixture is missing", file=sys.stderr)
        return
    pg = PostgresMeta(fixture)
    try:
        race(binary, pg)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
