#!/usr/bin/env python3
"""kill -9 of a CLI run, with no server anywhere: `sluice run JOB` is killed while it writes its
batch to scratch. The next command that opens the metastore (`sluice runs`) marks the run failed
with the reason, and removes the scratch files the dead process left in the lake.

Usage: cli_kill9.py SLUICE. Bounded: at most 5 attempts (each input larger), 120 s in all.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from servetest import Deadline, check, write_project  # noqa: E402

deadline = Deadline(120)


def sluice(binary, root, *args, check_rc=True):
    out = subprocess.run([binary, "-C", root, *args], capture_output=True, text=True, timeout=60)
    if check_rc:
        check(out.returncode == 0, f"sluice {' '.join(args)} exited {out.returncode}: {out.stderr}")
    return out


def scratch_files(root):
    """Files under the lake's scratch folder, with their owner folder."""
    found = []
    for folder, _, files in os.walk(os.path.join(root, "lake", "_scratch")):
        found += [os.path.join(folder, f) for f in files]
    return found


def attempt(binary, rows):
    root = tempfile.mkdtemp(prefix="sluice-cli-kill9-")
    try:
        write_project(root, {
            "sluice.yaml": "project: k\n",
            "sources/o.yaml": "source: o\n",
            # A sort makes the batch take a while to write.
            "jobs/copy.yaml": "job: copy\ninput: bronze.o\noutput: { table: silver.o }\n"
            "steps:\n  - sql: SELECT * FROM input ORDER BY note DESC\n",
        })
        data = os.path.join(root, "o.csv")
        with open(data, "w") as f:
            f.write("id,note\n")
            for i in range(rows):
                f.write(f"{i},note number {i * 7919 % rows} of the file\n")
        sluice(binary, root, "ingest", "o", data)
        sluice(binary, root, "crawl", "o")
        run = subprocess.Popen([binary, "-C", root, "run", "copy"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        # Kill it the moment its batch has bytes in scratch.
        end = time.monotonic() + 30
        while time.monotonic() < end and run.poll() is None and not scratch_files(root):
            time.sleep(0.005)
        if run.poll() is not None or not scratch_files(root):
            run.kill()
            run.wait()
            return False  # finished (or never wrote) before the kill: try a larger input
        run.send_signal(signal.SIGKILL)
        run.wait()
        left = scratch_files(root)
        check(left, "the killed run left no scratch file to clean up (the test saw one)")

        # Any command that opens the metastore cleans up.
        runs = json.loads(sluice(binary, root, "runs", "--format", "json").stdout)
        job = [r for r in runs if r["kind"] == "job"]
        check(len(job) == 1, f"expected one job run, got {job}")
        check(job[0]["status"] == "failed",
              f"the killed run is {job[0]['status']}, not failed, after the next command")
        check("interrupted: the process running it" in job[0]["error"]
              and "stopped before it finished; nothing it wrote was published" in job[0]["error"],
              f"unexpected reason: {job[0]['error']}")
        check(not scratch_files(root), f"scratch files remain: {scratch_files(root)[:3]}")
        check(not os.path.exists(os.path.join(root, "lake", "staging", "o")) or
              not os.listdir(os.path.join(root, "lake", "staging", "o")),
              "the killed run left files in the table's folder")
        # And the job runs again from scratch.
        out = sluice(binary, root, "run", "copy")
        check(f"{rows:,} rows in" in out.stdout, f"the rerun did not read every row: {out.stdout}")
        return True
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    binary = os.path.abspath(sys.argv[1])
    rows = 200_000
    for _ in range(5):
        check(time.monotonic() < deadline.end, "out of time")
        if attempt(binary, rows):
            print("ok cli_kill9")
            return
        rows *= 2
    check(False, "the run always finished before it could be killed mid-write")


if __name__ == "__main__":
    main()
