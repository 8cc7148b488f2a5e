#pragma once
// The retail example: a project that runs as is, and a generator of daily order files with the
// defects real partner files have.
#include <cstdint>
#include <string>

#include "common/files.h"

namespace sluice::examples {

// Writes the retail project files (sluice.yaml, sources/, jobs/, models/, workflows/) into `dir`.
void WriteRetailProject(const fs::path& dir);

struct OrderFilesSpec {
  int days = 3;
  int64_t rows_per_day = 2000;
  uint64_t seed = 42;
};

struct GeneratedFiles {
  int files = 0;
  int64_t rows = 0;
};

// Writes `days` files data/orders/date=YYYY-MM-DD/orders.csv under `dir`. Defects: malformed
// lines, amounts that are not numbers, negative amounts, orders re-sent the next day with a
// correction, missing countries; every row carries a customer e-mail.
GeneratedFiles GenerateOrders(const fs::path& dir, const OrderFilesSpec& spec);

struct ShopSourcesSpec {
  int64_t customers = 500;
  int64_t reviews = 200;
  uint64_t seed = 42;
};

struct ShopSources {
  int64_t customers = 0, reviews = 0, review_pages = 0;
};

// Writes what the example's extracted sources read in dev: data/shop.db, a SQLite database with
// a table `customers` (the `customers` source), and data/reviews/reviews.json,
// reviews-2.json, ...: the pages a REST API answers with, 100 reviews each, linking to the next
// (the `reviews` source, served by any static HTTP server). Same seed, same files.
ShopSources GenerateShopSources(const fs::path& dir, const ShopSourcesSpec& spec);

}  // namespace sluice::examples
