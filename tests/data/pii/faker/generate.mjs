// Generates labelled.csv here: an INDEPENDENT labelled PII sample set for
// src/quality/pii_test.cc (Pii.FakerSetPrecisionAndRecall). The values come from a third-party
// generator, @faker-js/faker, not from code written together with the detectors
// (tests/data/pii/generate.py is that, and measures the detectors only on shapes its author
// thought of).
//
//   mkdir -p /tmp/fakerset && cd /tmp/fakerset && npm install @faker-js/faker@10.6.0
//   cd /tmp/fakerset && node /work/main/tests/data/pii/faker/generate.mjs
//   node .../generate.mjs --annotate > /tmp/annotated.csv   # value,label,source (locale/function)
//
// @faker-js/faker is resolved from the CURRENT directory (so the repository needs no
// node_modules); the version is pinned to 10.6.0 (Node >= 20.19) and checked, since another
// version draws other values. Seed 7812 (ISO/IEC 7812); every locale's faker instance is seeded
// with SEED + its index, and the reference date is fixed, so the output is reproducible.
//
// labelled.csv: `value,label`; label one of EMAIL, PHONE_NUMBER, CREDIT_CARD, IP_ADDRESS,
// MAC_ADDRESS, IBAN or NONE. The set is generated, not tuned to the detector:
//   - Positives are faker's own output: internet.email / exampleEmail (also with special
//     characters), phone.number in the human, national and international styles of every locale
//     below, finance.creditCardNumber for each issuer faker knows (visa, mastercard,
//     american_express, discover, diners_club, jcb, and zh_CN's unionpay), as faker prints them
//     and also with the dashes turned into spaces or removed (how card numbers are stored),
//     internet.ipv4 / ipv6, internet.mac with ':' and '-', finance.iban for every country faker
//     knows, unformatted and in print format.
//   - Left out: USA_SSN, since faker has no SSN generator (and inventing one would not be
//     independent); faker's internet.mac({separator: ''}) (a bare 12-hex-digit string is a MAC
//     only by column context, as bare 9-digit SSNs are); faker's labels are otherwise taken as
//     they come, including its odd phone numbers.
//   - NONE rows are hard negatives, from faker where it has a generator: account and routing
//     numbers, 13-19 digit numbers (string.numeric, bare or in groups of four) that fail Luhn,
//     faker card numbers and IBANs with one digit changed so the check fails (verified here),
//     IMEIs (Luhn-valid 15 digits: see below), ISBNs, UPCs, VINs, dates and timestamps, semver
//     versions, amounts and prices, zip codes, building numbers and street addresses, latitude
//     and longitude, UUIDs, ULIDs, nanoids, git SHAs, BICs, crypto addresses, CVVs and PINs,
//     URLs, domain names, user names, passwords, user agents, words, names, flight numbers, ...
//   - IMEI: an IMEI is not a card number, but it is a Luhn-valid 15-digit number, so one whose
//     digits start like a scheme that issues 15-digit cards (Amex 34/37, Diners 300-305/36/38/39,
//     Maestro 50/56-69) cannot be told from a card by any detector; those are skipped (counted
//     on stderr), the rest are NONE, as faker prints them (dashed) and as bare digits.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const FAKER_VERSION = '10.6.0';
const SEED = 7812;
const REF_DATE = '2025-01-01T00:00:00.000Z';
const HERE = path.dirname(fileURLToPath(import.meta.url));

const require = createRequire(path.join(process.cwd(), 'noop.js'));
let fakerEntry;
try {
  fakerEntry = require.resolve('@faker-js/faker');
} catch {
  console.error(`@faker-js/faker not found from ${process.cwd()}; see the header for how to run`);
  process.exit(1);
}
const version = require('@faker-js/faker/package.json').version;
if (version !== FAKER_VERSION) {
  console.error(`@faker-js/faker ${version} found, ${FAKER_VERSION} needed (other draws)`);
  process.exit(1);
}
const { allFakers } = await import(pathToFileURL(fakerEntry).href);

// Locales, in a fixed order (their index offsets the seed).
const LOCALES = [
  'en_US', 'en_CA', 'en_GB', 'en_IE', 'en_AU', 'en_IN', 'en_ZA', 'en_NG', 'en_GH', 'en_HK',
  'de', 'de_AT', 'de_CH', 'fr', 'fr_BE', 'fr_CH', 'fr_CA', 'es', 'es_MX', 'it', 'nl', 'nl_BE',
  'pt_BR', 'pt_PT', 'sv', 'nb_NO', 'da', 'fi', 'pl', 'cs_CZ', 'sk', 'hu', 'ro', 'hr', 'sl_SI',
  'lv', 'el', 'tr', 'ru', 'uk', 'he', 'ar', 'fa', 'ja', 'ko', 'zh_CN', 'zh_TW', 'vi', 'th',
  'id_ID', 'ka_GE', 'az', 'af_ZA', 'zu_ZA',
];
const fakers = LOCALES.map((loc, i) => {
  const f = allFakers[loc];
  if (!f) throw new Error(`faker has no locale ${loc}`);
  f.seed(SEED + i);
  f.setDefaultRefDate(REF_DATE);
  return { loc, f };
});
const base = fakers[0].f;  // en_US: the draws that are not locale-specific
const pick = () => base.helpers.arrayElement(fakers);

// ---- checks that decide labels ------------------------------------------------------------

function luhnOk(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; ++i) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// Issuer prefixes and the lengths they issue (public scheme tables; ISO/IEC 7812 IINs).
const SCHEMES = [
  { lo: 4, hi: 4, lengths: [13, 16, 19] },                          // Visa
  { lo: 51, hi: 55, lengths: [16] },                                // Mastercard
  { lo: 2221, hi: 2720, lengths: [16] },                            // Mastercard 2-series
  { lo: 34, hi: 34, lengths: [15] }, { lo: 37, hi: 37, lengths: [15] },  // Amex
  { lo: 6011, hi: 6011, lengths: [16, 17, 18, 19] },                // Discover
  { lo: 644, hi: 649, lengths: [16, 17, 18, 19] },
  { lo: 65, hi: 65, lengths: [16, 17, 18, 19] },
  { lo: 3528, hi: 3589, lengths: [16, 17, 18, 19] },                // JCB
  { lo: 62, hi: 62, lengths: [16, 17, 18, 19] },                    // UnionPay
  { lo: 8100, hi: 8171, lengths: [16, 17, 18, 19] },                // UnionPay
  { lo: 300, hi: 305, lengths: [14, 15, 16, 17, 18, 19] },          // Diners Club
  { lo: 36, hi: 36, lengths: [14, 15, 16, 17, 18, 19] },
  { lo: 38, hi: 39, lengths: [14, 15, 16, 17, 18, 19] },
  { lo: 50, hi: 50, lengths: [12, 13, 14, 15, 16, 17, 18, 19] },    // Maestro
  { lo: 56, hi: 69, lengths: [12, 13, 14, 15, 16, 17, 18, 19] },
];

// Whether bare digits could be a card number: a scheme's prefix and length, and Luhn.
function plausibleCard(digits) {
  if (!luhnOk(digits)) return false;
  return SCHEMES.some((s) => {
    const n = String(s.lo).length;
    const prefix = Number(digits.slice(0, n));
    return prefix >= s.lo && prefix <= s.hi && s.lengths.includes(digits.length);
  });
}

function ibanOk(iban) {
  const s = iban.replace(/ /g, '').toUpperCase();
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const c of moved) {
    const v = c >= 'A' && c <= 'Z' ? String(c.charCodeAt(0) - 55) : c;
    for (const d of v) rem = (rem * 10 + Number(d)) % 97;
  }
  return rem === 1;
}

// One digit of `value` (at a random digit position) changed to another digit.
function changeOneDigit(value, f) {
  const positions = [...value].map((c, i) => (c >= '0' && c <= '9' ? i : -1)).filter((i) => i >= 0);
  const i = f.helpers.arrayElement(positions);
  const old = Number(value[i]);
  const d = (old + f.number.int({ min: 1, max: 9 })) % 10;
  return value.slice(0, i) + String(d) + value.slice(i + 1);
}

// ---- output -------------------------------------------------------------------------------

const rows = [];  // [value, label, source]
function add(value, label, source) {
  value = String(value);
  if (/[\r\n]/.test(value)) throw new Error(`line break in ${source}: ${JSON.stringify(value)}`);
  if (value.trim() === '') return;
  rows.push([value, label, source]);
}

// ---- positives ----------------------------------------------------------------------------

// EMAIL: 650.
for (let i = 0; i < 650; ++i) {
  const { loc, f } = pick();
  switch (i % 4) {
    case 0:
    case 1:
      add(f.internet.email(), 'EMAIL', `${loc}/internet.email`);
      break;
    case 2:
      add(f.internet.exampleEmail(), 'EMAIL', `${loc}/internet.exampleEmail`);
      break;
    default:
      add(f.internet.email({ allowSpecialCharacters: true }), 'EMAIL',
          `${loc}/internet.email(special)`);
  }
}

// PHONE_NUMBER: every locale, every style, 5 each (54 x 3 x 5 = 810).
for (const { loc, f } of fakers) {
  for (const style of ['human', 'national', 'international']) {
    for (let i = 0; i < 5; ++i) add(f.phone.number({ style }), 'PHONE_NUMBER', `${loc}/${style}`);
  }
}

// CREDIT_CARD: 630, each issuer equally; a third as faker prints them, a third with spaces, a
// third bare.
const issuers = [
  ['en_US', 'visa'], ['en_US', 'mastercard'], ['en_US', 'american_express'],
  ['en_US', 'discover'], ['en_US', 'diners_club'], ['en_US', 'jcb'], ['zh_CN', 'unionpay'],
];
for (let i = 0; i < 630; ++i) {
  const [loc, issuer] = issuers[i % issuers.length];
  const f = fakers[LOCALES.indexOf(loc)].f;
  const card = f.finance.creditCardNumber(issuer);
  const form = Math.floor(i / issuers.length) % 3;
  const value = form === 0 ? card : form === 1 ? card.replace(/-/g, ' ') : card.replace(/-/g, '');
  add(value, 'CREDIT_CARD', `${loc}/creditCardNumber(${issuer})`);
}

// IP_ADDRESS: 650, v4 and v6 alternately, v4 from every network faker offers.
const networks = ['any', 'any', 'private-a', 'private-b', 'private-c', 'loopback', 'link-local',
                  'multicast', 'test-net-1', 'test-net-2', 'test-net-3'];
for (let i = 0; i < 650; ++i) {
  const f = base;
  if (i % 2) {
    add(f.internet.ipv6(), 'IP_ADDRESS', 'internet.ipv6');
  } else {
    const network = networks[(i / 2) % networks.length];
    add(f.internet.ipv4({ network }), 'IP_ADDRESS', `internet.ipv4(${network})`);
  }
}

// MAC_ADDRESS: 600, ':' and '-'.
for (let i = 0; i < 600; ++i) {
  const separator = i % 2 ? '-' : ':';
  add(base.internet.mac({ separator }), 'MAC_ADDRESS', `internet.mac('${separator}')`);
}

// IBAN: 700, every country faker knows (round robin over a random order), half formatted.
const ibanCountries = (() => {
  const seen = new Set();
  for (let i = 0; i < 5000; ++i) seen.add(base.finance.iban().slice(0, 2));
  return [...seen].sort();
})();
for (let i = 0; i < 700; ++i) {
  const countryCode = ibanCountries[i % ibanCountries.length];
  const formatted = Math.floor(i / ibanCountries.length) % 2 === 1;
  add(base.finance.iban({ countryCode, formatted }), 'IBAN',
      `finance.iban(${countryCode}${formatted ? ', formatted' : ''})`);
}

// ---- hard negatives -----------------------------------------------------------------------

const skipped = { imei: 0 };
const pad = (n, w = 2) => String(n).padStart(w, '0');
function dateForms(d) {
  const y = d.getUTCFullYear(), m = pad(d.getUTCMonth() + 1), day = pad(d.getUTCDate());
  const hh = pad(d.getUTCHours()), mm = pad(d.getUTCMinutes()), ss = pad(d.getUTCSeconds());
  return [
    d.toISOString(), `${y}-${m}-${day}`, `${y}-${m}-${day} ${hh}:${mm}:${ss}`, `${day}/${m}/${y}`,
    `${m}/${day}/${y}`, `${day}.${m}.${y}`, `${y}/${m}/${day}`, `${y}${m}${day}`, `${hh}:${mm}:${ss}`,
    String(Math.floor(d.getTime() / 1000)), String(d.getTime()),
  ];
}

const negatives = [
  // Bank and card look-alikes.
  ['finance.accountNumber', (f) => f.finance.accountNumber(f.helpers.arrayElement([8, 10, 12]))],
  ['finance.routingNumber', (f) => f.finance.routingNumber()],
  ['finance.creditCardCVV', (f) => f.finance.creditCardCVV()],
  ['finance.pin', (f) => f.finance.pin(f.helpers.arrayElement([4, 6]))],
  ['finance.bic', (f) => f.finance.bic({ includeBranchCode: f.datatype.boolean() })],
  ['finance.bitcoinAddress', (f) => f.finance.bitcoinAddress()],
  ['finance.litecoinAddress', (f) => f.finance.litecoinAddress()],
  ['finance.ethereumAddress', (f) => f.finance.ethereumAddress()],
  ['finance.amount', (f) => f.finance.amount({ min: 0, max: 1e7, dec: 2 })],
  ['finance.amount(symbol)', (f) => f.finance.amount({ symbol: f.finance.currencySymbol() })],
  ['commerce.price', (f) => f.commerce.price({ max: 100000 })],
  ['finance.currencyCode', (f) => f.finance.currencyCode()],
  ['finance.transactionDescription', (f) => f.finance.transactionDescription()],
  ['string.numeric(13-19, fails Luhn)', (f) => {
    const len = f.number.int({ min: 13, max: 19 });
    const v = f.string.numeric({ length: len, allowLeadingZeros: false });
    if (luhnOk(v)) return null;
    return v;
  }],
  ['string.numeric(16, grouped, fails Luhn)', (f) => {
    const v = f.string.numeric({ length: 16, allowLeadingZeros: false });
    if (luhnOk(v)) return null;
    return v.match(/.{4}/g).join(f.helpers.arrayElement([' ', '-']));
  }],
  ['creditCardNumber with a changed digit', (f) => {
    const issuer = f.helpers.arrayElement(
        ['visa', 'mastercard', 'american_express', 'discover', 'diners_club', 'jcb']);
    const v = changeOneDigit(f.finance.creditCardNumber(issuer), f);
    if (luhnOk(v.replace(/\D/g, ''))) return null;
    return f.datatype.boolean() ? v : v.replace(/-/g, '');
  }],
  ['iban with a changed digit', (f) => {
    const v = changeOneDigit(f.finance.iban({ formatted: f.datatype.boolean() }), f);
    if (ibanOk(v)) return null;
    return v;
  }],
  ['phone.imei', (f) => {
    const v = f.phone.imei();
    const digits = v.replace(/\D/g, '');
    if (plausibleCard(digits)) {
      ++skipped.imei;
      return null;
    }
    return f.datatype.boolean() ? v : digits;
  }],
  ['commerce.isbn', (f) => f.commerce.isbn({
    variant: f.helpers.arrayElement([10, 13]), separator: f.helpers.arrayElement(['-', '', ' ']) })],
  ['commerce.upc', (f) => f.commerce.upc()],
  ['vehicle.vin', (f) => f.vehicle.vin()],
  ['vehicle.vrm', (f) => f.vehicle.vrm()],
  ['airline.flightNumber', (f) => f.airline.flightNumber({ addLeadingZeros: true })],
  ['airline.recordLocator', (f) => f.airline.recordLocator()],
  ['airline.seat', (f) => f.airline.seat()],
  // Dates, times, numbers, versions.
  ['date (various forms)', (f) => f.helpers.arrayElement(dateForms(f.date.anytime()))],
  ['date.birthdate', (f) => f.date.birthdate().toISOString().slice(0, 10)],
  ['system.semver', (f) => f.system.semver()],
  ['system.semver (v-prefixed)', (f) => `v${f.system.semver()}`],
  ['number.int', (f) => String(f.number.int({ max: 1e12 }))],
  ['number.float', (f) => String(f.number.float({ min: -1e6, max: 1e6, fractionDigits: 3 }))],
  ['number.hex', (f) => f.number.hex({ min: 0, max: 0xffffffff })],
  ['internet.port', (f) => String(f.internet.port())],
  ['internet.httpStatusCode', (f) => String(f.internet.httpStatusCode())],
  // Places.
  ['location.zipCode', (f) => f.location.zipCode()],
  ['location.buildingNumber', (f) => f.location.buildingNumber()],
  ['location.streetAddress', (f) => f.location.streetAddress(f.datatype.boolean())],
  ['location.secondaryAddress', (f) => f.location.secondaryAddress()],
  ['location.latitude', (f) => String(f.location.latitude())],
  ['location.longitude', (f) => String(f.location.longitude())],
  ['location.city', (f) => f.location.city()],
  ['location.countryCode', (f) => f.location.countryCode(f.helpers.arrayElement(['alpha-2', 'alpha-3']))],
  // Identifiers and text.
  ['string.uuid', (f) => f.string.uuid()],
  ['string.ulid', (f) => f.string.ulid()],
  ['string.nanoid', (f) => f.string.nanoid()],
  ['string.alphanumeric', (f) => f.string.alphanumeric({ length: { min: 6, max: 24 } })],
  ['git.commitSha', (f) => f.git.commitSha({ length: f.helpers.arrayElement([7, 10, 40]) })],
  ['database.mongodbObjectId', (f) => f.database.mongodbObjectId()],
  ['color.rgb', (f) => f.color.rgb()],
  ['internet.url', (f) => f.internet.url()],
  ['internet.domainName', (f) => f.internet.domainName()],
  ['internet.username', (f) => f.internet.username()],
  ['internet.displayName', (f) => f.internet.displayName()],
  ['internet.password', (f) => f.internet.password()],
  ['internet.userAgent', (f) => f.internet.userAgent()],
  ['system.filePath', (f) => f.system.filePath()],
  ['system.networkInterface', (f) => f.system.networkInterface()],
  ['system.cron', (f) => f.system.cron()],
  ['person.fullName', (f) => f.person.fullName()],
  ['company.name', (f) => f.company.name()],
  ['commerce.productName', (f) => f.commerce.productName()],
  ['word.words', (f) => f.word.words({ count: { min: 1, max: 3 } })],
  ['lorem.sentence', (f) => f.lorem.sentence({ min: 2, max: 6 })],
];
// 3900 negatives: round robin over the generators, the locale at random.
let made = 0;
for (let i = 0; made < 3900; ++i) {
  const [name, gen] = negatives[i % negatives.length];
  const { loc, f } = pick();
  let value;
  try {
    value = gen(f);
  } catch (e) {
    continue;  // a generator without data for this locale
  }
  if (value === null || value === undefined) continue;
  add(value, 'NONE', `${loc}/${name}`);
  ++made;
}

// ---- write --------------------------------------------------------------------------------

const quote = (v) => (/[",]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const annotate = process.argv.includes('--annotate');
const lines = [annotate ? 'value,label,source' : 'value,label'];
for (const [value, label, source] of rows) {
  lines.push(annotate ? `${quote(value)},${label},${quote(source)}` : `${quote(value)},${label}`);
}
const text = lines.join('\n') + '\n';
if (annotate) {
  process.stdout.write(text);
} else {
  writeFileSync(path.join(HERE, 'labelled.csv'), text);
}
const counts = {};
for (const [, label] of rows) counts[label] = (counts[label] ?? 0) + 1;
console.error(`faker ${version}, seed ${SEED}, ${LOCALES.length} locales, ${rows.length} rows:`,
              JSON.stringify(counts), `skipped IMEIs that could be cards: ${skipped.imei}`);
