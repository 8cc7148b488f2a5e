#pragma once
// Sensitive-data (PII) detection, as in Glue's sensitive-data detection: which entity types a
// column holds, judged from its name, its DuckDB type and a sample of its values. Hand-written
// scanners, no regexes for the built-in types (the crawler runs this on every sampled value).
//
// Value-level rules (ClassifyValue; surrounding whitespace is ignored):
//   EMAIL         local@domain: local part of RFC 5322 atext characters and inner dots (<= 64);
//                 domain of >= 2 dot-separated labels of letters, digits and inner hyphens
//                 (<= 63 each), the last one (the TLD) >= 2 letters; <= 254 in all. So
//                 user@localhost (no dot in the domain) is not an e-mail.
//   PHONE_NUMBER  digits in groups separated by ' ', '-' or '.', with at most one group in
//                 parentheses ("(555) 123-4567", "+44 (0)20 7946 0958"), optionally followed by
//                 an extension of 1-5 digits after a space and x, ext or ext. ("555-123-4567
//                 x6280", "(555) 123-4567 ext. 12"; not "555-123-4567x12"):
//                 - "+CC...": E.164, 8-15 digits, the first not 0; separators optional; the
//                   country code may be parenthesised as a whole ("(+62) 812 3456 7890").
//                 - otherwise 2-6 groups of <= 8 digits, and either a trunk 0 and 10-12 digits
//                   ("020 7946 0958", "030 12345678", "030/12345678", "01 23 45 67 89"), or a
//                   trunk 0 and 9 digits after an area code of <= 4 digits, not shaped like an
//                   SSN (3-2-4) ("02 123 45 67", "03-123-4567", "0 2189 3688"; not the ZIP+4
//                   02134-1234), or 00 + a country code and 10-17 digits ("0044 20 7946 0958"),
//                   or North American: 3-3-4 or 1-3-3-4 with an area code starting 2-9
//                   ("555-123-4567", "1-800-555-0199"), or a parenthesised area code of 2-4
//                   digits first, 10-11 digits in all ("(11) 91234-5678", "(495) 123-45-67"), or
//                   after a trunk 8 or 1, 11 digits ("8 (495) 123-45-67"), or 8-9 digits in
//                   >= 4 groups, the first of 2-3 digits and the last two pairs ("12 34 56 78",
//                   "912 34 56 78", "12-345-67-89"). Other national numbers without a 0 (bare
//                   digits, Chinese and Indian mobiles, 3-3-3 and 4-4 groups, which are also
//                   amounts and codes) need the +CC form.
//                 - every group after the first >= 2 digits, except a parenthesised one and the
//                   one after a country code ("+33 1 23 45 67 89");
//                 - '.' only as the sole separator: with '+' in >= 3 groups, else North American
//                   or French (06.12.34.56.78) in shape; '/' once, after a 0-prefixed area code;
//                   not a MAC address.
//                 So plain integers, ISO dates and times, amounts, card numbers, IPv4 addresses,
//                 versions, order numbers like 2023-000123 and short local numbers ("555-1234")
//                 are not phone numbers, nor is a number with an extension glued on
//                 ("555-123-4567x12").
//   CREDIT_CARD   13-19 digits, optionally in groups separated by one kind of separator (' ' or
//                 '-'): groups of 4 with a last group of 1-4 (4-4-4-4, 4-4-4-4-3, 4-4-4-1, ...),
//                 or 4-6-4 / 4-6-5 (Diners, Amex); a known IIN prefix with a length the scheme
//                 issues (Visa 4: 13/16/19; Mastercard 51-55, 2221-2720: 16; Amex 34/37: 15;
//                 Discover 6011/644-649/65, JCB 3528-3589, UnionPay 62/8100-8171: 16-19; Diners
//                 300-305/36/38/39: 14-19; Maestro 50/56-58/6304/67: 13-19); and a valid Luhn
//                 check digit. So a 16-digit order number that fails Luhn or starts with 1, 7, 9,
//                 0 or 8 (but 8100-8171) is not a card; one that passes both cannot be told from
//                 a card and is reported.
//   IP_ADDRESS    IPv4: four dotted decimal octets 0-255 without leading zeros ("01" is not an
//                 octet). A version string with four such parts, e.g. 1.2.3.4, IS a valid IPv4
//                 address and is reported as one; 1.2.3, 1.2.3.4.5, v1.2.3.4, 1.02.3.4 and
//                 1.2.3.256 are not. IPv6: eight groups of 1-4 hex digits, or fewer with one
//                 "::"; optionally ending in a dotted IPv4 (::ffff:192.0.2.1, two groups) and a
//                 %zone (fe80::1%eth0). No CIDR suffixes or ports.
//   MAC_ADDRESS   six groups of two hex digits separated by one kind of separator, ':' or '-'.
//                 Twelve bare hex digits (001a2b3c4d5e) are not: they are as often hashes or ids.
//   USA_SSN       AAA-GG-SSSS (or with spaces) per the SSA rules: area not 000, 666 or 900-999,
//                 group not 00, serial not 0000; the two numbers the SSA voided after they were
//                 printed in advertising (078-05-1120, 219-09-9999) are not SSNs either. Nine bare
//                 digits count only in DetectEntities, when the column name says ssn.
//   IBAN          two-letter country code of the IBAN registry (or IR: Iran's national IBAN,
//                 outside the SWIFT registry), two check digits (02-98), an alphanumeric BBAN,
//                 the registry's length for that country, mod-97 == 1; spaces allowed (print
//                 format), letters in either case.
//   custom        the whole value matches the entity's ECMAScript regex.
//
// Column-level rules (DetectEntities):
//   - A value entity is reported when >= 80% of the non-empty sample values match it, or >= 50%
//     when the column name has context for it (email/mail; phone/tel/mobile/cell/fax;
//     card/cc/pan; ip/ipv4/ipv6; mac; ssn/social_security; iban/bank_account; the custom
//     entity's own context words). Confidence = matching fraction, times 0.9 without context.
//   - USA_SSN also counts nine bare digits (SSA-valid) when the column name says ssn, and in an
//     integer column 7-8 digits that lost their leading zeros.
//   - PERSON_NAME: the column name is a person-name one (first_name, lastname, FullName,
//     customer_name, surname, ...; not product_name, file_name, ...) and >= 80% of the values
//     are 1-5 capitalised words (letters, ', -, ., particles such as van/de, one comma as in
//     "Doe, Jane"), without digits. Confidence = fraction; a column called just "name" might
//     name anything, and gets 0.6 x fraction.
//   - DATE_OF_BIRTH: the column name says so (dob, birth_date, BirthDate, date_of_birth,
//     birthday, born_on, ...) and the type is DATE/TIMESTAMP, or >= 80% of the values are dates
//     (ISO, d/m/y, m/d/y, d.m.y, yyyymmdd, "5 Mar 1985", "March 5, 1985") with a year 1850-2100.
//     Confidence 1 for a date type, else the fraction.
// Results are sorted by confidence, highest first (ties by entity name).
#include <string>
#include <string_view>
#include <vector>

namespace sluice::quality {

// One entity type found in a column, with a confidence in [0, 1].
struct EntityMatch {
  std::string entity;
  double confidence = 0;
};

// A project-defined entity: values matching `regex` (ECMAScript, whole value); `context` words
// raise the confidence when they appear in the column name (matched word by word, so "emp_id"
// matches the context word "emp id" or "empid", and "paid" does not match "id").
struct CustomEntity {
  std::string name;
  std::string regex;
  std::vector<std::string> context;
};

// The built-in entity types, in a fixed order.
const std::vector<std::string>& EntityTypes();

// The entity types one value matches on its own (format + checksum; no column context):
// EMAIL, PHONE_NUMBER, CREDIT_CARD, IP_ADDRESS, MAC_ADDRESS, USA_SSN, IBAN, and custom ones.
// Throws Error(kConfig) when a custom entity's regex does not compile.
std::vector<std::string> ClassifyValue(std::string_view value,
                                       const std::vector<CustomEntity>& custom = {});

// Detects a column's entity types from its name, its DuckDB type (e.g. VARCHAR, DATE) and a
// sample of its non-null values; see the rules above. Sorted by confidence, highest first.
// Throws Error(kConfig) when a custom entity's regex does not compile.
std::vector<EntityMatch> DetectEntities(std::string_view column, std::string_view type,
                                        const std::vector<std::string>& sample,
                                        const std::vector<CustomEntity>& custom = {});

bool LuhnValid(std::string_view digits);  // digits only, at least 2 of them
bool IbanValid(std::string_view iban);    // spaces allowed; country length and mod-97 checked

// The single-type checks behind ClassifyValue, for callers that want one answer. The value must
// already be trimmed.
bool IsEmail(std::string_view value);
bool IsPhoneNumber(std::string_view value);
bool IsCreditCard(std::string_view value);
bool IsIpv4(std::string_view value);
bool IsIpv6(std::string_view value);
bool IsMacAddress(std::string_view value);
bool IsUsaSsn(std::string_view value);  // AAA-GG-SSSS or AAA GG SSSS
// Nine digits (or AAA-GG-SSSS) whose area, group and serial obey the SSA rules.
bool SsnNumberValid(std::string_view value);

}  // namespace sluice::quality
