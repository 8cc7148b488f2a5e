// Landing keys a user types are untrusted: only keys under landing/<source>/ pass.
#include "catalog/landing.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace sluice::catalog {
namespace {

TEST(SourceOfKey, ReadsTheSourceOfALandingKey) {
  EXPECT_EQ(SourceOfKey("landing/orders/a.csv"), "orders");
  EXPECT_EQ(SourceOfKey("landing/orders/dt=2026-01-01/a..b.csv"), "orders");
}

TEST(SourceOfKey, RefusesWhatIsNoLandingKey) {
  for (const std::string key :
       {"orders/a.csv", "landing/orders/", "landing//a.csv", "landing/orders/../x/a.csv",
        "landing/orders/./a.csv", "landing/orders/a\n.csv", "/landing/orders/a.csv",
        "quarantine/landing/orders/run-3/a.csv", "staging/orders/a.parquet", ""}) {
    try {
      SourceOfKey(key);
      ADD_FAILURE() << key << " passed";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "landing.bad_key") << key;
      EXPECT_EQ(e.kind(), ErrorKind::kUsage) << key;
      EXPECT_EQ(std::string(e.what()).find("a\n.csv"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace sluice::catalog
