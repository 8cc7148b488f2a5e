#!/usr/bin/env python3
"""The retail example's extracted sources end to end: `sluice init`, its order files through
`sluice run --all`, then its `shop_sync` workflow pulling the shop's customer database (the
SQLite file init writes) and the marketplace's reviews API (served here, on loopback, by a small
paged API that answers `updated_since` with the reviews at or after it), twice, with changes on
both sides in between.

Usage: retail_sources.py SLUICE   (exit 0 when it all holds; 1 at the first thing that does not).
Bounded: 120 s in all, every subprocess with a timeout.

What must hold:
  - before anything is extracted, `sluice run --all` builds the order tables and skips the two
    models that read the extracted sources, naming the command that lands them (exit 4 with
    --detailed-exitcode);
  - the first shop_sync lands 500 customers and 200 reviews; gold.customer_segments counts 500
    live accounts, gold.product_ratings has a rating for every product that sold;
  - after 3 accounts change, 2 are deleted and 1 is added, and the API has 5 new reviews and 1
    changed, the second shop_sync lands exactly 4 customer rows, 2 delete records and 6 reviews:
    gold.customer_segments counts 499, gold.product_ratings 205 reviews;
  - a third shop_sync lands nothing.
"""
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from servetest import Deadline, check  # noqa: E402

deadline = Deadline(120)


class ReviewsApi:
    """GET /reviews.json?updated_since=T&page=N: the reviews updated at or after T, 100 a page,
    oldest first, with `next` linking to the following page."""

    def __init__(self, reviews):
        self.reviews = reviews
        self.requests = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                q = urllib.parse.parse_qs(url.query)
                api.requests.append(self.path)
                since = q.get("updated_since", [""])[0]
                page = int(q.get("page", ["1"])[0])
                rows = sorted((r for r in api.reviews if r["updated_at"] >= since),
                              key=lambda r: (r["updated_at"], r["review_id"]))
                chunk = rows[(page - 1) * 100:page * 100]
                nxt = None
                if page * 100 < len(rows):
                    nxt = "/reviews.json?" + urllib.parse.urlencode(
                        {"updated_since": since, "page": page + 1})
                body = json.dumps({"data": chunk, "next": nxt}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def main():
    sluice = os.path.abspath(sys.argv[1])
    work = tempfile.TemporaryDirectory(prefix="sluice-retail-sources-")
    root = os.path.join(work.name, "shop")

    # The API serves the sample pages' reviews (what `sluice init` writes), as a real API would.
    def run(*args, want=0, cwd=None, env=None):
        p = subprocess.run([sluice, *args], cwd=cwd or root, capture_output=True, text=True,
                           timeout=60, env=env)
        check(p.returncode == want, f"sluice {' '.join(args)}: exit {p.returncode}, expected "
              f"{want}\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
        return p.stdout

    run("init", "shop", cwd=work.name)
    reviews = []
    page = "reviews.json"
    while page:
        with open(os.path.join(root, "data", "reviews", page)) as f:
            body = json.load(f)
        reviews += body["data"]
        page = body["next"]
    check(len(reviews) == 200, f"the sample pages hold {len(reviews)} reviews, not 200")
    api = ReviewsApi(reviews)
    env = dict(os.environ, RETAIL_REVIEWS_API=api.url)

    def sync():
        out = json.loads(run("run", "shop_sync", "--format", "json", env=env))
        steps = {s["path"]: s for s in out["steps"]}
        return (steps["pull/0/extract_customers"]["output"],
                steps["pull/1/extract_reviews"]["output"])

    def query(sql):
        return run("query", "--format", "csv", sql).strip().splitlines()[1:]

    # The orders first, as the init's "Next:" has it, but without extracting.
    run("ingest", "orders", "data/orders")
    run("crawl", "orders")
    out = run("run", "--all", "--detailed-exitcode", want=4)
    check("model gold.customer_segments: skipped: bronze.customers has no files yet (land them "
          "with `sluice extract customers`, then `sluice crawl customers`)" in out, out)
    check("model gold.product_ratings: skipped: bronze.reviews has no files yet" in out, out)
    check("model gold.product_sales -> gold.product_sales" in out, out)

    customers, got = sync()
    check(customers["rows"] == 500 and customers["deletes"] == 0, f"first run: {customers}")
    check(got["rows"] == 200 and got["files"] == 1, f"first run, reviews: {got}")
    check(query("SELECT sum(customers) FROM gold.customer_segments") == ["500"],
          "gold.customer_segments after the first run")
    check(query("SELECT count(*), sum(reviews) FROM gold.product_ratings WHERE rating IS NOT NULL")
          == ["10,200"], "gold.product_ratings after the first run")

    # Changes on both sides.
    db = sqlite3.connect(os.path.join(root, "data", "shop.db"))
    db.execute("UPDATE customers SET segment = 'business', updated_at = '2026-02-01 09:00:00' "
               "WHERE customer_id IN (1, 2, 3)")
    db.execute("DELETE FROM customers WHERE customer_id IN (10, 11)")
    db.execute("INSERT INTO customers VALUES (501, 'new@example.com', 'DE', 'consumer', "
               "'2026-02-01 10:00:00', '2026-02-01 10:00:00')")
    db.commit()
    db.close()
    for i in range(5):
        reviews.append({"review_id": 201 + i, "product": "kettle", "rating": 5, "title": "New",
                        "updated_at": f"2026-02-0{i + 1}T10:00:00Z"})
    changed = dict(reviews[0], rating=1, updated_at="2026-02-10T00:00:00Z")
    reviews.append(changed)
    before = len(api.requests)

    customers, got = sync()
    check(customers["rows"] == 4 and customers["deletes"] == 2 and customers["files"] == 2,
          f"second run, customers: {customers}")
    check(got["rows"] == 6 and got["cursor"] == "2026-02-10T00:00:00Z",
          f"second run, reviews: {got}")
    check(any("updated_since=2026-01-" in r for r in api.requests[before:]),
          f"the second run did not send its cursor: {api.requests[before:]}")
    check(query("SELECT sum(customers) FROM gold.customer_segments") == ["499"],
          "gold.customer_segments after the changes")
    check(query("SELECT sum(reviews) FROM gold.product_ratings") == ["205"],
          "gold.product_ratings after the changes")

    customers, got = sync()
    check(customers["rows"] == 0 and customers["deletes"] == 0 and got["rows"] == 0,
          f"third run: {customers} {got}")
    check(query("SELECT count(*) FROM bronze.customers WHERE _sluice_deleted") == ["2"],
          "delete records in bronze.customers")
    api.server.shutdown()
    print("ok retail_sources")


if __name__ == "__main__":
    main()
