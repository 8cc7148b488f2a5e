#!/usr/bin/env python3
"""Two real processes race one incremental merge job on one table. A test holds the metastore's
write lock while both start, so both build on the same version; then exactly one publishes and
the other fails with publish.conflict naming the table and the version it built on, counts
nothing as published, and leaves no file in the lake that the catalog does not know.

Usage: publish_race.py SLUICE. Bounded: at most 5 rounds, 180 s in all.
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

deadline = Deadline(180)


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


def race_round(binary, root, db, n):
    """Lands file n (keys n*100 .. n*100+149: half new, half updates), then races two runs."""
    data = os.path.join(root, f"o-{n}.csv")
    with open(data, "w") as f:
        f.write("id,v\n")
        for i in range(n * 100, n * 100 + 150):
            f.write(f"{i},{n}\n")
    sluice(binary, root, "ingest", "o", data)
    sluice(binary, root, "crawl", "o")
    lock = sqlite3.connect(db, timeout=30, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # both runs wait at StartRun, then start together
    runs = [subprocess.Popen([binary, "-C", root, "run", "merge_o"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(0.5)
    lock.execute("COMMIT")
    lock.close()
    results = []
    for p in runs:
        out, err = p.communicate(timeout=60)
        results.append((p.returncode, out, err))
    return results


def main():
    binary = os.path.abspath(sys.argv[1])
    root = tempfile.mkdtemp(prefix="sluice-race-")
    try:
        write_project(root, {
            "sluice.yaml": "project: race\n",
            "sources/o.yaml": "source: o\n",
            "jobs/merge_o.yaml": "job: merge_o\ninput: bronze.o\nincremental: true\n"
            "output: { table: silver.o, mode: merge, key: [id] }\n",
        })
        db = os.path.join(root, ".sluice", "dev.db")
        # A first version of the table, so the race builds on version 1.
        with open(os.path.join(root, "o-0.csv"), "w") as f:
            f.write("id,v\n" + "".join(f"{i},0\n" for i in range(150)))
        sluice(binary, root, "ingest", "o", os.path.join(root, "o-0.csv"))
        sluice(binary, root, "crawl", "o")
        sluice(binary, root, "run", "merge_o")
        conflicts = 0
        for n in range(1, 6):
            check(time.monotonic() < deadline.end, "out of time")
            before = int(sqlite3.connect(db).execute(
                "SELECT current_version FROM tables WHERE db = 'silver' AND name = 'o'"
            ).fetchone()[0])
            results = race_round(binary, root, db, n)
            codes = sorted(r[0] for r in results)
            # The loser may also find the file already bookmarked (it started after the winner
            # committed): then it has nothing to do and succeeds. A real race has one loser.
            if codes == [0, 75]:
                conflicts += 1
                loser = next(r for r in results if r[0] == 75)
                check("error[publish.conflict]:" in loser[2], f"not a conflict: {loser[2]}")
                check(f"silver.o moved to version {before + 1} while this run built on version "
                      f"{before}" in loser[2], f"the conflict does not name the versions: "
                      f"{loser[2]}")
                check("UNIQUE constraint" not in loser[2], "a raw constraint message leaked")
            else:
                check(codes == [0, 0], f"unexpected exit codes {codes}: {results}")
            # The catalog: every key once, the newest value.
            rows = json.loads(sluice(binary, root, "query", "--format", "json",
                                     "SELECT count(*) AS n, count(DISTINCT id) AS k, "
                                     "max(v) AS v FROM silver.o"))
            check(rows[0]["n"] == n * 100 + 150 and rows[0]["k"] == rows[0]["n"],
                  f"after round {n}: {rows}")
            # Runs: the failed one published nothing; one version per round.
            runs = json.loads(sluice(binary, root, "runs", "--kind", "job", "--format", "json",
                                     "--limit", "1000"))
            for r in runs:
                if r["status"] == "failed":
                    check(r["rows_out"] == 0 and r["rows_quarantined"] == 0,
                          f"a failed run counts rows as published: {r}")
            after = int(sqlite3.connect(db).execute(
                "SELECT current_version FROM tables WHERE db = 'silver' AND name = 'o'"
            ).fetchone()[0])
            check(after == before + 1, f"version {before} -> {after} in one round")
            # No orphans: every file in the table's folder is one the catalog lists.
            known = {k for (k,) in sqlite3.connect(db).execute(
                "SELECT f.key FROM table_files f JOIN tables t ON t.id = f.table_id "
                "WHERE t.db = 'silver' AND t.name = 'o'")}
            orphans = [f for f in lake_files(root, "staging/o") if f not in known]
            check(not orphans, f"files no version references: {orphans}")
            check(not lake_files(root, "_scratch"), "scratch files left behind")
            if conflicts:
                break
        check(conflicts > 0, "no round produced a conflict (both runs never overlapped)")
        print(f"ok publish_race ({n} round(s))")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
