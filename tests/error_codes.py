#!/usr/bin/env python3
"""Checks that docs/errors.md lists exactly the error codes the sources throw.

Usage: error_codes.py SOURCE_ROOT

A code is thrown where src/ (tests excluded) passes a string literal as the code of
FailWithCode, Error, Refuse or HttpError, or names one of a known family (`config.x`, `dqdl.x`,
...) for a diagnostic. The page lists a code as the first cell of a table row: | `code` | ...
Codes without a dot (the kinds' names) stand for uncoded errors and are not looked for in src/.
"""
import os
import re
import sys

CALL = re.compile(r'\b(?:FailWithCode|Refuse|HttpError(?:\s+\w+)?)\s*\(\s*[^,()"]+,\s*"([^"]*)"')
ERROR = re.compile(r'\bError\(\s*ErrorKind::k\w+\s*,\s*"([^"]*)"\s*,')
FAMILY = re.compile(
    r'"((?:api|config|dqdl|input|io|lake|meta|net|pg|publish|query|quality|run|token|usage)\.[a-z_]+)"')
DOC_ROW = re.compile(r'^\|\s*`([^`]+)`\s*\|', re.M)


def thrown(src):
    codes = {}
    for folder, _, files in os.walk(src):
        for name in files:
            if not name.endswith((".cc", ".h")) or name.endswith("_test.cc"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for pattern in (CALL, ERROR, FAMILY):
                for m in pattern.finditer(text):
                    codes.setdefault(m.group(1), os.path.relpath(path, src))
    return codes


def main():
    root = sys.argv[1]
    codes = thrown(os.path.join(root, "src"))
    with open(os.path.join(root, "docs", "errors.md"), encoding="utf-8") as f:
        documented = set(DOC_ROW.findall(f.read()))
    bad = False
    for code, where in sorted(codes.items()):
        if not re.fullmatch(r"[a-z]+\.[a-z_]+", code) and code not in documented:
            print(f"{where}: code '{code}' is neither family.name (lower case) nor a kind's name")
            bad = True
        elif code not in documented:
            print(f"{where}: code '{code}' is thrown but docs/errors.md does not list it")
            bad = True
    for code in sorted(documented):
        if "." in code and code not in codes:
            print(f"docs/errors.md lists '{code}', which no source throws")
            bad = True
    if bad:
        sys.exit(1)
    print(f"ok: {len(codes)} codes, all in docs/errors.md")


if __name__ == "__main__":
    main()
