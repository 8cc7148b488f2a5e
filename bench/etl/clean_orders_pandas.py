"""The pandas baseline: clean_orders with pandas.

    python3 clean_orders_pandas.py ORDERS.csv OUT.csv SALT

Debian's pandas has no Parquet writer (no pyarrow), so the result goes to CSV. pandas has no
DECIMAL type: amounts stay float64, rounded to cents. Phase timings go to stderr.
"""
import hashlib
import sys
import time

import pandas as pd


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit("usage: clean_orders_pandas.py ORDERS.csv OUT.csv SALT")
    csv, out, salt = sys.argv[1:]
    t0 = time.perf_counter()
    df = pd.read_csv(
        csv,
        dtype={"customer_email": "string", "country": "string", "product": "string"},
        keep_default_na=False,
        na_values=[""],
    )
    t1 = time.perf_counter()
    df = df.rename(columns={"OrderID": "order_id"})
    df["order_id"] = df["order_id"].astype("int64")
    df["quantity"] = df["quantity"].astype("int32")
    df["amount"] = df["amount"].astype("float64").round(2)
    df["order_date"] = pd.to_datetime(df["order_date"], format="%Y-%m-%d")
    df["updated_at"] = pd.to_datetime(df["updated_at"], format="%Y-%m-%d %H:%M:%S")
    df = df[df["amount"] >= 0]
    df["country"] = df["country"].fillna("unknown")
    # Keep the latest version of each order: sort by updated_at (nulls first), keep the last.
    df = df.sort_values("updated_at", kind="stable", na_position="first")
    df = df.drop_duplicates(subset="order_id", keep="last")
    t2 = time.perf_counter()
    prefix = salt.encode()
    df["customer_email"] = [
        None if pd.isna(e) else hashlib.sha256(prefix + e.encode()).hexdigest()
        for e in df["customer_email"]
    ]
    t3 = time.perf_counter()
    df.to_csv(out, index=False)
    t4 = time.perf_counter()
    print(
        f"pandas: {len(df)} rows; read {t1 - t0:.2f} s, clean {t2 - t1:.2f} s, "
        f"mask {t3 - t2:.2f} s, write {t4 - t3:.2f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
