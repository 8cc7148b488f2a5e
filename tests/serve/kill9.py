#!/usr/bin/env python3
"""Fault injection: kill -9 `sluice serve` at random points while files land, restart it, and
check that every landed file's rows are in silver exactly once and every run ended.

Usage: kill9.py SLUICE [--files N] [--rounds R] [--seed S]. Bounded: gives up after 240 s.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

DEADLINE = time.monotonic() + 240


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def write_project(root):
    files = {
        "sluice.yaml": "project: kill9\n",
        "sources/orders.yaml": "source: orders\nformat: csv\n",
        "jobs/clean.yaml": (
            "job: clean\ninput: bronze.orders\nincremental: true\n"
            "output: { table: silver.orders, mode: append }\n"
            "steps:\n  - filter: \"amount >= 0\"\n"
        ),
        "workflows/load.yaml": (
            "workflow: load\n"
            "triggers: [ { on_arrival: orders, batch_window: 50ms } ]\n"
            "steps:\n"
            "  - crawl: orders\n"
            "  - job: clean\n"
            "    retry: { attempts: 5, interval: 100ms }\n"
        ),
    }
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def land(root, index, rows=20):
    """Writes file `index` the way a producer should: a hidden temp name, then a rename."""
    folder = os.path.join(root, "lake", "landing", "orders")
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{index}")
    with open(tmp, "w") as f:
        f.write("id,amount\n")
        for j in range(rows):
            f.write(f"{index * 1000 + j},{j}.5\n")
    os.rename(tmp, os.path.join(folder, f"part-{index:05d}.csv"))
    return rows


def start(sluice, root):
    log = open(os.path.join(root, "serve.log"), "a")
    return subprocess.Popen(
        [sluice, "-C", root, "serve", "--listen", "127.0.0.1:0", "--workers", "3",
         "--rescan", "500ms", "--grace", "5s"],
        stdout=log, stderr=subprocess.STDOUT)


def sluice_json(sluice, root, *args):
    out = subprocess.run([sluice, "-C", root, *args, "--format", "json"], capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        fail(f"sluice {' '.join(args)} exited {out.returncode}: {out.stderr}")
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sluice")
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"seed {args.seed}: {args.files} files over {args.rounds} kill -9 rounds")
    root = tempfile.mkdtemp(prefix="sluice-kill9-")
    try:
        write_project(root)
        total_rows = 0
        landed = 0
        per_round = args.files // args.rounds
        for r in range(args.rounds):
            server = start(args.sluice, root)
            # Files keep landing while the server works; it is killed at a random moment among
            # them, and the rest of the round's files land while it is down.
            count = per_round + (args.files % args.rounds if r == args.rounds - 1 else 0)
            kill_at = rng.randrange(count)
            for i in range(count):
                if i == kill_at:
                    time.sleep(rng.uniform(0, 0.4))
                    server.send_signal(signal.SIGKILL)
                    server.wait()
                total_rows += land(root, landed)
                landed += 1
                time.sleep(rng.uniform(0, 0.015))
        # The last start: let it finish everything.
        server = start(args.sluice, root)
        while True:
            if time.monotonic() > DEADLINE:
                server.kill()
                fail("the server did not finish the work within the time limit")
            time.sleep(0.5)
            runs = sluice_json(args.sluice, root, "runs", "--kind", "workflow", "--limit", "100000")
            busy = [r for r in runs if r["status"] in ("queued", "running")]
            started = sum(len(r["params"].get("files", [])) for r in runs)
            if not busy and started >= landed:
                break
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            fail("the server did not stop within 30 s of SIGTERM")
        if server.returncode != 0:
            fail(f"the server exited {server.returncode} after SIGTERM")

        runs = sluice_json(args.sluice, root, "runs", "--limit", "1000000")
        not_ended = [r for r in runs if r["status"] not in ("succeeded", "failed", "cancelled")]
        if not_ended:
            fail(f"{len(not_ended)} runs did not end: {not_ended[:3]}")
        workflow_runs = [r for r in runs if r["kind"] == "workflow"]
        started = [f for r in workflow_runs for f in r["params"].get("files", [])]
        if len(started) != len(set(started)):
            fail("a landed file started work twice")
        if len(set(started)) != landed:
            fail(f"{landed} files landed but {len(set(started))} started work")
        failed = [r for r in workflow_runs if r["status"] != "succeeded"]
        if failed:
            fail(f"{len(failed)} workflow runs did not succeed: {failed[:2]}")
        rows = sluice_json(args.sluice, root, "query",
                           "SELECT count(*) AS n, count(DISTINCT id) AS d FROM silver.orders")
        n, d = rows[0]["n"], rows[0]["d"]
        if n != total_rows or d != total_rows:
            fail(f"silver.orders has {n} rows ({d} distinct ids); {total_rows} landed")
        interrupted = 0
        for r in workflow_runs:
            detail = sluice_json(args.sluice, root, "runs", "show", str(r["id"]))
            interrupted += sum(1 for s in detail["steps"] for a in s["attempts"]
                               if a["status"] == "interrupted")
        reaped = sum(1 for r in runs if r["kind"] != "workflow" and "interrupted" in (r["error"] or ""))
        print(f"ok: {landed} files, {total_rows} rows exactly once in silver after {args.rounds} "
              f"kill -9s; {len(workflow_runs)} workflow runs, {interrupted} step attempts "
              f"interrupted and retried, {reaped} job/crawl runs of killed processes marked "
              f"failed; {len(runs)} runs in all, every one ended")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
