// The Polars baseline: clean_orders with nodejs-polars (bench/node_modules).
//   node clean_orders_polars.js ORDERS.csv OUT.parquet SALT
// Polars has no SHA-256 expression, so the mask hashes the collected column with Node's crypto
// (one digest per row, as every other engine does). Phase timings go to stderr.
"use strict";
const path = require("path");
const crypto = require("crypto");
const pl = require(path.join(__dirname, "..", "node_modules", "nodejs-polars"));

const [csv, out, salt] = process.argv.slice(2);
if (!csv || !out || salt === undefined) {
  console.error("usage: node clean_orders_polars.js ORDERS.csv OUT.parquet SALT");
  process.exit(2);
}

const t0 = performance.now();
const df = pl
  .scanCSV(csv, { hasHeader: true })
  .rename({ OrderID: "order_id" })
  .withColumns(
    pl.col("order_id").cast(pl.Int64),
    pl.col("quantity").cast(pl.Int32),
    pl.col("amount").cast(pl.Decimal(12, 2)),
    pl.col("order_date").str.strptime(pl.Date, "%Y-%m-%d"),
    pl.col("updated_at").str.strptime(pl.Datetime("ms"), "%Y-%m-%d %H:%M:%S"),
  )
  .filter(pl.col("amount").gtEq(0))
  .withColumns(pl.col("country").fillNull(pl.lit("unknown")))
  .sort("updated_at", false, true) // ascending, nulls last: the latest version comes last
  .unique({ subset: ["order_id"], keep: "last" })
  .collectSync();
const t1 = performance.now();

// crypto.hash (Node >= 20.12) is the fastest one-shot digest; createHash where it is missing.
const sha256 = crypto.hash
  ? (text) => crypto.hash("sha256", text)
  : (text) => crypto.createHash("sha256").update(text).digest("hex");
const emails = df.getColumn("customer_email").toArray();
const ta = performance.now();
const masked = new Array(emails.length);
for (let i = 0; i < emails.length; i++) {
  const e = emails[i];
  masked[i] = e === null ? null : sha256(salt + e);
}
const tb = performance.now();
const result = df.withColumn(pl.Series("customer_email", masked, pl.Utf8));
const t2 = performance.now();

result.writeParquet(out);
const t3 = performance.now();
const s = (ms) => (ms / 1000).toFixed(2);
console.error(
  `polars: ${result.height} rows; scan+clean ${s(t1 - t0)} s, mask ${s(t2 - t1)} s (to JS ${s(ta - t1)}, sha256 ${s(tb - ta)}, back ${s(t2 - tb)}), write ${s(t3 - t2)} s`,
);
