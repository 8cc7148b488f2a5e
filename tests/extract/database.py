#!/usr/bin/env python3
"""`sluice extract SOURCE` of database sources end to end: SQLite files written here, and a real
PostgreSQL server (pg_fixture, built beside the binary).

Usage: database.py SLUICE   (exit 0 when every scenario holds; 1 at the first that does not, with
a line saying what). Bounded: 150 s in all, every subprocess with a timeout.

Each scenario writes its own temporary project with sources/NAME.yaml holding `extract:
database:`, runs `sluice -C ROOT extract SOURCE --format json`, then crawls the source and reads
bronze.SOURCE with `sluice query` (what landed, as the pipeline sees it).

  incremental   5000 rows sharing one cursor value, in chunks of 1000; a new row at that value,
                an update, two deletes: each lands exactly once, deletes as delete records; a
                rerun lands nothing; the JSON report's rows/files/deletes/cursor agree.
  types         SQLite's declared types land as documented, values exactly; a text in an
                INTEGER column: exit 1 (extract.bad_value) naming the column, nothing landed,
                cursor unmoved; fixed, the rerun lands everything once.
  kill9         kill -9 at several moments of a run of 300000 rows: nothing half landed; the
                reruns land every row exactly once.
  interrupted   SIGINT mid-run: exit 130 within seconds, nothing landed.
  hostile       values that do not fit their column fail (a text in INTEGER, a time in DATE),
                a text in a BLOB column lands as its bytes, names the lake confuses are refused,
                a changed cursor is named, an infinite cursor fails without sticking the
                source, a full refresh that finds nothing resets the cursor, Ctrl-C stops a
                query that returns nothing.
  postgres      a PostgreSQL source whose password comes from ${env:...}: the run lands; with
                a wrong password the run fails naming the server, and the password is in no
                output and no file under the project.
  pipeline      a workflow: extract step, crawl, a choice on steps.extract_shop.rows.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from servetest import Deadline, check, write_project  # noqa: E402

deadline = Deadline(150)
SLUICE = None
SCENARIO = "setup"


def expect(cond, message):
    check(cond, f"[{SCENARIO}] {message}")


def tail(text, n=1500):
    return text if len(text) <= n else "..." + text[-n:]


class Project:
    def __init__(self, sources):
        self.tmp = tempfile.TemporaryDirectory(prefix="sluice-db-extract-")
        self.root = self.tmp.name
        files = {"sluice.yaml": "project: shop\n"}
        for name, text in sources.items():
            files[f"sources/{name}.yaml"] = text
        write_project(self.root, files)
        self.db = os.path.join(self.root, "shop.db")

    def run(self, *args, want=0, env=None, timeout=60):
        p = subprocess.run([SLUICE, "-C", self.root, *args], capture_output=True, text=True,
                           timeout=timeout, env=env)
        expect(p.returncode == want,
               f"sluice {' '.join(args)}: exit {p.returncode}, expected {want}\n"
               f"{tail(p.stdout)}{tail(p.stderr)}")
        return p

    def extract(self, source, *args, want=0, env=None):
        p = self.run("extract", source, "--format", "json", *args, want=want, env=env)
        return json.loads(p.stdout) if want == 0 else p

    def query(self, sql):
        p = self.run("query", "--format", "csv", sql)
        return p.stdout.strip().splitlines()[1:]

    def landed(self, source):
        base = os.path.join(self.root, "lake", "landing", source)
        out = []
        for d, _, files in os.walk(base):
            out += [os.path.join(d, f) for f in files]
        return sorted(out)


def orders_source(chunk_rows=1000, deletes=True):
    return (f"source: shop\nextract:\n  database: sqlite:shop.db\n  table: orders\n"
            f"  cursor: updated_at\n  key: [id]\n  chunk_rows: {chunk_rows}\n"
            + ("  deletes: detect\n" if deletes else ""))


def make_orders(path, n, updated="2026-01-01 00:00:00"):
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, shop TEXT, total DECIMAL(10,2), "
              "updated_at DATETIME NOT NULL)")
    c.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)",
                  ((i, f"shop{i % 3}", f"{i * 1.5:.2f}", updated) for i in range(1, n + 1)))
    c.commit()
    return c


def incremental():
    p = Project({"shop": orders_source()})
    c = make_orders(p.db, 5000)
    r = p.extract("shop")
    expect(r["rows"] == 5000 and r["files"] == 5 and r["deletes"] == 0,
           f"first run: {r}")
    expect(r["cursor"] == "2026-01-01 00:00:00", f"cursor after the first run: {r['cursor']}")
    c.execute("INSERT INTO orders VALUES (5001, 'shop9', '1.00', '2026-01-01 00:00:00')")
    c.execute("UPDATE orders SET total = '0.01', updated_at = '2026-01-02 00:00:00' WHERE id = 7")
    c.execute("DELETE FROM orders WHERE id IN (10, 11)")
    c.commit()
    r = p.extract("shop")
    expect(r["rows"] == 2 and r["deletes"] == 2 and r["files"] == 2,
           f"second run should land 2 rows and 2 deletes in 2 files: {r}")
    expect(r["cursor"] == "2026-01-02 00:00:00", f"cursor after the second run: {r['cursor']}")
    r = p.extract("shop")
    expect(r["rows"] == 0 and r["files"] == 0 and r["deletes"] == 0, f"rerun: {r}")
    p.run("crawl", "shop")
    rows = p.query("SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE _sluice_deleted), "
                   "min(total) FROM bronze.shop")
    expect(rows == ["5004,5001,2,0.01"], f"bronze.shop: {rows}")
    rows = p.query("SELECT id, total, _sluice_deleted FROM bronze.shop WHERE id IN (7, 10) "
                   "ORDER BY id, total")
    expect(rows == ["7,0.01,false", "7,10.50,false", "10,15.00,false", "10,,true"],
           f"rows 7 and 10: {rows}")


def types():
    p = Project({"kinds": "source: kinds\nextract:\n  database: sqlite:shop.db\n  table: kinds\n"
                          "  cursor: id\n  key: id\n"})
    c = sqlite3.connect(p.db)
    c.execute("CREATE TABLE kinds (id INTEGER, n NUMERIC(12, 3), r REAL, t TEXT, v VARCHAR(5), "
              "b BLOB, flag BOOLEAN, d DATE, ts DATETIME, free NUMERIC, anything)")
    c.executemany("INSERT INTO kinds VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
        (1, 123456789.125, 0.1, 'a "quoted", text\nwith a newline', "", b"\x00\xff", 1,
         "2024-02-29", "2024-01-01 10:00:00.123456", "12345678901234567890", 42),  # SQLite keeps a REAL
        (2, None, -1e300, "ü€😀", None, b"", 0, None, None, 1.5, "x"),
        (3, -0.001, 2.5e-308, "", " ", None, None, "0001-01-01", "1970-01-01 00:00:00", None,
         None),
    ])
    c.commit()
    r = p.extract("kinds")
    expect(r["rows"] == 3, f"kinds: {r}")
    p.run("crawl", "kinds")
    rows = p.query("SELECT column_name || ' ' || column_type FROM (DESCRIBE bronze.kinds)")
    want = ["id BIGINT", '"n DECIMAL(12,3)"', "r DOUBLE", "t VARCHAR", "v VARCHAR", "b BLOB",
            "flag BOOLEAN", "d DATE", "ts TIMESTAMP", "free VARCHAR", "anything VARCHAR",
            "_sluice_extracted_at TIMESTAMP WITH TIME ZONE", "extracted_at DATE"]
    expect(rows == want, f"lake types: {rows}")
    rows = p.query("SELECT id, n, r, replace(t, chr(10), '<LF>'), v = '', hex(b), flag, d, ts, "
                   "free, anything FROM bronze.kinds ORDER BY id")
    want = ['1,123456789.125,0.1,"a ""quoted"", text<LF>with a newline",true,00FF,true,'
            '2024-02-29,2024-01-01 10:00:00.123456,1.2345678901234567e+19,42',
            "2,,-1e+300,ü€😀,,,false,,,1.5,x",
            "3,-0.001,2.5e-308,,false,,,0001-01-01,1970-01-01 00:00:00,,"]
    expect(rows == want, f"values: {rows}")
    # A value that does not fit its column: the run fails whole, the cursor stays.
    c.execute("INSERT INTO kinds (id, n) VALUES (4, 5)")
    c.execute("INSERT INTO kinds (id, n, d) VALUES (5, 6, 'not a date')")
    c.commit()
    before = p.landed("kinds")
    f = p.extract("kinds", want=1)
    expect("extract.bad_value" in f.stderr and
           "column d holds no date but 'not a date'" in f.stderr,
           f"a bad date should name its column: {f.stderr}")
    expect(p.landed("kinds") == before, "a failed run landed files")
    c.execute("UPDATE kinds SET d = '2024-05-05' WHERE id = 5")
    c.commit()
    r = p.extract("kinds")
    expect(r["rows"] == 2 and r["cursor"] == 5, f"after the fix: {r}")


def kill9():
    p = Project({"shop": orders_source(chunk_rows=1000, deletes=False)})
    c = make_orders(p.db, 300000)
    c.execute("UPDATE orders SET updated_at = '2026-01-0' || (1 + id % 9) || ' 00:00:00'")
    c.commit()
    for delay in (0.05, 0.3, 0.8, 1.5, 2.2):  # a whole run takes about 2.5 s
        proc = subprocess.Popen([SLUICE, "-C", p.root, "extract", "shop"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.kill()
        proc.wait(timeout=10)
    r = p.extract("shop")
    r2 = p.extract("shop")
    expect(r2["rows"] == 0, f"a second full run after the kills landed more: {r2}")
    p.run("crawl", "shop")
    rows = p.query("SELECT count(*), count(DISTINCT id) FROM bronze.shop")
    expect(rows == ["300000,300000"], f"after kill -9 and reruns, bronze.shop: {rows} ({r})")
    leftovers = [f for f in os.listdir(os.path.join(p.root, "lake")) if f.startswith("_")]
    staged = os.path.join(p.root, "lake", "_extract")
    expect(not os.path.isdir(staged) or not any(files for _, _, files in os.walk(staged)),
           f"staged files left after the reruns: {leftovers}")


def interrupt(p, source, what):
    """SIGINT 0.5 s into `sluice extract source`: it must exit 130 within 5 s."""
    proc = subprocess.Popen([SLUICE, "-C", p.root, "extract", source],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    _, err = proc.communicate(timeout=20)
    expect(proc.returncode == 130, f"SIGINT on {what}: exit {proc.returncode}: {tail(err)}")
    expect(time.monotonic() - start < 5, f"SIGINT on {what} took more than 5 s to stop it")


def interrupted():
    p = Project({"shop": orders_source(chunk_rows=1000, deletes=False)})
    make_orders(p.db, 200000).close()
    interrupt(p, "shop", "a run")
    expect(p.landed("shop") == [], f"an interrupted run landed {p.landed('shop')}")


def hostile():
    """What an attacker's review found, each held: values that do not fit fail, names the lake
    would confuse are refused, a cursor that changed is named, Ctrl-C stops a query that returns
    nothing, a full refresh that finds nothing resets the cursor."""
    p = Project({})
    c = sqlite3.connect(p.db)
    c.executescript("""
        CREATE TABLE nums (id INTEGER, n INTEGER);
        INSERT INTO nums VALUES (1, 5), (2, '0x10');
        CREATE TABLE blobs (id INTEGER, b BLOB);
        INSERT INTO blobs VALUES (1, 'abcd'), (2, x'00ff');
        CREATE TABLE dates (id INTEGER, d DATE);
        INSERT INTO dates VALUES (1, '2026-01-01 10:00:00');
        CREATE TABLE untyped (id, v);
        INSERT INTO untyped VALUES (100, 'a'), (150, 'b'), (200, 'c');
        CREATE TABLE floats (id INTEGER, x REAL);
        INSERT INTO floats VALUES (1, 1.5), (2, 9e999);
        CREATE TABLE t (id INTEGER, a INTEGER, b INTEGER);
        INSERT INTO t VALUES (1, 1, 1), (2, 2, 2);
    """)
    c.commit()

    def source(name, body):
        write_project(p.root, {f"sources/{name}.yaml": f"source: {name}\nextract:\n  database: "
                               f"sqlite:shop.db\n{body}"})

    source("nums", "  table: nums\n")
    f = p.extract("nums", want=1)
    expect("extract.bad_value" in f.stderr and "column n (declared INTEGER, landing as BIGINT) "
           "holds a text" in f.stderr, f"a text in an INTEGER column: {f.stderr}")
    source("blobs", "  table: blobs\n")
    p.extract("blobs")
    p.run("crawl", "blobs")
    expect(p.query("SELECT hex(b) FROM bronze.blobs ORDER BY id") == ["61626364", "00FF"],
           "a text in a BLOB column lands as its bytes")
    source("dates", "  table: dates\n")
    f = p.extract("dates", want=1)
    expect("column d holds no date but '2026-01-01 10:00:00'" in f.stderr,
           f"a time of day in a DATE column: {f.stderr}")
    # A value that fails in the first of several chunks, the others waiting for conversion.
    c.execute("CREATE TABLE many (id INTEGER, d DATE)")
    c.executemany("INSERT INTO many VALUES (?, ?)",
                  [(i, "bad" if i == 5 else "2026-01-01") for i in range(1, 3001)])
    c.commit()
    source("many", "  table: many\n  chunk_rows: 1000\n")
    f = p.extract("many", want=1)
    expect("column d holds no date but 'bad'" in f.stderr, f"a bad first chunk: {f.stderr}")
    for query, what in (('SELECT 1 AS "EXTRACTED_AT"', "`EXTRACTED_AT`"),
                        ('SELECT 1 AS "_Sluice_Extracted_At"', "`_Sluice_Extracted_At`")):
        source("names", f"  query: '{query}'\n")
        f = p.extract("names", want=2)
        expect("extract.bad_column" in f.stderr and what in f.stderr, f"{query}: {f.stderr}")
    source("untyped", "  table: untyped\n  cursor: id\n  key: id\n  initial_value: '150'\n")
    r = p.extract("untyped")
    expect(r["rows"] == 2 and r["cursor"] == 200, f"a number initial_value, untyped: {r}")
    source("floats", "  table: floats\n  cursor: x\n  key: id\n")
    f = p.extract("floats", want=1)
    expect("extract.bad_key" in f.stderr and "an infinite number" in f.stderr, f.stderr)
    c.execute("DELETE FROM floats WHERE id = 2")
    c.commit()
    r = p.extract("floats")
    expect(r["rows"] == 1, f"after the infinite cursor is gone: {r}")
    # A cursor that changed (the same number of columns) is named, not read as the old one.
    source("t", "  table: t\n  cursor: a\n  key: id\n")
    p.extract("t")
    source("t", "  table: t\n  cursor: b\n  key: id\n")
    f = p.extract("t", want=2)
    expect("from [a, id] to [b, id]" in f.stderr, f"a changed cursor: {f.stderr}")
    # A full refresh that finds no row resets the cursor: rows that come back land again.
    source("t", "  table: t\n  cursor: a\n  key: id\n")
    c.execute("DELETE FROM t")
    c.commit()
    p.extract("t", "--full-refresh")
    c.execute("INSERT INTO t VALUES (1, 1, 1)")
    c.commit()
    r = p.extract("t")
    expect(r["rows"] == 1, f"after a full refresh of an empty table: {r}")
    # A query ending in a comment; Ctrl-C on a query that returns no rows for long.
    source("q", "  query: |\n    SELECT id FROM t -- the rows\n")
    expect(p.extract("q")["rows"] == 1, "a query ending in a comment")
    source("slow", "  query: WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) "
                   "SELECT x FROM r WHERE x < 0\n")
    interrupt(p, "slow", "a query without rows")


def postgres():
    fixture = os.path.join(os.path.dirname(os.path.abspath(SLUICE)), "pg_fixture")
    if not os.path.exists(fixture):
        print(f"[{SCENARIO}] skipped: no {fixture}")
        return
    server = subprocess.Popen([fixture, "shop"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        info = json.loads(server.stdout.readline())
        env = dict(os.environ, PGPASSWORD=info["password"])
        subprocess.run([info["psql"], "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                        "-p", str(info["port"]), "-U", "postgres", "-d", "shop", "-c",
                        "CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2), "
                        "updated_at timestamptz NOT NULL); INSERT INTO orders SELECT g, g, "
                        "'2026-01-01' FROM generate_series(1, 100) g"],
                       check=True, env=env, timeout=30, capture_output=True)
        source = ("source: pg\nextract:\n"
                  f"  database: postgresql://postgres:${{env:SHOP_PW}}@127.0.0.1:{info['port']}"
                  "/shop\n  table: orders\n  cursor: updated_at\n  key: id\n")
        p = Project({"pg": source})
        env = dict(os.environ, SHOP_PW=info["password"])
        env.pop("PGPASSWORD", None)
        r = p.extract("pg", env=env)
        expect(r["rows"] == 100 and r["cursor"] == "2026-01-01 00:00:00+00", f"pg: {r}")
        secret = "Wr0ng-" + info["password"]
        f = p.extract("pg", want=1, env=dict(env, SHOP_PW=secret))
        expect("pg.connect" in f.stderr and "127.0.0.1" in f.stderr,
               f"a wrong password should fail naming the server: {f.stderr}")
        runs = p.run("runs", "--format", "json", env=env)
        for text in (f.stdout, f.stderr, runs.stdout, runs.stderr):
            expect(secret not in text and info["password"] not in text,
                   f"the password reached the output: {text}")
        for d, _, files in os.walk(p.root):
            for name in files:
                with open(os.path.join(d, name), "rb") as fh:
                    data = fh.read()
                expect(info["password"].encode() not in data and secret.encode() not in data,
                       f"the password is in {os.path.join(d, name)}")
    finally:
        server.stdin.close()
        server.wait(timeout=30)


def pipeline():
    p = Project({"shop": orders_source()})
    write_project(p.root, {"workflows/daily.yaml": """workflow: daily
steps:
  - extract: shop
  - crawl: shop
  - choice:
      - when: steps.extract_shop.rows > 0
        steps: [ { pass: {}, name: got_rows } ]
"""})
    make_orders(p.db, 10).close()
    run = json.loads(p.run("run", "daily", "--format", "json").stdout)
    steps = {st["path"]: st for st in run.get("steps", [])}
    expect("choice/0/got_rows" in steps, f"workflow steps: {sorted(steps)}")
    output = steps.get("extract_shop", {}).get("output", {})
    expect(output.get("rows") == 10 and output.get("files") == 1 and
           output.get("cursor") == "2026-01-01 00:00:00", f"the extract step's figures: {output}")
    rows = p.query("SELECT count(*) FROM bronze.shop")
    expect(rows == ["10"], f"bronze.shop after the workflow: {rows}")


def main():
    global SLUICE, SCENARIO
    SLUICE = os.path.abspath(sys.argv[1])
    for scenario in (incremental, types, kill9, interrupted, hostile, postgres, pipeline):
        SCENARIO = scenario.__name__
        start = time.monotonic()
        scenario()
        print(f"ok {SCENARIO} ({time.monotonic() - start:.1f} s)")
        check(time.monotonic() < deadline.end, "over the 150 s budget")


if __name__ == "__main__":
    main()
