#!/usr/bin/env python3
"""The retail example (`sluice init shop`) end to end with its `prod` environment on PostgreSQL.

Usage: retail.py SLUICE PG_FIXTURE

`sluice --env prod run --all` lands the gold tables in PostgreSQL (RETAIL_WAREHOUSE names the
server, PGPASSWORD carries the password): each holds exactly the lake's rows. A second run with
no new files changes nothing there: every row keeps its row version (xmin) and the loads say 0
inserted, 0 updated, 0 deleted. A new day's file then changes what it should, and only that.
The warehouse model analytics.top_products runs in PostgreSQL over the loaded
analytics.product_sales after it, in the same `run --all`, and readers of it never see it missing
or partial while it is rebuilt.
"""
import csv
import io
import os
import shutil
import subprocess
import threading

import whlib

GOLD = {  # table: key
    "daily_revenue": "order_date, country",
    "country_revenue": "country",
    "product_sales": "product",
}


def main(sluice, fixture, work):
    server = whlib.Server(fixture, work, "analytics")
    try:
        env = dict(os.environ, NO_COLOR="1", RETAIL_WAREHOUSE=server.project_uri,
                   PGPASSWORD=server.password)
        for name in list(env):
            if name.startswith("SLUICE_"):
                del env[name]

        def sluice_run(*args, cwd):
            p = subprocess.run([sluice] + list(args), cwd=cwd, env=env, capture_output=True,
                               text=True, timeout=300)
            if p.returncode != 0:
                raise AssertionError(f"sluice {' '.join(args)}: exit {p.returncode}\n"
                                     f"--- stdout\n{p.stdout}--- stderr\n{p.stderr}")
            return p.stdout

        sluice_run("init", "shop", cwd=work)
        shop = os.path.join(work, "shop")
        sluice_run("--env", "prod", "ingest", "orders", "data/orders", cwd=shop)
        sluice_run("--env", "prod", "crawl", cwd=shop)
        first = sluice_run("--env", "prod", "run", "--all", cwd=shop)
        for table in GOLD:
            assert f"into analytics.{table} (merge)" in first, first
        if server.password in first:
            raise AssertionError("the password appears in the run's output")

        def lake_rows(table):
            out = sluice_run("--env", "prod", "query", "--format", "csv",
                             f"SELECT * FROM gold.{table} ORDER BY {GOLD[table]}", cwd=shop)
            return list(csv.reader(io.StringIO(out)))[1:]

        def warehouse_rows(table):
            text = "\n".join(server.psql(f"SELECT * FROM analytics.{table} ORDER BY {GOLD[table]}"))
            return list(csv.reader(io.StringIO(text)))

        def versions():
            return {t: server.psql(
                f"SELECT {GOLD[t]}, xmin::text FROM analytics.{t} ORDER BY {GOLD[t]}")
                    for t in GOLD}

        def check_same():
            for table in GOLD:
                lake, wh = lake_rows(table), warehouse_rows(table)
                if lake != wh:
                    raise AssertionError(f"analytics.{table} differs from gold.{table}:\n"
                                         f"lake {lake}\nwarehouse {wh}")

        check_same()
        assert len(warehouse_rows("daily_revenue")) == 24

        # The warehouse model: built after the load it reads, from the warehouse's rows.
        assert first.index("into analytics.product_sales") < first.index(
            "model analytics.top_products: built analytics.top_products in the warehouse: 5 rows"
        ), first

        def top_products():
            lake = sluice_run("--env", "prod", "query", "--format", "csv",
                              "SELECT product FROM gold.product_sales ORDER BY revenue DESC, "
                              "product LIMIT 5", cwd=shop)
            wh = server.psql("SELECT product FROM analytics.top_products ORDER BY revenue DESC, "
                             "product")
            assert lake.split()[1:] == wh, (lake, wh)
            share = server.value("SELECT round(sum(share)) FROM analytics.top_products")
            assert 0 < float(share) < 100, share

        top_products()
        # Rebuilt while a reader keeps reading it: every read sees the whole table.
        seen, stop = [], threading.Event()

        def read():
            while not stop.is_set():
                p = server.psql("SELECT count(*) FROM analytics.top_products", check=False,
                                timeout=60)
                seen.append(p)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            for _ in range(5):
                out = sluice_run("--env", "prod", "run", "analytics.top_products", cwd=shop)
                assert "built analytics.top_products in the warehouse: 5 rows" in out, out
        finally:
            stop.set()
            reader.join(timeout=120)
        assert seen and all(r == ["5"] for r in seen), seen[:5]
        before = versions()

        # No new files: the models rebuild the same rows, and the warehouse is left as it was.
        second = sluice_run("--env", "prod", "run", "--all", cwd=shop)
        for table in GOLD:
            assert (f"version 2 into analytics.{table} (merge): " in second and
                    "0 inserted, 0 updated, 0 deleted" in second), second
        assert second.count("0 inserted, 0 updated, 0 deleted") == 3, second
        assert "built analytics.top_products in the warehouse: 5 rows" in second, second
        if versions() != before:
            raise AssertionError("a run without new files rewrote rows in the warehouse")
        ledger = server.psql("SELECT target, version FROM sluice.loads ORDER BY 1, 2")
        assert ledger == [f"analytics.{t},{v}" for t in sorted(GOLD) for v in (1, 2)], ledger

        # A new day: its rows are inserted, the totals it changes updated, nothing else touched.
        day = os.path.join(work, "incoming", "date=2026-01-04")
        os.makedirs(day)
        shutil.copy(os.path.join(shop, "data", "orders", "date=2026-01-03", "orders.csv"),
                    os.path.join(day, "orders.csv"))
        with open(os.path.join(day, "orders.csv")) as f:
            lines = f.read().splitlines()
        header = lines[0].split(",")
        order, date = header.index("OrderID"), header.index("order_date")
        with open(os.path.join(day, "orders.csv"), "w") as f:
            f.write(lines[0] + "\n")
            for line in lines[1:]:
                cells = line.split(",")
                if len(cells) == len(header) and cells[order].isdigit():
                    cells[order] = str(int(cells[order]) + 10_000_000)
                    cells[date] = "2026-01-04"
                    f.write(",".join(cells) + "\n")
        sluice_run("--env", "prod", "ingest", "orders", os.path.join(work, "incoming"), cwd=shop)
        sluice_run("--env", "prod", "crawl", cwd=shop)
        third = sluice_run("--env", "prod", "run", "--all", cwd=shop)
        check_same()
        top_products()
        new_days = server.value(
            "SELECT count(*) FROM analytics.daily_revenue WHERE order_date = '2026-01-04'")
        assert new_days not in (None, "0"), third
        after = versions()
        kept = [r for r in before["daily_revenue"] if r in after["daily_revenue"]]
        assert len(kept) == 24, "the rows of earlier days were rewritten"
        print("ok: the gold tables land in PostgreSQL; a run without new files changes nothing")
    finally:
        server.stop()


if __name__ == "__main__":
    whlib.main(main)
