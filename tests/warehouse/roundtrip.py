#!/usr/bin/env python3
"""Every type of the PostgreSQL mapping (src/warehouse/postgres_types.cc) survives `sluice load`.

Usage: roundtrip.py SLUICE PG_FIXTURE

A model builds a catalog table (Parquet in the lake) holding, per type, its extremes, values
that are hard to print (floats at shortest representation, inf/-inf/nan, -0, BC dates, text
with tabs, newlines, backslashes and \\N, every byte value in a BLOB) and a NULL. `sluice load`
sends it to a real PostgreSQL server; every value PostgreSQL holds is read back with psql and
compared with the lake's (read with `sluice query`), in a normal form per type that does not go
through the loader's own text. Exits 0 when all match, 1 listing every mismatch.
"""
import csv
import io
import json
import struct
import sys
from decimal import Decimal

import whlib

csv.field_size_limit(1 << 30)

# name: (catalog type, kind, [value expressions, one per row; None is NULL])
COLUMNS = {
    "ti": ("TINYINT", "exact", ["-128", "127", "0"]),
    "si": ("SMALLINT", "exact", ["-32768", "32767"]),
    "i4": ("INTEGER", "exact", ["-2147483648", "2147483647"]),
    "i8": ("BIGINT", "exact", ["-9223372036854775808", "9223372036854775807"]),
    # The lake's Parquet holds HUGEINT as INT64 (DuckDB's writer): larger values fail the model.
    "hi": ("HUGEINT", "exact", ["-9223372036854775808", "9223372036854775807", "-1"]),
    "uti": ("UTINYINT", "exact", ["0", "255"]),
    "usi": ("USMALLINT", "exact", ["0", "65535"]),
    "ui4": ("UINTEGER", "exact", ["0", "4294967295"]),
    "ui8": ("UBIGINT", "exact", ["0", "18446744073709551615"]),
    "uhi": ("UHUGEINT", "exact", ["0", "9223372036854775807"]),
    "d41": ("DECIMAL(4,1)", "exact", ["-999.9", "999.9", "0.1", "-0.1"]),
    "d186": ("DECIMAL(18,6)", "exact", ["-999999999999.999999", "999999999999.999999",
                                        "0.000001"]),
    "d3810": ("DECIMAL(38,10)", "exact", ["-9999999999999999999999999999.9999999999",
                                          "9999999999999999999999999999.9999999999",
                                          "0.0000000001"]),
    "d380": ("DECIMAL(38,0)", "exact", ["-99999999999999999999999999999999999999",
                                        "99999999999999999999999999999999999999"]),
    "f4": ("FLOAT", "float", ["'inf'", "'-inf'", "'nan'", "'-0.0'", "0.1", "3.4028235e38",
                              "-3.4028235e38", "1.1754944e-38", "1e-45", "16777217", "1.5"]),
    "f8": ("DOUBLE", "double", ["'inf'", "'-inf'", "'nan'", "'-0.0'", "0.1",
                                "1.7976931348623157e308", "-1.7976931348623157e308",
                                "2.2250738585072014e-308", "5e-324", "123456789.12345678",
                                "1e22", "0.30000000000000004"]),
    "b": ("BOOLEAN", "exact", ["true", "false"]),
    "dt": ("DATE", "date", ["'4713-01-01 (BC)'", "'5874897-12-31'", "'0001-01-01'",
                            "'0001-12-31 (BC)'", "'1970-01-01'", "'2024-02-29'", "'infinity'",
                            "'-infinity'"]),
    "tm": ("TIME", "exact", ["'00:00:00'", "'23:59:59.999999'", "'12:34:56.5'",
                             "'24:00:00'"]),
    "ttz": ("TIME WITH TIME ZONE", "exact", ["'12:00:00+05:30'", "'00:00:00-15:59'",
                                              "'23:59:59.999999+00'"]),
    "ts": ("TIMESTAMP", "date", ["DATE '4713-01-01 (BC)' + INTERVAL 1 SECOND",
                                 "'294246-12-31 23:59:59.999999'",
                                 "'1970-01-01 00:00:00'", "'1969-12-31 23:59:59.999999'",
                                 "'2024-02-29 12:34:56.123456'", "'infinity'", "'-infinity'"]),
    "tsms": ("TIMESTAMP_MS", "date", ["'2024-02-29 12:34:56.123'", "'1900-01-01 00:00:00.001'"]),
    "tss": ("TIMESTAMP_S", "date", ["'2024-02-29 12:34:56'", "'0001-01-01 00:00:00'"]),
    "tstz": ("TIMESTAMP WITH TIME ZONE", "epoch", ["'1970-01-01 00:00:00+00'",
                                                   "'2024-02-29 23:30:00+05:30'",
                                      "'1900-01-01 00:00:00.000001+00'",
                                      "'0001-01-01 00:00:00+00'", "'infinity'",
                                      "'-infinity'"]),
    # Documented: nanoseconds are cut to microseconds (the earlier microsecond).
    "tns": ("TIMESTAMP_NS", "epoch_ns", ["'2024-02-29 12:34:56.123456789'",
                                         "'1969-12-31 23:59:59.999999999'",
                                         "'1677-09-22 00:00:01.000000001'",
                                         "'2262-04-10 23:59:59.999999999'",
                                         "'2000-01-01 00:00:00.000000500'",
                                         "'infinity'", "'-infinity'"]),
    # Parquet holds no negative interval (the model fails), and milliseconds only.
    "iv": ("INTERVAL", "interval", ["INTERVAL '1 year 2 months 3 days 04:05:06.789'",
                                    "INTERVAL '1 month 40 days 25:00:01'",
                                    "INTERVAL '0 seconds'", "INTERVAL '100000 hours'"]),
    "v": ("VARCHAR", "text", ["''", "'\\N'",
                              "chr(9) || 'tab' || chr(10) || 'nl' || chr(13) || 'cr'",
                              "'back\\slash \\\\ \\t'", "'quote'' \"dq\" , ; |'",
                              "'héllo wörld ✓ 😀 日本'", "'NULL'", "repeat('x', 100000)",
                              "chr(127) || chr(1) || chr(31)"]),
    "bl": ("BLOB", "blob", ["(SELECT unhex(string_agg(printf('%02x', n), '' ORDER BY n)) "
                            "FROM range(256) r(n))", "''::BLOB", "'\\x00'::BLOB",
                            "'\\x5CN'::BLOB"]),
    "u": ("UUID", "exact", ["'00000000-0000-0000-0000-000000000000'",
                            "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
                            "'7f3a0e4c-1d2b-4c5e-8f90-a1b2c3d4e5f6'"]),
    "j": ("JSON", "json", ["'{\"b\": 1, \"a\": [1, 2.5, \"x\", null, true], \"n\": null}'",
                           "'\"text with \\\"quotes\\\" and \\t\"'",
                           "'123456789012345678901234567890.5'",
                           "'[]'", "'{}'", "'{\"é\": \"ü\\u00e9\"}'", "'null'"]),
    "li": ("INTEGER[]", "nested", ["[1, NULL, 3]", "[]", "[-2147483648, 2147483647]"]),
    "lv": ("VARCHAR[]", "nested", ["['a' || chr(9) || 'b', NULL, '\"q\"', '\\']", "[]"]),
    "ld": ("DOUBLE[]", "nested", ["[0.1, 1e300, -0.0, 5e-324]"]),
    "lli": ("BIGINT[][]", "nested", ["[[1, 2], [], NULL, [9223372036854775807]]"]),
    "ldec": ("DECIMAL(38,10)[]", "nested",
             ["[9999999999999999999999999999.9999999999, 0.0000000001]"]),
    "st": ("STRUCT(a INTEGER, b VARCHAR)", "nested", ["{'a': 1, 'b': 'x'}",
                                                      "{'a': NULL, 'b': NULL}"]),
    "mp": ("MAP(VARCHAR, INTEGER)", "nested", ["MAP {'k': 1, 'z': NULL}", "MAP {}"]),
    "e": ("ENUM('x', 'y z', '')", "exact", ["'x'", "'y z'", "''"]),
}

# The warehouse types, as docs and postgres_types.cc say (the lake's type decides: hi and uhi
# arrive as BIGINT).
WAREHOUSE_TYPES = {
    "ti": "smallint", "si": "smallint", "i4": "integer", "i8": "bigint", "hi": "bigint",
    "uti": "smallint", "usi": "integer", "ui4": "bigint", "ui8": "numeric(20,0)", "uhi": "bigint",
    "d41": "numeric(4,1)", "d186": "numeric(18,6)", "d3810": "numeric(38,10)",
    "d380": "numeric(38,0)", "f4": "real", "f8": "double precision", "b": "boolean",
    "dt": "date", "tm": "time without time zone", "ttz": "time with time zone",
    "ts": "timestamp without time zone", "tsms": "timestamp without time zone",
    "tss": "timestamp without time zone", "tstz": "timestamp with time zone",
    "tns": "timestamp without time zone", "iv": "interval", "v": "text", "bl": "bytea",
    "u": "uuid", "j": "jsonb", "li": "jsonb", "lv": "jsonb", "ld": "jsonb", "lli": "jsonb",
    "ldec": "jsonb", "st": "jsonb", "mp": "jsonb", "e": "text",
}

ROWS = max(len(values) for _, _, values in COLUMNS.values()) + 1  # the last row: all NULL


def model_sql():
    selects = []
    for r in range(ROWS):
        cols = [f"{r + 1} AS id"]
        for name, (typ, _, values) in COLUMNS.items():
            expr = values[r] if r < len(values) else "NULL"
            cols.append(f"CAST({expr} AS {typ}) AS {name}")
        selects.append("SELECT " + ", ".join(cols))
    return "\nUNION ALL\n".join(selects)


def duck_expr(name, kind):
    c = f'"{name}"'
    form = {
        "exact": f"CAST({c} AS VARCHAR)",
        "float": f"CAST({c} AS VARCHAR)",
        "double": f"CAST({c} AS VARCHAR)",
        "date": f"CAST({c} AS VARCHAR)",
        "epoch": f"CASE WHEN isfinite({c}) THEN CAST(epoch_us({c}) AS VARCHAR) ELSE "
                 f"CAST({c} AS VARCHAR) END",
        "epoch_ns": f"CASE WHEN isfinite({c}) THEN CAST(epoch_ns({c}) AS VARCHAR) ELSE "
                    f"CAST({c} AS VARCHAR) END",
        "interval": f"CAST(datepart('year', {c}) * 12 + datepart('month', {c}) AS VARCHAR) || "
                    f"' ' || CAST(datepart('day', {c}) AS VARCHAR) || ' ' || "
                    f"CAST(datepart('hour', {c}) * 3600000000 + datepart('minute', {c}) * "
                    f"60000000 + datepart('microseconds', {c}) AS VARCHAR)",
        "text": f"hex({c})",
        "blob": f"hex({c})",
        "json": f"CAST({c} AS VARCHAR)",
        "nested": f"CAST(to_json({c}) AS VARCHAR)",
    }[kind]
    return f"CASE WHEN {c} IS NULL THEN 'NULL' ELSE 'v' || {form} END AS {c}"


def pg_expr(name, kind):
    c = f'"{name}"'
    form = {
        "exact": f"{c}::text",
        "float": f"{c}::text",
        "double": f"{c}::text",
        "date": f"{c}::text",
        "epoch": f"CASE WHEN isfinite({c}) THEN (extract(epoch from {c}) * 1000000)::bigint"
                 f"::text ELSE {c}::text END",
        "epoch_ns": f"CASE WHEN isfinite({c}) THEN (extract(epoch from {c}) * 1000000)::bigint"
                    f"::text ELSE {c}::text END",
        "interval": f"(extract(year from {c}) * 12 + extract(month from {c}))::text || ' ' || "
                    f"extract(day from {c})::text || ' ' || (extract(hour from {c}) * 3600000000 "
                    f"+ extract(minute from {c}) * 60000000 + extract(microseconds from {c}))"
                    f"::bigint::text",
        "text": f"upper(encode(convert_to({c}, 'UTF8'), 'hex'))",
        "blob": f"upper(encode({c}, 'hex'))",
        "json": f"{c}::text",
        "nested": f"{c}::text",
    }[kind]
    return f"CASE WHEN {c} IS NULL THEN 'NULL' ELSE 'v' || {form} END AS {c}"


def parse_float(text, single):
    t = {"Infinity": "inf", "-Infinity": "-inf", "NaN": "nan"}.get(text, text)
    x = float(t)
    return struct.pack("<f" if single else "<d", x)


def same(kind, lake, wh):
    if lake == wh:
        return True
    if lake == "NULL" or wh == "NULL":
        return False
    lake, wh = lake[1:], wh[1:]
    if kind in ("float", "double"):
        return parse_float(lake, kind == "float") == parse_float(wh, kind == "float")
    if kind == "date":  # DuckDB writes 0044-03-15 (BC) 12:00:00, PostgreSQL 0044-03-15 12:00:00 BC
        if " (BC)" in lake:
            lake = lake.replace(" (BC)", "") + " BC"
        return lake == wh
    if kind == "epoch_ns":  # cut to the microsecond at or before the value
        return lake.lstrip("-").isdigit() and int(lake) // 1000 == int(wh)
    if kind in ("json", "nested"):
        def load(t):
            return json.loads(t, parse_float=Decimal)
        return load(lake) == load(wh)
    return False


def body(sluice, fixture, work):
    server = whlib.Server(fixture, work)
    try:
        project = whlib.Project(sluice, work, server.project_uri, {"gold.types": model_sql()},
                                password=server.password)
        project.run("run", "gold.types")
        # The catalog must hold the types asked for, else the test tests less than it says.
        p = project.run("catalog", "gold.types", "--format", "json")
        held = {c["name"]: c["type"] for c in json.loads(p.stdout)["columns"]}
        problems = []
        for name, (typ, _, _) in COLUMNS.items():
            if held.get(name) != typ:
                print(f"note: the lake holds {name} as {held.get(name)}, not {typ}")
        project.run("load", "gold.types")
        names = list(COLUMNS)
        p = project.run("query", "--format", "csv", "SELECT id, " + ", ".join(
            duck_expr(n, COLUMNS[n][1]) for n in names) + " FROM gold.types ORDER BY id")
        lake = list(csv.reader(io.StringIO(p.stdout)))[1:]
        wh = server.psql("SET TimeZone = 'UTC'; SELECT id, " + ", ".join(
            pg_expr(n, COLUMNS[n][1]) for n in names) + " FROM gold.types ORDER BY id")
        wh = list(csv.reader(io.StringIO("\n".join(wh))))
        if len(lake) != ROWS or len(wh) != ROWS:
            problems.append(f"rows: {len(lake)} in the lake, {len(wh)} in the warehouse, "
                            f"{ROWS} expected")
        for lrow, wrow in zip(lake, wh):
            for i, name in enumerate(names, 1):
                if not same(COLUMNS[name][1], lrow[i], wrow[i]):
                    problems.append(f"row {lrow[0]} {name} ({held.get(name)}): lake "
                                    f"{lrow[i][:120]!r} warehouse {wrow[i][:120]!r}")
        # The warehouse's types, as documented.
        types = dict(csv.reader(io.StringIO("\n".join(server.psql(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid "
            "= 'gold.types'::regclass AND attnum > 0")))))
        for name, want in WAREHOUSE_TYPES.items():
            if types.get(name) != want:
                problems.append(f"column {name} is {types.get(name)} in the warehouse, not {want}")
        for line in problems:
            print("MISMATCH", line)
        if problems:
            sys.exit(1)
        print(f"ok: {ROWS} rows x {len(names)} columns match")
    finally:
        server.stop()


if __name__ == "__main__":
    whlib.main(body)
