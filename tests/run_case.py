#!/usr/bin/env python3
"""Runs one data-driven case: tests/cases/<name>/ holds a project, its inputs and a `test` script.

Usage: run_case.py SLUICE_BINARY CASE_DIR

The case folder:
  project/   the project files (sluice.yaml, sources/, jobs/, models/); copied to a fresh folder
  input/     files the commands use (copied beside the project as input/)
  test       the script: blocks separated by blank lines, each starting with one of

    run: ARGS          run `sluice ARGS` in the project; it must exit 0 (or `exit: N`)
    error: ARGS        as run:, but it must fail (exit 2 unless `exit: N`)
    query: SQL         `sluice query --format csv SQL`; the lines after ---- are the exact answer
    write: PATH        write the lines after ---- to PATH in the project (change a file mid-case)
    remove: PATH       delete PATH in the project
    env: NAME=VALUE    set an environment variable for the following commands
    cd: PATH           run the following commands in PATH (relative to the project folder)

  then optional lines `exit: N`, `contains: TEXT` (stdout or stderr must contain TEXT) and
  `lacks: TEXT` (neither may contain it), and
  for run:/error: the lines after ---- must each appear in the output (stdout for run:, stderr
  for error:), in order. Lines starting with # are comments.
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile


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


def main():
    sluice, case_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    case = os.path.basename(case_dir)
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
    work = tempfile.mkdtemp(prefix=f"sluice-case-{case}-")
    env = dict(os.environ, SLUICE_MASK_SALT="test-salt", NO_COLOR="1")
    try:
        proj = os.path.join(work, "project")
        shutil.copytree(os.path.join(case_dir, "project"), proj)
        if os.path.isdir(os.path.join(case_dir, "input")):
            shutil.copytree(os.path.join(case_dir, "input"), os.path.join(proj, "input"))
        cwd = proj
        for n, block in enumerate(parse(script)):
            lineno = starts[n] if n < len(starts) else 0
            head, rest = block[0], block[1:]
            kind, _, arg = head.partition(":")
            kind, arg = kind.strip(), arg.strip()
            opts, expected, in_expected = {"contains": [], "lacks": []}, [], False
            for line in rest:
                if in_expected:
                    expected.append(line)
                elif line.strip() == "----":
                    in_expected = True
                elif line.startswith("exit:"):
                    opts["exit"] = int(line[5:].strip())
                elif line.startswith("contains:"):
                    opts["contains"].append(line[9:].strip())
                elif line.startswith("lacks:"):
                    opts["lacks"].append(line[6:].strip())
                else:
                    fail(case, lineno, f"cannot read line {line!r}")
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
            if kind == "query":
                argv = [sluice, "-C", cwd, "query", "--format", "csv", arg]
                want_exit = opts.get("exit", 0)
            elif kind in ("run", "error"):
                argv = [sluice, "-C", cwd] + shlex.split(arg)
                want_exit = opts.get("exit", 0 if kind == "run" else 2)
            else:
                fail(case, lineno, f"unknown block kind {kind!r}")
            p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
            shown = f"\n$ sluice {' '.join(shlex.quote(a) for a in argv[3:])}\n--- stdout\n{p.stdout}--- stderr\n{p.stderr}"
            if p.returncode != want_exit:
                fail(case, lineno, f"exit code {p.returncode}, expected {want_exit}{shown}")
            for text in opts["contains"]:
                if text not in p.stdout and text not in p.stderr:
                    fail(case, lineno, f"output does not contain {text!r}{shown}")
            for text in opts["lacks"]:
                if text in p.stdout or text in p.stderr:
                    fail(case, lineno, f"output contains {text!r}{shown}")
            if kind == "query":
                got = p.stdout.rstrip("\n").split("\n") if p.stdout.strip() else []
                if expected and got != expected:
                    fail(case, lineno, "query answer differs\n--- expected\n" + "\n".join(expected) +
                         "\n--- actual\n" + "\n".join(got) + shown)
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
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
