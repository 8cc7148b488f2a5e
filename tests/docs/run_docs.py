#!/usr/bin/env python3
"""Runs the shell sessions a Markdown doc shows and compares their output with the doc's.

Usage: run_docs.py SLUICE_BINARY DOC.md [--update] [--slow]

Exit code 0 when every output matches (or --update wrote it), 1 when one differs, 77 when the
doc has no session to run.

What runs. A fenced code block whose first line starts with `$ ` is a session: each `$ ` line
is a command, and the lines after it, up to the next `$ ` line or the end of the block, are the
output the doc promises (standard output and standard error together, as a terminal shows
them). Every other block (syntax, YAML, JSON, an output shown without its command) is prose and
is not run. The sessions of a doc run in order, in one fresh temporary folder, as one reader
typing them would: `cd DIR` and `export NAME=VALUE` carry over to later commands, anything else
runs with `bash -c`, and `sluice` is the binary under test (a `sluice` link in a folder put
first on PATH). The environment is the caller's without any SLUICE_* variable, with NO_COLOR=1
and TZ=UTC. Each command gets 60 seconds (a slow one 300); one that takes longer fails the test
with its name.

Directives are HTML comments, invisible where the doc is rendered:

  <!-- doc-test: skip REASON -->   on the line before a session: it is not run, for REASON
                                   (a server it needs, a credential, a setup not worth it)
  <!-- doc-test: slow REASON -->   on the line before a session: only --update runs it (so
                                   `make docs` regenerates it), to keep the test quick
  <!-- doc-test: write PATH -->    on the line before any block: the block's text is written
                                   to PATH (relative to the session's folder) at that point,
                                   for a file the doc asks the reader to create
  <!-- doc-test: run              hidden commands, one `$ ` line each, run at that point (a
  $ COMMAND                        project to set up for the next session); each must exit 0,
  -->                              its output is not compared

Stand-ins: the temporary folder stands for /tmp. A command's `/tmp/` becomes the folder, and the
folder becomes `/tmp` in what the command prints, so a doc can say `/tmp/shop`. The user who
runs the test is `ana` where output says who did something (`by ana`).

Comparing. A line is compared with its output line after both are normalized: timestamps
(`2026-11-22T14:21:46.438Z`), durations (`118 ms`, `2.4s`, `[  0.7s]`), millisecond clock
values (13 digits), sizes (`471.5 KiB`: DuckDB's threads lay out a Parquet file differently from
run to run) and runs of spaces (a column widened by a longer value) match any other.
In the doc, a line that is only `...` stands for any number of output lines, and `...` inside a
line for any text. Trailing blank lines are layout, not output. A mismatch fails with a unified
diff naming the doc's file and the command's line (output lines that match show the doc's text,
so only real differences stand out); every session still runs, so one run lists every drift.

--update writes each command's output into the doc instead of comparing, leaving prose,
directives and skipped sessions alone. An output that matches keeps the doc's text (its times,
its `...`), so a second --update changes nothing; one that differs is replaced by the new output,
keeping as many of its first and last lines as the doc showed around a `...`.

Not run, each with a skip directive saying why: sessions that need `sluice serve` running (a
port, a server left behind, runs that start on their own time), a remote host and a token
(api.md), and cli.md's query of a version a vacuum removed.
Slow sessions (`sluice demo`, whose million rows take 20 s and more on two busy cores, longer
than all the rest together) run with --update, and with --slow: the ctest of getting-started.md
passes it, so the demo a newcomer runs first is checked end to end; cli.md's copy of it is not
run twice.
"""
import difflib
import functools
import getpass
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

TIMEOUT_S = 60
SLOW_TIMEOUT_S = 300
SKIPPED = 77  # the exit code ctest reads as a skipped test (SKIP_RETURN_CODE)
DIRECTIVE = re.compile(r"^\s*<!--\s*doc-test:\s*(skip|slow|write|run)\b\s*(.*?)\s*(-->)?\s*$")
HUNK = re.compile(r"^@@ -(\d+)")
FENCE = re.compile(r"^(\s*)(```+)")
NORMALIZE = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?"), "<time>"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"), "<duration>"),
    (re.compile(r"\b1\d{12}\b"), "<clock>"),
    (re.compile(r"\b\d+(\.\d+)? (B|KiB|MiB|GiB)\b"), "<size>"),
    (re.compile(r"\s+"), " "),
]


def normalize(line):
    for pattern, placeholder in NORMALIZE:
        line = pattern.sub(placeholder, line)
    return line.strip()


@functools.lru_cache(maxsize=None)
def line_pattern(doc_line):
    """The doc's line as a regex over a normalized output line; `...` matches anything."""
    parts = normalize(doc_line).split("...")
    return re.compile(".*".join(re.escape(p) for p in parts))


def line_matches(doc_line, out_line):
    return line_pattern(doc_line).fullmatch(normalize(out_line)) is not None


def is_elision(doc_line):
    return doc_line.strip() == "..."


def block_matches(doc, out):
    @functools.lru_cache(maxsize=None)
    def match(i, j):
        if i == len(doc):
            return j == len(out)
        if is_elision(doc[i]):
            return any(match(i + 1, k) for k in range(j, len(out) + 1))
        return j < len(out) and line_matches(doc[i], out[j]) and match(i + 1, j + 1)

    return match(0, 0)


def merge(doc, out):
    """What to write for a doc block that does not match: the new output, elided as the doc was
    (as many first and last lines as it showed around its `...`)."""
    marks = [i for i, line in enumerate(doc) if is_elision(line)]
    if not marks:
        return out
    head, tail = marks[0], len(doc) - marks[-1] - 1
    if head + tail >= len(out):
        return out
    return out[:head] + ["..."] + out[len(out) - tail:]


def as_doc_shows(doc, out):
    """The output with each line that matches its doc line written as the doc has it, so that a
    diff shows only what really differs (not every time and duration)."""
    matcher = difflib.SequenceMatcher(None, [normalize(d) for d in doc],
                                      [normalize(o) for o in out], autojunk=False)
    shown = list(out)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            shown[j1:j2] = doc[i1:i2]
    return shown


class Command:
    def __init__(self, lineno, text, indent="", hidden=False, slow=False):
        self.lineno, self.text, self.indent = lineno, text, indent
        self.hidden, self.slow = hidden, slow
        self.expected = []  # the doc's output lines, without trailing blank lines
        self.first = self.end = lineno + 1  # doc lines [first, end) hold them (0-based)


def parse(lines):
    """The doc as a list of steps: ("command", Command) and ("write", path, text)."""
    steps, pending, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        d = DIRECTIVE.match(line)
        if d:
            kind, arg = d.group(1), d.group(2)
            if kind == "run":
                i += 1
                while i < len(lines) and lines[i].strip() != "-->":
                    if lines[i].startswith("$ "):
                        steps.append(("command", Command(i, lines[i][2:], hidden=True)))
                    i += 1
            elif not arg:
                needs = "path" if kind == "write" else "reason"
                sys.exit(f"line {i + 1}: doc-test: {kind} needs a {needs}")
            else:
                pending = (kind, arg)
            i += 1
            continue
        fence = FENCE.match(line)
        if not fence:
            if line.strip():
                pending = None
            i += 1
            continue
        indent, ticks = fence.group(1), fence.group(2)
        end = i + 1
        while end < len(lines) and lines[end].strip() != ticks:
            end += 1
        body = [b[len(indent):] if b.startswith(indent) else b.lstrip() for b in lines[i + 1:end]]
        if pending and pending[0] == "write":
            steps.append(("write", pending[1], "\n".join(body) + "\n"))
        elif body and body[0].startswith("$ ") and not (pending and pending[0] == "skip"):
            commands = []
            for n, text in enumerate(body):
                if text.startswith("$ "):
                    commands.append(Command(i + 1 + n, text[2:], indent,
                                            slow=bool(pending and pending[0] == "slow")))
                else:
                    commands[-1].expected.append(text)
            for command in commands:
                while command.expected and not command.expected[-1].strip():
                    command.expected.pop()
                command.end = command.first + len(command.expected)
                steps.append(("command", command))
        pending = None
        i = end + 1
    return steps


class Session:
    """One reader's shell: a folder standing for /tmp, the current folder and the environment."""

    def __init__(self, sluice, work):
        self.work = work
        bin_dir = os.path.join(work, ".bin")
        os.mkdir(bin_dir)
        os.symlink(sluice, os.path.join(bin_dir, "sluice"))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        self.env.update(NO_COLOR="1", TZ="UTC", PATH=bin_dir + os.pathsep + os.environ["PATH"])
        self.cwd = work
        self.by_user = "by " + getpass.getuser()

    def run(self, text, timeout):
        """Runs one command; returns (exit code, output lines) or raises TimeoutExpired."""
        text = text.replace("/tmp/", self.work + "/")
        words = shlex.split(text) if text.startswith(("cd ", "export ")) else []
        if len(words) == 2 and words[0] == "cd":
            self.cwd = os.path.normpath(os.path.join(self.cwd, os.path.expandvars(words[1])))
            return 0, []
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            self.env[name] = value
            return 0, []
        # A session of its own, so that a command that hangs is killed with whatever it started.
        p = subprocess.Popen(["bash", "-c", text], cwd=self.cwd, env=self.env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise
        out = out.replace(self.work, "/tmp").replace(self.by_user, "by ana").rstrip("\n")
        return p.returncode, out.split("\n") if out else []


def main():
    args = [a for a in sys.argv[1:] if a not in ("--update", "--slow")]
    update = "--update" in sys.argv[1:]
    slow = update or "--slow" in sys.argv[1:]
    if len(args) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    sluice, doc_path = os.path.abspath(args[0]), args[1]
    with open(doc_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    work = tempfile.mkdtemp(prefix="sluice-docs-")
    failures, commands, edits = 0, 0, []
    try:
        session = Session(sluice, os.path.realpath(work))
        for step in parse(lines):
            if step[0] == "write":
                _, path, text = step
                path = os.path.join(session.cwd, path)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                continue
            command = step[1]
            if command.slow and not slow:
                continue
            where = f"{doc_path}:{command.lineno + 1}"
            commands += 1
            timeout = SLOW_TIMEOUT_S if command.slow else TIMEOUT_S
            try:
                code, out = session.run(command.text, timeout)
            except subprocess.TimeoutExpired:
                print(f"FAIL {where}: `{command.text}` did not finish in {timeout} s")
                failures += 1
                break
            if command.hidden:
                if code != 0:
                    print(f"FAIL {where}: setup `{command.text}` exited {code}:\n" + "\n".join(out))
                    failures += 1
                continue
            if block_matches(command.expected, out):
                continue
            if update:
                edits.append((command, merge(command.expected, out)))
                continue
            failures += 1
            diff = difflib.unified_diff(command.expected, as_doc_shows(command.expected, out),
                                        f"{where} (the doc)",
                                        f"$ {command.text} (exit {code}; times as in the doc)",
                                        lineterm="")
            # Hunk headers count the doc's lines, so `-120,3` is line 120 of the doc.
            diff = (HUNK.sub(lambda m: f"@@ -{int(m.group(1)) + command.first}", d) for d in diff)
            print(f"FAIL {where}: the output of `{command.text}` differs from the doc\n" +
                  "\n".join(diff) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if update and edits:
        for command, new in sorted(edits, key=lambda e: -e[0].first):
            lines[command.first:command.end] = [command.indent + n if n else n for n in new]
        with open(doc_path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"updated {len(edits)} outputs in {doc_path}")
    if failures:
        sys.exit(1)
    if not commands:
        print(f"skipped {doc_path}: no session to run")
        sys.exit(SKIPPED)
    print(f"ok {doc_path}: {commands} commands")


if __name__ == "__main__":
    main()
