#include "examples/retail.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "common/error.h"

namespace sluice::examples {

namespace {

const char* kSluiceYaml =
    R"x(# The retail example: partner shops drop daily order files; Sluice cleans them into
# silver.orders, builds gold tables for the analysts, and quarantines what is broken.
project: retail
environments:
  dev: {}   # ./lake, .sluice/dev.db, and the gold tables loaded into .sluice/dev.duckdb
  prod:     # its own lake and .sluice/prod.db, the gold tables loaded into PostgreSQL
    lake: lake-prod
    warehouse: ${env:RETAIL_WAREHOUSE}   # e.g. postgresql://loader@db.internal/analytics
notifications:
  # What the team hears about. A webhook looks like
  #   team: { webhook: "${env:TEAM_HOOK}", secret: "${env:TEAM_HOOK_SECRET}", on: [failure] }
  team: { file: notifications.jsonl, on: [failure, quality, drift, quarantine] }
pii:
  mask: hash   # what `pii: auto` jobs do to sensitive columns (hash | redact | tokenize)
)x";

const char* kWorkflow = R"x(workflow: orders
description: Every order file that lands flows through to the gold tables within seconds.
triggers:
  - on_arrival: orders
    batch_window: 200ms       # files landing together run once
  - schedule: "0 6 * * *"     # and a daily safety run
    timezone: Europe/Berlin
    catch_up: latest
steps:
  - crawl: orders
  - job: clean_orders
    retry: { attempts: 3, interval: 2s, backoff_rate: 2.0, on: [io, internal] }
    timeout: 30m
  - check: silver.orders
    rules: [ { file: checks/silver.orders.dqdl, on_fail: fail } ]
  - parallel:
      - [ { model: gold.daily_revenue }, { model: gold.country_revenue } ]
      - [ { model: gold.product_sales }, { model: analytics.top_products } ]
  - choice:
      - when: "steps.clean_orders.rows_quarantined > 1000"
        steps:
          - notify: team
            message: "clean_orders quarantined ${steps.clean_orders.rows_quarantined} rows (run ${run.id})"
on_failure:
  - notify: team
)x";

const char* kSource = R"x(source: orders
description: Daily order exports from the partner shops (CSV, one folder per day).
format: csv
on_schema_change: evolve
checks:                    # judged on each crawl's new files, before they are registered
  - rule: ColumnExists "OrderID"
  - rule: RowCount > 0
    on_fail: warn
)x";

const char* kJob = R"x(job: clean_orders
description: Typed, de-duplicated orders with masked e-mails, one row per order.
input: bronze.orders
incremental: true          # each landed file is processed exactly once
pii: auto                  # mask whatever the crawler tags as sensitive (sluice catalog bronze.orders)
output:
  table: silver.orders
  mode: merge              # a corrected order replaces the earlier version
  key: [order_id]
  partition_by: [order_date]
steps:
  - rename: { OrderID: order_id }
  - cast: { order_id: BIGINT, quantity: INTEGER, amount: "DECIMAL(12,2)", order_date: DATE, updated_at: TIMESTAMP }
  - filter: "amount >= 0"  # negative amounts are test orders from the shops
  - fill_null: { country: unknown }
  - dedupe: { key: [order_id], keep: last, order_by: updated_at }
  - mask: { customer_email: hash }
checks:
  - rule: IsComplete "order_id"
  - rule: IsUnique "order_id"
  - rule: ColumnValues "amount" between 0 and 100000
    on_fail: quarantine
  - rule: ColumnValues "quantity" between 1 and 1000
    on_fail: quarantine
  - rule: ColumnValues "country" in ["DE", "FR", "NL", "ES", "IT", "PL", "SE", "unknown"]
    on_fail: warn
  - rule: RowCount > 0
  - file: checks/clean_orders.dqdl   # the batch's volume against the last runs
    on_fail: warn
)x";

const char* kBatchRules =
    R"x(# Each run of clean_orders: is this batch in line with the recent ones? A batch may hold
# several days (the first usually does), so the volume rule counts the orders of its newest day.
Rules = [
  CustomSql "SELECT count(*) FROM primary WHERE order_date = (SELECT max(order_date) FROM primary)" > avg(last(5)) * 0.5,
  Completeness "customer_email" >= 0.95
]
)x";

const char* kSilverRules =
    R"x(# The contract of silver.orders, for `sluice check silver.orders` and the workflow.
Rules = [
  RowCount > 0,
  IsPrimaryKey "order_id",
  IsComplete "order_date",
  Completeness "customer_email" >= 0.99,
  ColumnValues "country" in ["DE", "FR", "NL", "ES", "IT", "PL", "SE", "unknown"],
  ColumnValues "amount" between 0 and 100000,
  ColumnValues "quantity" between 1 and 1000,
  ColumnValues "order_date" <= (now() + 1 days),
  ColumnLength "customer_email" = 64,
  Mean "amount" between 10 and 5000,
  DistinctValuesCount "country" <= 8,
  (Sum "quantity" > 0) and (StandardDeviation "amount" < 10000),
  ColumnValues "amount" > 1 with threshold > 0.99 where "country <> 'unknown'"
]
)x";

const char* kCustomers = R"x(source: customers
description: The shop's customer accounts, read from its database (changes and deletions).
extract:
  # dev: the sample database `sluice init` writes. prod: the shop's PostgreSQL, e.g.
  # RETAIL_SHOP_DB=postgresql://reader@db.internal/shop (the password in PGPASSWORD).
  database: ${env:RETAIL_SHOP_DB:-sqlite:data/shop.db}
  table: customers
  cursor: updated_at       # each run reads the rows changed since the last one
  key: [customer_id]
  deletes: detect          # and lands the accounts deleted since as delete records
checks:
  - rule: IsComplete "customer_id"
)x";

const char* kReviews = R"x(source: reviews
description: Product reviews from the marketplace's REST API (JSON pages).
extract:
  http:
    # dev: the sample pages in data/reviews/, served by
    #   python3 -m http.server 18766 --bind 127.0.0.1 --directory data/reviews
    base_url: ${env:RETAIL_REVIEWS_API:-http://127.0.0.1:18766}
    path: /reviews.json
    records: data
    paginator: { type: json_link, next_url_path: next }
    incremental: { cursor: updated_at, param: updated_since, initial_value: "2026-01-01T00:00:00Z" }
checks:
  - rule: ColumnValues "rating" between 1 and 5
    on_fail: quarantine
)x";

const char* kShopSync = R"x(workflow: shop_sync
description: What changed in the shop's customer database and in the marketplace's reviews, into gold.
# In production, every hour:
# triggers:
#   - schedule: "15 * * * *"
steps:
  - name: pull
    parallel:
      - [ { extract: customers }, { crawl: customers } ]
      - [ { extract: reviews }, { crawl: reviews } ]
  - name: build
    parallel:
      - [ { model: gold.customer_segments } ]
      - [ { model: gold.product_ratings } ]
)x";

const char* kCustomerSegments =
    R"x(-- Live customer accounts per segment and country: the latest version of each account
-- (_sluice_extracted_at: when its extraction ran), deleted accounts left out.
SELECT segment, country, count(*) AS customers
FROM (
  SELECT * FROM {{ ref('bronze.customers') }}
  QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY _sluice_extracted_at DESC) = 1
)
WHERE _sluice_deleted IS NOT TRUE
GROUP BY ALL
)x";

const char* kProductRatings =
    R"x(-- What each product sold (from the shops' order files) next to what its buyers say (from the
-- marketplace's reviews API): the latest version of each review.
WITH ratings AS (
  SELECT product, count(*) AS reviews, round(avg(rating), 2) AS rating
  FROM (
    SELECT * FROM {{ ref('bronze.reviews') }}
    QUALIFY row_number() OVER (PARTITION BY review_id ORDER BY updated_at DESC) = 1
  )
  GROUP BY product
)
SELECT s.product, s.units, s.revenue, coalesce(r.reviews, 0) AS reviews, r.rating
FROM {{ ref('gold.product_sales') }} s LEFT JOIN ratings r USING (product)
)x";

const char* kDailyRevenue = R"x(-- Revenue per day and country.
SELECT order_date, country, count(*) AS orders, sum(quantity) AS items, sum(amount) AS revenue
FROM {{ ref('silver.orders') }}
GROUP BY ALL
)x";

const char* kDailyRevenueSettings =
    R"x(description: Revenue per day and country, for the finance dashboard.
checks:                    # judged before each rebuild is published
  - rule: IsPrimaryKey "order_date" "country"
  - rule: ColumnValues "revenue" >= 0
    on_fail: quarantine    # into quarantine.gold_daily_revenue
  - rule: RowCount > avg(last(5)) * 0.5
    on_fail: warn
destination:               # loaded into the warehouse after each run: only what changed
  table: analytics.daily_revenue
  mode: merge
  key: [order_date, country]
  delete_missing: true
)x";

const char* kCountryRevenueSettings =
    R"x(description: Revenue per country over the whole period, ranked.
destination: { table: analytics.country_revenue, mode: merge, key: [country], delete_missing: true }
)x";

const char* kProductSalesSettings = R"x(description: Units and revenue per product.
destination: { table: analytics.product_sales, mode: merge, key: [product], delete_missing: true }
)x";

const char* kCountryRevenue = R"x(-- Revenue per country over the whole period, ranked.
SELECT country, CAST(sum(orders) AS BIGINT) AS orders, sum(revenue) AS revenue,
       rank() OVER (ORDER BY sum(revenue) DESC) AS rank
FROM {{ ref('gold.daily_revenue') }}
GROUP BY country
)x";

const char* kProductSales = R"x(-- Units and revenue per product.
SELECT product, sum(quantity) AS units, sum(amount) AS revenue
FROM {{ ref('silver.orders') }}
GROUP BY product
)x";

const char* kTopProducts =
    R"x(-- The five best-selling products and their share of all revenue. It runs in the warehouse
-- (materialized: warehouse), over the table gold.product_sales is loaded into, in SQL that
-- PostgreSQL (prod) and the embedded DuckDB warehouse (dev) both accept.
SELECT product, revenue, 100 * revenue / (SELECT sum(revenue) FROM {{ ref('gold.product_sales') }}) AS share
FROM {{ ref('gold.product_sales') }}
ORDER BY revenue DESC, product
LIMIT 5
)x";

const char* kTopProductsSettings =
    R"x(description: The five best-selling products, for the sales team.
materialized: warehouse    # built in the warehouse, as analytics.top_products
)x";

void Write(const fs::path& path, const char* text) { WriteFileAtomic(path, text); }

}  // namespace

void WriteRetailProject(const fs::path& dir) {
  Write(dir / "sluice.yaml", kSluiceYaml);
  Write(dir / "sources" / "orders.yaml", kSource);
  Write(dir / "jobs" / "clean_orders.yaml", kJob);
  Write(dir / "models" / "gold" / "daily_revenue.sql", kDailyRevenue);
  Write(dir / "models" / "gold" / "daily_revenue.yaml", kDailyRevenueSettings);
  Write(dir / "models" / "gold" / "country_revenue.sql", kCountryRevenue);
  Write(dir / "models" / "gold" / "country_revenue.yaml", kCountryRevenueSettings);
  Write(dir / "models" / "gold" / "product_sales.sql", kProductSales);
  Write(dir / "models" / "gold" / "product_sales.yaml", kProductSalesSettings);
  Write(dir / "models" / "analytics" / "top_products.sql", kTopProducts);
  Write(dir / "models" / "analytics" / "top_products.yaml", kTopProductsSettings);
  Write(dir / "workflows" / "orders.yaml", kWorkflow);
  Write(dir / "sources" / "customers.yaml", kCustomers);
  Write(dir / "sources" / "reviews.yaml", kReviews);
  Write(dir / "workflows" / "shop_sync.yaml", kShopSync);
  Write(dir / "models" / "gold" / "customer_segments.sql", kCustomerSegments);
  Write(dir / "models" / "gold" / "product_ratings.sql", kProductRatings);
  Write(dir / "checks" / "clean_orders.dqdl", kBatchRules);
  Write(dir / "checks" / "silver.orders.dqdl", kSilverRules);
  Write(dir / ".gitignore", "/lake/\n/lake-prod/\n/.sluice/\nnotifications.jsonl\n");
}

GeneratedFiles GenerateOrders(const fs::path& dir, const OrderFilesSpec& spec) {
  static const char* countries[] = {"DE", "FR", "NL", "ES", "IT", "PL", "SE"};
  static const char* products[] = {"kettle", "toaster", "blender", "mixer", "grinder",
                                   "juicer", "scale",   "lamp",    "fan",   "heater"};
  static const char* domains[] = {"example.com", "mail.test", "shop.example"};
  std::mt19937_64 rng(spec.seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
  GeneratedFiles out;
  int64_t next_id = 100000;
  // Orders of the previous day that the shop re-sends with a correction.
  std::vector<std::string> corrections;
  for (int day = 0; day < spec.days; ++day) {
    std::string date = fmt::format("2026-01-{:02}", day + 1);
    fs::path path = dir / "data" / "orders" / ("date=" + date) / "orders.csv";
    fs::create_directories(path.parent_path());
    std::string text =
        "OrderID,customer_email,country,product,quantity,amount,order_date,updated_at\n";
    text.reserve(static_cast<size_t>(spec.rows_per_day) * 96);
    for (auto& c : corrections) text += c;
    out.rows += static_cast<int64_t>(corrections.size());
    corrections.clear();
    for (int64_t i = 0; i < spec.rows_per_day; ++i) {
      int64_t id = next_id++;
      const char* country = chance(0.02) ? "" : countries[rng() % 7];
      const char* product = products[rng() % 10];
      int quantity = 1 + static_cast<int>(rng() % 5);
      double amount = (500 + rng() % 50000) / 100.0 * quantity;
      if (chance(0.005)) amount = -amount;
      std::string email = fmt::format("customer{}@{}", rng() % 50000, domains[rng() % 3]);
      int hour = static_cast<int>(rng() % 24), minute = static_cast<int>(rng() % 60);
      std::string updated = fmt::format("{} {:02}:{:02}:00", date, hour, minute);
      std::string amount_text = fmt::format("{:.2f}", amount);
      // A few amounts the shops export as text.
      if (i % 997 == 13) amount_text = "N/A";
      if (i % 2503 == 7) {
        // A line cut short by the exporter.
        text += fmt::format("{},{},{}\n", id, email, country);
      } else {
        text += fmt::format("{},{},{},{},{},{},{},{}\n", id, email, country, product, quantity,
                            amount_text, date, updated);
      }
      if (chance(0.01)) {
        corrections.push_back(fmt::format("{},{},{},{},{},{:.2f},{},{} 23:59:59\n", id, email,
                                          country, product, quantity, std::abs(amount) * 0.9, date,
                                          date));
      }
    }
    out.rows += spec.rows_per_day;
    WriteFileAtomic(path, text);
    ++out.files;
  }
  return out;
}

}  // namespace sluice::examples

namespace sluice::examples {

ShopSources GenerateShopSources(const fs::path& dir, const ShopSourcesSpec& spec) {
  static const char* countries[] = {"DE", "FR", "NL", "ES", "IT", "PL", "SE"};
  static const char* segments[] = {"consumer", "consumer", "consumer", "business", "reseller"};
  static const char* products[] = {"kettle", "toaster", "blender", "mixer", "grinder",
                                   "juicer", "scale",   "lamp",    "fan",   "heater"};
  static const char* titles[] = {"Does the job", "Broke after a week", "Great value", "Too loud",
                                 "Exactly as described"};
  std::mt19937_64 rng(spec.seed);
  ShopSources out;
  // The shop's database: customer accounts.
  fs::path db_path = dir / "data" / "shop.db";
  fs::create_directories(db_path.parent_path());
  fs::remove(db_path);
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    Fail(ErrorKind::kIo, "cannot create {}: {}", db_path.string(), message);
  }
  std::string sql =
      "BEGIN; CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, email TEXT NOT NULL, "
      "country TEXT, segment TEXT NOT NULL, created_at DATETIME NOT NULL, updated_at DATETIME "
      "NOT NULL);";
  for (int64_t i = 1; i <= spec.customers; ++i) {
    int day = 1 + static_cast<int>(rng() % 28);
    std::string at = fmt::format("2025-12-{:02} {:02}:{:02}:00", day, rng() % 24, rng() % 60);
    sql += fmt::format(
        "INSERT INTO customers VALUES ({}, 'customer{}@example.com', '{}', '{}', "
        "'{}', '{}');",
        i, i, countries[rng() % 7], segments[rng() % 5], at, at);
  }
  sql += "COMMIT;";
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  if (rc != SQLITE_OK) Fail(ErrorKind::kIo, "cannot write {}: {}", db_path.string(), message);
  out.customers = spec.customers;
  // The marketplace API's answers: pages of reviews, each linking to the next.
  const int64_t per_page = 100;
  const int64_t pages = (spec.reviews + per_page - 1) / per_page;
  for (int64_t p = 0; p < pages; ++p) {
    nlohmann::json data = nlohmann::json::array();
    for (int64_t i = p * per_page; i < std::min(spec.reviews, (p + 1) * per_page); ++i) {
      data.push_back(
          {{"review_id", i + 1},
           {"product", products[rng() % 10]},
           {"rating", 1 + static_cast<int>(rng() % 5)},
           {"title", titles[rng() % 5]},
           {"updated_at", fmt::format("2026-01-{:02}T{:02}:{:02}:00Z", 1 + i * 28 / spec.reviews,
                                      rng() % 24, rng() % 60)}});
    }
    nlohmann::json page = {{"data", data}};
    page["next"] =
        p + 1 < pages ? nlohmann::json(fmt::format("reviews-{}.json", p + 2)) : nlohmann::json();
    std::string name = p == 0 ? "reviews.json" : fmt::format("reviews-{}.json", p + 1);
    WriteFileAtomic(dir / "data" / "reviews" / name, page.dump(1) + "\n");
    ++out.review_pages;
  }
  out.reviews = spec.reviews;
  return out;
}

}  // namespace sluice::examples
