#include "quality/pii.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"

namespace sluice::quality {
namespace {

std::filesystem::path DataDir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
         "tests/data/pii";
}

bool Has(const std::vector<std::string>& entities, const std::string& entity) {
  return std::find(entities.begin(), entities.end(), entity) != entities.end();
}

// The one entity a value is classified as, "" for none, "A+B" for several.
std::string Only(std::string_view value, const std::vector<CustomEntity>& custom = {}) {
  std::string out;
  for (const std::string& e : ClassifyValue(value, custom)) out += (out.empty() ? "" : "+") + e;
  return out;
}

TEST(Pii, EntityTypes) {
  EXPECT_EQ(EntityTypes().size(), 9u);
  EXPECT_EQ(EntityTypes().front(), "EMAIL");
  EXPECT_EQ(EntityTypes().back(), "DATE_OF_BIRTH");
}

TEST(Pii, Luhn) {
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_TRUE(LuhnValid("378282246310005"));
  EXPECT_TRUE(LuhnValid("00"));
  EXPECT_FALSE(LuhnValid("79927398710"));
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  EXPECT_FALSE(LuhnValid("4111 1111 1111 1111"));  // digits only
  EXPECT_FALSE(LuhnValid("0"));
  EXPECT_FALSE(LuhnValid(""));
}

TEST(Pii, CreditCards) {
  for (const char* v :
       {"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5555555555554444",
        "2223003122003222", "378282246310005", "3782 822463 10005", "6011111111111117",
        "3530111333300000", "30569309025904", "3056 930902 5904", "4222222222222",
        "4111 1111 1111 1111 003", "6200000000000005", "8100123456789017", "8171123456789011",
        "8100123456789012347"}) {
    EXPECT_EQ(Only(v), "CREDIT_CARD") << v;
  }
  EXPECT_FALSE(IsCreditCard("4111111111111112"));     // Luhn
  EXPECT_FALSE(IsCreditCard("1234567812345670"));     // Luhn-valid, no scheme starts with 1
  EXPECT_FALSE(IsCreditCard("9111111111111110"));     // nor with 9
  EXPECT_FALSE(IsCreditCard("8172123456789010"));     // UnionPay's 81 ends at 8171
  EXPECT_FALSE(IsCreditCard("341111111111111111"));   // Amex has 15 digits, not 18
  EXPECT_FALSE(IsCreditCard("4111 1111-1111 1111"));  // mixed separators
  EXPECT_FALSE(IsCreditCard("4111 11111111 1111"));   // not a card grouping
  EXPECT_FALSE(IsCreditCard("4111  1111 1111 1111"));
  EXPECT_FALSE(IsCreditCard("411111111111"));  // 12 digits
  EXPECT_FALSE(IsCreditCard("4111111111111111 "));
  EXPECT_EQ(Only(" 4111111111111111\t"), "CREDIT_CARD");  // ClassifyValue trims
}

TEST(Pii, Iban) {
  for (const char* v :
       {"DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432",
        "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606", "NL91ABNA0417164300",
        "ES9121000418450200051332", "BE68539007547034", "gb82west12345698765432",
        "CH9300762011623852957", "NO9386011117947", "IR157100720630053333140053"}) {
    EXPECT_TRUE(IbanValid(v)) << v;
    EXPECT_EQ(Only(v), "IBAN") << v;
  }
  EXPECT_FALSE(IbanValid("DE88370400440532013000"));       // check digits
  EXPECT_FALSE(IbanValid("DE89370400440532013001"));       // a typo
  EXPECT_FALSE(IbanValid("DE8937040044053201300"));        // DE has 22 characters
  EXPECT_FALSE(IbanValid("XX89370400440532013000"));       // no such country
  EXPECT_FALSE(IbanValid("DE89 37040044 0532 0130 00"));   // not the print format
  EXPECT_FALSE(IbanValid("DE89-3704-0044-0532-0130-00"));  // dashes
  EXPECT_FALSE(IbanValid("DE00370400440532013000"));       // 00 is never a check
  EXPECT_FALSE(IbanValid("D89370400440532013000"));
  EXPECT_FALSE(IbanValid(""));
}

TEST(Pii, UsaSsn) {
  for (const char* v :
       {"536-22-1234", "001-01-0001", "899-99-9999", "665-12-3456", "536 22 1234"}) {
    EXPECT_EQ(Only(v), "USA_SSN") << v;
  }
  for (const char* v : {"000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456", "536-00-1234",
                        "536-22-0000", "078-05-1120", "219-09-9999", "536-22 1234", "5362-2-1234",
                        "53-622-1234", "536-22-12345"}) {
    EXPECT_FALSE(IsUsaSsn(v)) << v;
  }
  // Nine bare digits are no SSN on their own, but valid ones count in an ssn column.
  EXPECT_EQ(Only("536221234"), "");
  EXPECT_TRUE(SsnNumberValid("536221234"));
  EXPECT_FALSE(SsnNumberValid("666221234"));
  auto found = DetectEntities("ssn", "VARCHAR", {"536221234", "123456789", "001010001"});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].entity, "USA_SSN");
  EXPECT_DOUBLE_EQ(found[0].confidence, 1.0);
  EXPECT_TRUE(DetectEntities("employee_number", "VARCHAR", {"536221234", "123456789"}).empty());
  // An integer column lost the leading zeros.
  found = DetectEntities("customer_ssn", "BIGINT", {"1010001", "78051121", "536221234"});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].entity, "USA_SSN");
}

TEST(Pii, Ipv4) {
  for (const char* v : {"0.0.0.0", "255.255.255.255", "192.168.1.1", "10.0.0.254",
                        "1.2.3.4"}) {  // a 4-part version string is a valid address
    EXPECT_EQ(Only(v), "IP_ADDRESS") << v;
  }
  for (const char* v : {"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..2.3",
                        "1.2.3.", ".1.2.3", "a.b.c.d", "v1.2.3.4", "1.2.3.4-rc1", "1.2.3.1000",
                        "192.168.1.1:8080", "192.168.1.1/24", "1,2,3,4"}) {
    EXPECT_EQ(Only(v), "") << v;
  }
}

TEST(Pii, Ipv6) {
  for (const char* v :
       {"::", "::1", "1::", "2001:db8::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "2001:db8:85a3::8a2e:370:7334", "FE80::0202:B3FF:FE1E:8329", "fe80::1%eth0",
        "::ffff:192.0.2.128", "64:ff9b::192.0.2.33", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:1.2.3.4"}) {
    EXPECT_TRUE(IsIpv6(v)) << v;
    EXPECT_EQ(Only(v), "IP_ADDRESS") << v;
  }
  for (const char* v :
       {"1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "2001:db8::1::1", ":::1", "1:::2", "12345::", "g::1",
        ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "1:2:3:4:5:6:7::8", "::ffff:999.0.0.1", "::1.2.3.4:5",
        "fe80::1%", "12:34:56", "2001:db8::1/64"}) {
    EXPECT_FALSE(IsIpv6(v)) << v;
  }
}

TEST(Pii, MacAddress) {
  for (const char* v :
       {"00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "ff:ff:ff:ff:ff:ff", "00-00-00-00-00-00"}) {
    EXPECT_EQ(Only(v), "MAC_ADDRESS") << v;
  }
  for (const char* v : {"00:1A-2B:3C:4D:5E", "001A2B3C4D5E", "00:1A:2B:3C:4D", "0G:1A:2B:3C:4D:5E",
                        "00:1A:2B:3C:4D:5E:6F", "0:1A:2B:3C:4D:5E", "001A.2B3C.4D5E"}) {
    EXPECT_EQ(Only(v), "") << v;
  }
}

TEST(Pii, Email) {
  for (const char* v : {"a@b.co", "first.last+tag@sub.example.co.uk", "O'Brien@example.ie",
                        "USER_1@EXAMPLE.COM", "x@xn--80ak6aa92e.xn--p1ai", "a-b@my-host.dev"}) {
    EXPECT_EQ(Only(v), "EMAIL") << v;
  }
  for (const char* v :
       {"user@localhost", "user@example", ".user@example.com", "user.@example.com",
        "us..er@example.com", "user@-example.com", "user@example-.com", "user@example.c",
        "user@@example.com", "user@exa_mple.com", "@example.com", "user@", "us er@example.com",
        "user@example..com", "user@.example.com", "user@example.com.", "user@example.123"}) {
    EXPECT_EQ(Only(v), "") << v;
  }
}

TEST(Pii, PhoneNumbers) {
  for (const char* v :
       {"(555) 123-4567",    "(555)123-4567",     "555-123-4567",        "555.123.4567",
        "555 123 4567",      "+1 555 123 4567",   "+1 (555) 123-4567",   "1-800-555-0199",
        "+14155552671",      "+44 20 7946 0958",  "+44 (0)20 7946 0958", "+49(0)3012345678",
        "020 7946 0958",     "030 12345678",      "030/12345678",        "+49 151 12345678",
        "01 23 45 67 89",    "+33 1 23 45 67 89", "06.12.34.56.78",      "+31 20 123 4567",
        "0044 20 7946 0958", "+61 2 9876 5432",   "0412 345 678",        "+1.555.123.4567"}) {
    EXPECT_EQ(Only(v), "PHONE_NUMBER") << v;
  }
  // Extensions; a parenthesised country or area code; 9 digits after a trunk 0; 8-9 digits
  // ending in two pairs.
  for (const char* v :
       {"555-123-4567 x6280", "(555) 123-4567 ext. 12", "1-800-555-0199 X 7", "(+62) 812 3456 7890",
        "(11) 91234-5678", "(495) 123-45-67", "8 (495) 123-45-67", "02 123 45 67", "03-123-4567",
        "0 2189 3688", "12 34 56 78", "912 34 56 78", "12-345-67-89"}) {
    EXPECT_EQ(Only(v), "PHONE_NUMBER") << v;
  }
  for (const char* v : {"5551234567",
                        "1234567890",
                        "555-1234",
                        "911",
                        "+123",
                        "+44 20",
                        "2023-04-05",
                        "2023-04-05 12:34:56",
                        "20230405",
                        "05/04/2023",
                        "12345678.90",
                        "1,234,567.89",
                        "1 234 567 890",
                        "12 345 678 901",
                        "-555-123-4567",
                        "555--123-4567",
                        "(555 123-4567",
                        "555) 123-4567",
                        "(555) (123) 4567",
                        "555-123-4567 ",
                        "192.168.100.200",
                        "+0 555 123 4567",
                        "+1 555 123 4567 8901 23",
                        "123-45-6789",
                        "12345-6789",
                        "978-3-16-148410-0",
                        "555-123-4567x12",
                        "1.234.567.890",
                        "20.16.20.3471",
                        "12.34.56.78.90",
                        "2023-000123",
                        "1234-5678-90",
                        "000123-4567",
                        "2023-0001-2345",
                        "123-456-7890",
                        "00-11-22-33-44-55",
                        "555-123-4567 x123456",
                        "555-123-4567 y12",
                        "ext. 1234",
                        "1234 x12",
                        "(+62)",
                        "(+62 812 3456 7890",
                        "(+6212) 812 3456",
                        "(555) 123-4567 (+1)",
                        "(1) 2345-6789",
                        "012-34-5678",
                        "02134-1234",
                        "12 34 56",
                        "1234 5678",
                        "934 365 107",
                        "12.34.56.78"}) {
    EXPECT_FALSE(IsPhoneNumber(v)) << v;
  }
}

TEST(Pii, CustomEntitiesAndContext) {
  std::vector<CustomEntity> custom = {{"EMPLOYEE_ID", R"(E-\d{6})", {"employee id", "emp"}}};
  EXPECT_EQ(Only("E-123456", custom), "EMPLOYEE_ID");
  EXPECT_EQ(Only("E-12345", custom), "");
  EXPECT_EQ(Only("xE-123456", custom), "");  // whole value
  std::vector<std::string> sample = {"E-000001", "E-000002", "E-000003", "n/a", "?"};
  // 60%: enough with context in the column name, not without.
  for (const char* column : {"emp_id", "EmployeeId", "employee id", "EMP"}) {
    auto found = DetectEntities(column, "VARCHAR", sample, custom);
    ASSERT_EQ(found.size(), 1u) << column;
    EXPECT_EQ(found[0].entity, "EMPLOYEE_ID");
    EXPECT_DOUBLE_EQ(found[0].confidence, 0.6);
  }
  EXPECT_TRUE(DetectEntities("code", "VARCHAR", sample, custom).empty());
  EXPECT_TRUE(DetectEntities("temp_id", "VARCHAR", sample, custom).empty());  // not "emp"
  // All matching: reported either way, with less confidence without context.
  sample.resize(3);
  auto found = DetectEntities("code", "VARCHAR", sample, custom);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_DOUBLE_EQ(found[0].confidence, 0.9);
  // Built-in context works the same way: "paid" is not "ip".
  std::vector<std::string> ips = {"10.0.0.1", "10.0.0.2", "unknown"};
  EXPECT_EQ(DetectEntities("client_ip", "VARCHAR", ips).size(), 1u);
  EXPECT_EQ(DetectEntities("ipAddress", "VARCHAR", ips).size(), 1u);
  EXPECT_TRUE(DetectEntities("paid", "VARCHAR", ips).empty());
  // An invalid regex is a configuration error.
  std::vector<CustomEntity> bad = {{"BAD", "(", {}}};
  EXPECT_THROW(ClassifyValue("x", bad), Error);
}

TEST(Pii, SortsByConfidence) {
  std::vector<CustomEntity> custom = {{"DIGITS", "[0-9-]+", {}}};
  auto found = DetectEntities("ssn", "VARCHAR", {"536-22-1234", "001-01-0001"}, custom);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].entity, "USA_SSN");
  EXPECT_DOUBLE_EQ(found[0].confidence, 1.0);
  EXPECT_EQ(found[1].entity, "DIGITS");
  EXPECT_DOUBLE_EQ(found[1].confidence, 0.9);
  EXPECT_TRUE(DetectEntities("ssn", "VARCHAR", {}).empty());
  EXPECT_TRUE(DetectEntities("ssn", "VARCHAR", {"", "  "}).empty());
}

// ---- the labelled set ----------------------------------------------------------------------

// One CSV record per line (the set has no line breaks inside values); "" escapes a quote.
std::vector<std::string> CsvFields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

// Per-entity counts of ClassifyValue on one labelled set.
struct EntityCounts {
  size_t positives = 0, tp = 0, fp = 0, fn = 0;
  std::vector<std::string> examples;  // a few mistakes, to print
  double Precision() const { return tp + fp ? static_cast<double>(tp) / (tp + fp) : 1.0; }
  double Recall() const { return positives ? static_cast<double>(tp) / positives : 1.0; }
};

struct SetCounts {
  size_t rows = 0, negatives = 0;
  std::map<std::string, EntityCounts> entities;
};

const std::vector<std::string>& ValueEntities() {
  static const std::vector<std::string> kEntities = {
      "EMAIL", "PHONE_NUMBER", "CREDIT_CARD", "IP_ADDRESS", "MAC_ADDRESS", "USA_SSN", "IBAN"};
  return kEntities;
}

// Classifies every value of a `value,label` CSV under tests/data/pii (label: a value entity or
// NONE) and prints precision and recall per entity, with a few mistakes; "-" where there is
// nothing to measure.
void MeasureLabelledSet(const std::string& name, SetCounts* set) {
  const std::filesystem::path path = DataDir() / name;
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line, "value,label") << path;
  while (std::getline(in, line)) {
    auto fields = CsvFields(line);
    ASSERT_EQ(fields.size(), 2u) << line;
    const std::string& value = fields[0];
    const std::string& label = fields[1];
    ++set->rows;
    set->negatives += label == "NONE";
    ASSERT_TRUE(label == "NONE" || Has(ValueEntities(), label)) << label;
    auto found = ClassifyValue(value);
    for (const std::string& entity : ValueEntities()) {
      EntityCounts& c = set->entities[entity];
      bool predicted = Has(found, entity), actual = label == entity;
      c.positives += actual;
      c.tp += predicted && actual;
      c.fp += predicted && !actual;
      c.fn += !predicted && actual;
      if (predicted != actual && c.examples.size() < 5) {
        c.examples.push_back((predicted ? "fp: " : "fn: ") + value + " (" + label + ")");
      }
    }
  }
  auto ratio = [](double r, bool defined) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%.4f", r);
    return defined ? std::string(buf) : std::string("-");
  };
  std::printf("\ntests/data/pii/%s\n%-14s %9s %6s %6s %6s %9s %9s\n", name.c_str(), "entity",
              "positives", "tp", "fp", "fn", "precision", "recall");
  for (const std::string& entity : ValueEntities()) {
    const EntityCounts& c = set->entities[entity];
    std::printf("%-14s %9zu %6zu %6zu %6zu %9s %9s\n", entity.c_str(), c.positives, c.tp, c.fp,
                c.fn, ratio(c.Precision(), c.tp + c.fp > 0).c_str(),
                ratio(c.Recall(), c.positives > 0).c_str());
    for (const std::string& example : c.examples) std::printf("    %s\n", example.c_str());
  }
  std::printf("%zu rows, %zu hard negatives\n", set->rows, set->negatives);
}

// The set generated with the detectors (tests/data/pii/generate.py).
TEST(Pii, LabelledSetPrecisionAndRecall) {
  SetCounts set;
  ASSERT_NO_FATAL_FAILURE(MeasureLabelledSet("labelled.csv", &set));
  EXPECT_GE(set.rows, 5000u);
  EXPECT_GE(set.negatives, 2000u);
  for (const std::string& entity : ValueEntities()) {
    const EntityCounts& c = set.entities[entity];
    EXPECT_GE(c.positives, 300u) << entity;
    EXPECT_GE(c.Precision(), 0.95) << entity;
    EXPECT_GE(c.Recall(), 0.95) << entity;
  }
}

// An independent set: values from a third-party generator, @faker-js/faker, in 54 locales
// (tests/data/pii/faker/generate.mjs says how it was made).
TEST(Pii, FakerSetPrecisionAndRecall) {
  SetCounts set;
  ASSERT_NO_FATAL_FAILURE(MeasureLabelledSet("faker/labelled.csv", &set));
  EXPECT_GE(set.rows, 7000u);
  EXPECT_GE(set.negatives, 3000u);
  // The entities with a fixed format or a checksum.
  for (const char* entity : {"EMAIL", "CREDIT_CARD", "IP_ADDRESS", "MAC_ADDRESS", "IBAN"}) {
    const EntityCounts& c = set.entities[entity];
    EXPECT_GE(c.positives, 500u) << entity;
    EXPECT_GE(c.Precision(), 0.95) << entity;
    EXPECT_GE(c.Recall(), 0.95) << entity;
  }
  // Faker has no SSN generator, so there are no positives; none of its values is taken for one.
  EXPECT_EQ(set.entities["USA_SSN"].positives, 0u);
  EXPECT_EQ(set.entities["USA_SSN"].fp, 0u);
  // Phone numbers have no fixed format. Faker prints many national numbers as bare digits
  // ("4317679560", Chinese mobiles "13680797271") or as 3-3-3 / 4-4 groups ("934 365 107",
  // "9343 5151"), which the detector deliberately does not take for phone numbers without a
  // leading 0 or + (they are order numbers, amounts with space separators, codes). So precision
  // is held to the target, and recall (about 0.81 here) only to a floor against regressions.
  const EntityCounts& phone = set.entities["PHONE_NUMBER"];
  EXPECT_GE(phone.positives, 500u);
  EXPECT_GE(phone.Precision(), 0.95);
  EXPECT_GE(phone.Recall(), 0.80);
}

// ---- the column-level set -----------------------------------------------------------------

TEST(Pii, ColumnLevelSet) {
  std::ifstream in(DataDir() / "columns.json");
  ASSERT_TRUE(in) << DataDir() / "columns.json";
  auto cases = nlohmann::json::parse(in);
  ASSERT_GE(cases.size(), 30u);
  std::set<std::string> seen;
  for (const auto& c : cases) {
    std::string column = c.at("column"), type = c.at("type");
    auto sample = c.at("sample").get<std::vector<std::string>>();
    auto expected = c.at("expected").get<std::vector<std::string>>();
    auto found = DetectEntities(column, type, sample);
    std::vector<std::string> got;
    for (size_t i = 0; i < found.size(); ++i) {
      got.push_back(found[i].entity);
      EXPECT_GT(found[i].confidence, 0) << column;
      EXPECT_LE(found[i].confidence, 1) << column;
      if (i > 0) {
        EXPECT_GE(found[i - 1].confidence, found[i].confidence) << column;
      }
    }
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(got, expected) << column << " " << type << " " << c.at("sample").dump();
    for (const auto& e : expected) seen.insert(e);
  }
  EXPECT_TRUE(seen.count("PERSON_NAME"));
  EXPECT_TRUE(seen.count("DATE_OF_BIRTH"));
}

TEST(Pii, PersonNamesAndBirthDates) {
  std::vector<std::string> names = {"Anna Schmidt", "Jean-Luc Picard", "Seán O'Brien",
                                    "Ludwig van Beethoven", "Doe, Jane"};
  auto found = DetectEntities("customer_name", "VARCHAR", names);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].entity, "PERSON_NAME");
  EXPECT_DOUBLE_EQ(found[0].confidence, 1.0);
  // A bare "name" column might hold anything's names: reported, with less confidence.
  found = DetectEntities("name", "VARCHAR", names);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_LT(found[0].confidence, 0.7);
  EXPECT_TRUE(DetectEntities("product_name", "VARCHAR", names).empty());
  EXPECT_TRUE(DetectEntities("first_name", "VARCHAR", {"anna", "bob42", "x"}).empty());
  EXPECT_TRUE(DetectEntities("first_name", "VARCHAR", {}).empty());

  EXPECT_EQ(DetectEntities("dob", "DATE", {}).at(0).entity, "DATE_OF_BIRTH");
  EXPECT_EQ(DetectEntities("date_of_birth", "TIMESTAMP WITH TIME ZONE", {}).size(), 1u);
  for (const char* v :
       {"1985-03-05", "1985-03-05T00:00:00Z", "05/03/1985", "3/5/1985", "05.03.1985", "19850305",
        "5 Mar 1985", "March 5, 1985", "05-Mar-1985", "Mar. 5th, 1985"}) {
    auto got = DetectEntities("birthDate", "VARCHAR", {v});
    ASSERT_EQ(got.size(), 1u) << v;
    EXPECT_EQ(got[0].entity, "DATE_OF_BIRTH") << v;
  }
  for (const char* v : {"1985-13-05", "1985-02-30", "32/01/1985", "1985", "Mars 5, 1985",
                        "0000-01-01", "yesterday", "5 Mar"}) {
    EXPECT_TRUE(DetectEntities("birth_date", "VARCHAR", {v}).empty()) << v;
  }
  EXPECT_TRUE(DetectEntities("created_date", "DATE", {"1985-03-05"}).empty());
  EXPECT_TRUE(DetectEntities("birth_place", "VARCHAR", {"Berlin"}).empty());
}

}  // namespace
}  // namespace sluice::quality
