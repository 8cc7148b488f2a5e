#!/usr/bin/env python3
"""`make install PREFIX=...` installs a sluice that runs from anywhere; `make uninstall` removes it.

Usage: install.py SOURCE_ROOT BUILD_DIR

Runs the real Makefile targets against the already built BUILD_DIR (so nothing is rebuilt), into
a temporary PREFIX, then runs the installed program from outside the source tree.
"""
import os
import subprocess
import sys
import tempfile


def check(ok, message):
    if not ok:
        print("FAIL " + message)
        sys.exit(1)


def make(source, build, prefix, target, path):
    env = dict(os.environ, PATH=path)
    p = subprocess.run(["make", "-C", source, target, f"BUILD={build}", f"PREFIX={prefix}"],
                       env=env, capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, f"make {target} exited {p.returncode}\n{p.stdout}{p.stderr}")
    return p.stdout


def main():
    source, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="sluice-install-") as prefix:
        out = make(source, build, prefix, "install", os.environ["PATH"])
        sluice = os.path.join(prefix, "bin", "sluice")
        check(f"installed {sluice}" in out, f"make install does not name {sluice}:\n{out}")
        check(f"{prefix}/bin is not on your PATH" in out, f"no PATH hint:\n{out}")
        check(os.access(sluice, os.X_OK), f"{sluice} is missing or not executable")
        # Run by name from PATH, in a folder far from the source and build trees.
        env = dict(os.environ, PATH=os.path.join(prefix, "bin") + ":/usr/bin:/bin")
        p = subprocess.run(["sluice", "--version"], cwd=prefix, env=env, capture_output=True,
                           text=True, timeout=60)
        check(p.returncode == 0 and p.stdout.startswith("sluice "),
              f"installed sluice --version exited {p.returncode}: {p.stdout}{p.stderr}")
        # With PREFIX/bin on PATH already, no hint.
        again = make(source, build, prefix, "install", env["PATH"] + ":" + os.environ["PATH"])
        check("not on your PATH" not in again, f"PATH hint although PREFIX/bin is on PATH:\n{again}")
        make(source, build, prefix, "uninstall", os.environ["PATH"])
        left = [os.path.join(d, f) for d, _, files in os.walk(prefix) for f in files]
        check(left == [], f"make uninstall left {left}")
    print("ok install")


if __name__ == "__main__":
    main()
