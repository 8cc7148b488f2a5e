#!/usr/bin/env python3
"""Generates the labelled PII sample set used by src/quality/pii_test.cc.

    python3 tests/data/pii/generate.py        # rewrites labelled.csv and columns.json here

Deterministic (fixed seed, standard library only): running it again gives the same files.

labelled.csv: `value,label`, label one of EMAIL, PHONE_NUMBER, CREDIT_CARD, IP_ADDRESS,
MAC_ADDRESS, USA_SSN, IBAN or NONE. Positives come in varied realistic formats; the NONE rows are
hard negatives (card-like order numbers failing Luhn, 16-digit ids, dates, timestamps, versions,
amounts, UUIDs, product and postal codes, invalid SSNs and IBANs, hashes, broken e-mails, short
numbers, ...). Labels follow the formal rules (Luhn + IIN, mod-97 + registry length, SSA rules,
IPv4 octets 0-255 without leading zeros): a generated negative that happens to satisfy them, say
a 16-digit id that passes Luhn with a Visa prefix, is drawn again, since no detector could (or
should) tell it from the real thing.

columns.json: column-level cases for DetectEntities (name, DuckDB type, sample values, expected
entity types), including PERSON_NAME and DATE_OF_BIRTH and negatives for them.
"""

import csv
import json
import os
import random
import string
import uuid

SEED = 20240611
HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(SEED)

# ---- checks that decide labels -----------------------------------------------------------


def luhn_ok(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(partial):
    """The check digit that makes partial + digit Luhn-valid."""
    for d in "0123456789":
        if luhn_ok(partial + d):
            return d
    raise AssertionError


IINS = [  # (lo, hi, prefix digits, lengths)
    (4, 4, 1, (13, 16, 19)),
    (51, 55, 2, (16,)),
    (2221, 2720, 4, (16,)),
    (34, 34, 2, (15,)),
    (37, 37, 2, (15,)),
    (6011, 6011, 4, range(16, 20)),
    (644, 649, 3, range(16, 20)),
    (65, 65, 2, range(16, 20)),
    (3528, 3589, 4, range(16, 20)),
    (62, 62, 2, range(16, 20)),
    (300, 305, 3, range(14, 20)),
    (36, 36, 2, range(14, 20)),
    (38, 39, 2, range(14, 20)),
    (50, 50, 2, range(13, 20)),
    (56, 58, 2, range(13, 20)),
    (6304, 6304, 4, range(13, 20)),
    (67, 67, 2, range(13, 20)),
]


def card_number_ok(digits):
    if not digits.isdigit() or not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        return False
    for lo, hi, n, lengths in IINS:
        if lo <= int(digits[:n]) <= hi and len(digits) in lengths:
            return True
    return False


def ipv4_ok(s):
    parts = s.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not p.isdigit() or len(p) > 3 or int(p) > 255 or (len(p) > 1 and p[0] == "0"):
            return False
    return True


IBAN_LENGTHS = {"DE": 22, "FR": 27, "GB": 22, "NL": 18, "ES": 24, "BE": 16, "IT": 27, "CH": 21,
                "AT": 20, "PL": 28}


def iban_mod97(s):
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97


def iban_ok(s):
    s = s.replace(" ", "").upper()
    return (IBAN_LENGTHS.get(s[:2]) == len(s) and s[2:4].isdigit() and 2 <= int(s[2:4]) <= 98
            and iban_mod97(s) == 1)


def ssn_ok(area, group, serial):
    if area == 0 or area == 666 or area >= 900 or group == 0 or serial == 0:
        return False
    return (area, group, serial) not in ((78, 5, 1120), (219, 9, 9999))


# ---- helpers -------------------------------------------------------------------------------

FIRST = ["james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "david",
         "elizabeth", "william", "barbara", "anna", "lukas", "sophie", "maximilian", "emma",
         "louis", "chloe", "hugo", "lea", "daan", "sanne", "pablo", "lucia", "aarav", "priya",
         "wei", "yuki", "olga", "mohammed", "fatima", "sean", "niamh", "kofi", "amara"]
LAST = ["smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "mueller",
        "schmidt", "schneider", "fischer", "martin", "bernard", "dubois", "devries", "jansen",
        "bakker", "fernandez", "lopez", "martinez", "sharma", "patel", "wang", "tanaka", "ivanova",
        "hassan", "obrien", "murphy", "mensah", "okafor", "nguyen", "kowalski", "rossi"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "example.com", "example.org", "acme-corp.com",
           "mail.example.co.uk", "web.de", "gmx.net", "orange.fr", "ziggo.nl", "telefonica.es",
           "university.edu", "dept.agency.gov", "startup.io", "shop.example.info", "t-online.de",
           "sub.domain.example.travel", "company.museum", "xn--80ak6aa92e.com", "mail.co.jp",
           "example.com.br", "my-company.dev"]


def digits(n, first_nonzero=False):
    s = "".join(rng.choice(string.digits) for _ in range(n))
    if first_nonzero and s[0] == "0":
        s = rng.choice("123456789") + s[1:]
    return s


def regroup(s, sizes, sep):
    out, i = [], 0
    for size in sizes:
        out.append(s[i:i + size])
        i += size
    assert i == len(s)
    return sep.join(out)


def card_groups(n):
    return [4] * (n // 4) + ([n % 4] if n % 4 else [])


rows = []


def add(value, label):
    rows.append((value, label))


# ---- positives -----------------------------------------------------------------------------


def gen_emails(count):
    seen = set()
    while len(seen) < count:
        f, l = rng.choice(FIRST), rng.choice(LAST)
        style = rng.randrange(10)
        if style == 0:
            local = f"{f}.{l}"
        elif style == 1:
            local = f"{f[0]}{l}{rng.randint(1, 99)}"
        elif style == 2:
            local = f"{f}+{rng.choice(['news', 'shop', 'test', 'spam'])}"
        elif style == 3:
            local = f"{f}_{l}"
        elif style == 4:
            local = f"{f}-{l}.{rng.randint(1970, 2005)}"
        elif style == 5:
            local = f"{f.capitalize()}.{l.capitalize()}"
        elif style == 6:
            local = f"{l}{rng.randint(1, 9999)}"
        elif style == 7:
            local = rng.choice(["info", "support", "sales", "admin", "noreply", "billing"])
        elif style == 8:
            local = f"{f[0]}.{l}"
        else:
            local = f"{f}.{l}'s" if rng.random() < 0.2 else f"{f}{l}"
        domain = rng.choice(DOMAINS)
        value = f"{local}@{domain}"
        if rng.random() < 0.05:
            value = value.upper()
        if value not in seen:
            seen.add(value)
            add(value, "EMAIL")


def gen_phones(count):
    seen = set()
    while len(seen) < count:
        style = rng.randrange(24)
        area = rng.choice("23456789") + digits(2)  # NANP area codes start with 2-9
        exch, line = rng.choice("23456789") + digits(2), digits(4)
        if style == 0:
            v = f"({area}) {exch}-{line}"
        elif style == 1:
            v = f"{area}-{exch}-{line}"
        elif style == 2:
            v = f"{area}.{exch}.{line}"
        elif style == 3:
            v = f"+1 {area} {exch} {line}"
        elif style == 4:
            v = f"+1-{area}-{exch}-{line}"
        elif style == 5:
            v = f"+1 ({area}) {exch}-{line}"
        elif style == 6:
            v = f"1-800-{exch}-{line}"
        elif style == 7:
            v = f"+1{area}{exch}{line}"  # E.164
        elif style == 8:
            v = f"+44 20 {digits(4, True)} {digits(4)}"
        elif style == 9:
            v = f"020 {digits(4, True)} {digits(4)}"
        elif style == 10:
            v = f"+44 (0)20 {digits(4, True)} {digits(4)}"
        elif style == 11:
            v = f"07{digits(3)} {digits(6)}"
        elif style == 12:
            v = f"+44{digits(10, True)}"
        elif style == 13:
            v = f"0{rng.choice(['30', '40', '69', '89', '221'])} {digits(8 - rng.randint(0, 1), True)}"
        elif style == 14:
            v = f"+49 {rng.choice(['30', '151', '170', '89'])} {digits(8, True)}"
        elif style == 15:
            v = f"0{rng.choice(['30', '89', '40'])}/{digits(7, True)}"
        elif style == 16:
            v = "0" + str(rng.randint(1, 7)) + " " + regroup(digits(8), [2, 2, 2, 2], " ")
        elif style == 17:
            v = "+33 " + str(rng.randint(1, 7)) + " " + regroup(digits(8), [2, 2, 2, 2], " ")
        elif style == 18:
            v = "06." + regroup(digits(8), [2, 2, 2, 2], ".")
        elif style == 19:
            v = rng.choice([f"+31 20 {digits(3, True)} {digits(4)}", f"020-{digits(7, True)}",
                            f"06-{digits(8, True)}"])
        elif style == 20:
            v = rng.choice([f"+34 91{digits(1)} {digits(3)} {digits(3)}",
                            f"+34 6{digits(2)} {digits(2)} {digits(2)} {digits(2)}"])
        elif style == 21:
            v = rng.choice([f"+91 9{digits(4)} {digits(5)}", f"+61 2 {digits(4, True)} {digits(4)}",
                            f"(02) {digits(4, True)} {digits(4)}", f"04{digits(2)} {digits(3)} {digits(3)}"])
        elif style == 22:
            v = rng.choice([f"0044 20 {digits(4, True)} {digits(4)}",
                            f"0049 30 {digits(8, True)}", f"+{rng.choice(['49', '33', '39', '81'])}{digits(10, True)}"])
        else:
            v = rng.choice([f"({area}){exch}-{line}", f"{area} {exch} {line}",
                            f"+1.{area}.{exch}.{line}"])
        if v not in seen:
            seen.add(v)
            add(v, "PHONE_NUMBER")


def make_card(prefix, length):
    body = prefix + digits(length - len(prefix) - 1)
    return body + luhn_complete(body)


def gen_cards(count):
    schemes = [
        (lambda: "4", 16), (lambda: "4", 13), (lambda: "4", 19),
        (lambda: str(rng.randint(51, 55)), 16), (lambda: str(rng.randint(2221, 2720)), 16),
        (lambda: rng.choice(["34", "37"]), 15), (lambda: "6011", 16),
        (lambda: str(rng.randint(644, 649)), 16), (lambda: "65", 16),
        (lambda: str(rng.randint(3528, 3589)), 16), (lambda: "62", 16),
        (lambda: rng.choice(["36", "38", str(rng.randint(300, 305))]), 14),
        (lambda: rng.choice(["5018", "5020", "6304", "6759"]), 16),
    ]
    weights = [30, 3, 2, 20, 6, 12, 6, 3, 3, 4, 4, 4, 3]
    seen = set()
    while len(seen) < count:
        prefix_fn, length = rng.choices(schemes, weights)[0]
        number = make_card(prefix_fn(), length)
        assert card_number_ok(number)
        fmt = rng.randrange(3)
        if fmt == 0:
            v = number
        else:
            sep = " " if fmt == 1 else "-"
            if length == 15:
                v = regroup(number, [4, 6, 5], sep)
            elif length == 14 and rng.random() < 0.5:
                v = regroup(number, [4, 6, 4], sep)
            else:
                v = regroup(number, card_groups(length), sep)
        if v not in seen:
            seen.add(v)
            add(v, "CREDIT_CARD")


def compress_ipv6(groups):
    """RFC 5952: drop leading zeros, compress the longest run (>= 2) of zero groups."""
    best, best_len, i = -1, 0, 0
    while i < 8:
        if groups[i] == 0:
            j = i
            while j < 8 and groups[j] == 0:
                j += 1
            if j - i > best_len:
                best, best_len = i, j - i
            i = j
        else:
            i += 1
    text = [format(g, "x") for g in groups]
    if best_len >= 2:
        return ":".join(text[:best]) + "::" + ":".join(text[best + best_len:])
    return ":".join(text)


def gen_ips(count):
    seen = set()
    while len(seen) < count:
        style = rng.randrange(10)
        if style <= 3:
            kind = rng.randrange(5)
            if kind == 0:
                v = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            elif kind == 1:
                v = f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            elif kind == 2:
                v = f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}"
            elif kind == 3:
                v = ".".join(str(rng.randint(1, 9)) for _ in range(4))  # 1.2.3.4 is an address
            else:
                v = ".".join(str(rng.randint(0, 255)) for _ in range(4))
            assert ipv4_ok(v)
        else:
            groups = [rng.getrandbits(16) for _ in range(8)]
            kind = rng.randrange(7)
            if kind in (0, 1, 2):  # documentation / link-local / ULA with zero runs
                groups[0] = rng.choice([0x2001, 0xfe80, 0xfd00, 0x2a00, 0x2606])
                if groups[0] == 0x2001:
                    groups[1] = 0xdb8
                start = rng.randint(1 if groups[0] != 0xfe80 else 1, 5)
                for k in range(start, start + rng.randint(2, 3)):
                    groups[k] = 0
            if kind == 3:  # full form, zero-padded
                v = ":".join(format(g, "04x") for g in groups)
            elif kind == 4:  # full form, no padding
                v = ":".join(format(g, "x") for g in groups)
            elif kind == 5:
                v = rng.choice(["::1", "::", f"::ffff:{rng.randint(1, 223)}.{rng.randint(0, 255)}."
                                f"{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                                f"fe80::{format(rng.getrandbits(16), 'x')}%eth0",
                                f"2001:db8::{format(rng.getrandbits(16), 'x')}"])
            else:
                v = compress_ipv6(groups)
            if rng.random() < 0.1:
                v = v.upper()
        if v not in seen:
            seen.add(v)
            add(v, "IP_ADDRESS")


def gen_macs(count):
    seen = set()
    while len(seen) < count:
        octets = [format(rng.getrandbits(8), "02x") for _ in range(6)]
        v = rng.choice([":", "-"]).join(octets)
        if rng.random() < 0.5:
            v = v.upper()
        if v not in seen:
            seen.add(v)
            add(v, "MAC_ADDRESS")


def gen_ssns(count):
    seen = set()
    while len(seen) < count:
        area, group, serial = rng.randint(1, 899), rng.randint(1, 99), rng.randint(1, 9999)
        if not ssn_ok(area, group, serial):
            continue
        sep = "-" if rng.random() < 0.85 else " "
        v = f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"
        if v not in seen:
            seen.add(v)
            add(v, "USA_SSN")


def alnum_upper(n):
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def bban(country):
    if country == "DE":
        return digits(8) + digits(10)
    if country == "FR":
        return digits(5) + digits(5) + alnum_upper(11) + digits(2)
    if country == "GB":
        return "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + digits(14)
    if country == "NL":
        return "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + digits(10)
    if country == "ES":
        return digits(20)
    if country == "BE":
        return digits(12)
    if country == "IT":
        return rng.choice(string.ascii_uppercase) + digits(10) + alnum_upper(12)
    if country == "CH":
        return digits(5) + alnum_upper(12)
    if country == "AT":
        return digits(16)
    if country == "PL":
        return digits(24)
    raise AssertionError(country)


def make_iban(country):
    b = bban(country)
    check = 98 - iban_mod97(country + "00" + b)
    return f"{country}{check:02d}{b}"


def print_format(iban):
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def gen_ibans(count):
    countries = ["DE", "FR", "GB", "NL", "ES", "BE", "IT", "CH", "AT", "PL"]
    weights = [25, 20, 20, 15, 15, 2, 1, 1, 1, 1]
    seen = set()
    while len(seen) < count:
        iban = make_iban(rng.choices(countries, weights)[0])
        assert iban_ok(iban) and len(iban) == IBAN_LENGTHS[iban[:2]]
        v = print_format(iban) if rng.random() < 0.5 else iban
        if rng.random() < 0.03:
            v = v.lower()
        if v not in seen:
            seen.add(v)
            add(v, "IBAN")


# ---- hard negatives ------------------------------------------------------------------------


def neg(value):
    add(value, "NONE")


def looks_like_card(v):
    d = v.replace(" ", "").replace("-", "")
    return card_number_ok(d)


def gen_card_like_order_numbers(count):
    # 16 digits (also grouped like a card) with a card prefix but a wrong check digit.
    n = 0
    while n < count:
        prefix = rng.choice(["4", "51", "52", "55", "37", "6011", "35"])
        length = 15 if prefix == "37" else 16
        body = prefix + digits(length - len(prefix))
        if luhn_ok(body):
            continue
        fmt = rng.randrange(4)
        if fmt == 0:
            v = body
        elif fmt == 1:
            v = regroup(body, card_groups(length) if length == 16 else [4, 6, 5], " ")
        elif fmt == 2:
            v = regroup(body, card_groups(length) if length == 16 else [4, 6, 5], "-")
        else:
            v = f"ORD-{body}"
        assert not looks_like_card(v)
        neg(v)
        n += 1


def gen_order_numbers(count):
    # Order, invoice and ticket numbers with separators, none of them card-like.
    for _ in range(count):
        year = rng.randint(2015, 2025)
        style = rng.randrange(8)
        if style == 0:
            v = f"{year}-{digits(6)}"
        elif style == 1:
            v = f"{year}-{digits(4)}-{digits(4)}"
        elif style == 2:
            v = f"INV-{year}-{digits(6)}"
        elif style == 3:
            v = f"{digits(4, True)}-{digits(4)}-{digits(2)}"
        elif style == 4:
            v = f"{digits(6)}/{digits(2)}"
        elif style == 5:
            v = f"#{digits(8)}"
        elif style == 6:
            v = f"{digits(3, True)}-{digits(7)}"
        else:
            v = f"{year}{digits(2)}-{digits(5)}"
        neg(v)


def gen_16_digit_ids(count):
    n = 0
    while n < count:
        v = digits(16)
        if rng.random() < 0.5:
            v = rng.choice("1789") + v[1:]  # no card scheme starts so
        if looks_like_card(v):
            continue
        neg(v)
        n += 1


def gen_dates(count):
    for _ in range(count):
        y, m, d = rng.randint(1950, 2030), rng.randint(1, 12), rng.randint(1, 28)
        hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        style = rng.randrange(10)
        if style == 0:
            v = f"{y:04d}-{m:02d}-{d:02d}"
        elif style == 1:
            v = f"{y:04d}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z"
        elif style == 2:
            v = f"{y:04d}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}"
        elif style == 3:
            v = f"{y:04d}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}.{rng.randint(0, 999):03d}+02:00"
        elif style == 4:
            v = f"{y:04d}{m:02d}{d:02d}"
        elif style == 5:
            v = f"{d:02d}/{m:02d}/{y:04d}"
        elif style == 6:
            v = f"{d}.{m}.{y}"
        elif style == 7:
            v = f"{hh:02d}:{mm:02d}:{ss:02d}"
        elif style == 8:
            v = f"{y:04d}{m:02d}{d:02d}{hh:02d}{mm:02d}{ss:02d}"
        else:
            v = f"{y:04d}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}"
        neg(v)


def gen_versions(count):
    n = 0
    while n < count:
        style = rng.randrange(8)
        a, b, c, d = (rng.randint(0, 20) for _ in range(4))
        if style == 0:
            v = f"{a}.{b}.{c}"
        elif style == 1:
            v = f"v{a}.{b}.{c}.{d}"
        elif style == 2:
            v = f"{a}.{b}.{c}.{d}.{rng.randint(0, 9)}"
        elif style == 3:
            v = f"{a}.{b}.{c}-{rng.choice(['rc1', 'beta', 'alpha.2', 'SNAPSHOT'])}"
        elif style == 4:
            v = f"{a}.{b:02d}.{c}.{rng.randint(1000, 9999)}"  # build number > 255
        elif style == 5:
            v = f"{a}.{b}.{rng.randint(256, 999)}.{c}"
        elif style == 6:
            v = f"{a}.0{rng.randint(1, 9)}.{c}.{d}"  # leading zero
        else:
            v = f"{a}.{b}"
        if ipv4_ok(v):
            continue
        neg(v)
        n += 1


def gen_amounts(count):
    for _ in range(count):
        x = rng.randint(0, 10**rng.randint(1, 10))
        cents = rng.randint(0, 99)
        style = rng.randrange(10)
        if style == 0:
            v = f"{x}.{cents:02d}"
        elif style == 1:
            v = f"{x:,}.{cents:02d}"
        elif style == 2:
            v = f"${x:,}.{cents:02d}"
        elif style == 3:
            v = f"€ {x:,}.{cents:02d}".replace(",", "_").replace(".", ",").replace("_", ".")
        elif style == 4:
            v = f"{x:,}".replace(",", " ") + f",{cents:02d}"
        elif style == 5:
            v = f"-{x}.{cents:02d}"
        elif style == 6:
            v = f"USD {x}.{cents:02d}"
        elif style == 7:
            v = f"{x / 1000:.3f}"
        elif style == 8:
            v = f"{x:,}"
        else:
            v = f"{x}.{cents:02d} EUR"
        neg(v)


def gen_uuids(count):
    for _ in range(count):
        u = uuid.UUID(int=rng.getrandbits(128), version=4)
        v = str(u)
        if rng.random() < 0.2:
            v = v.upper()
        elif rng.random() < 0.1:
            v = "{" + v + "}"
        elif rng.random() < 0.1:
            v = u.hex
        neg(v)


def gen_product_codes(count):
    n = 0
    while n < count:
        style = rng.randrange(8)
        if style == 0:
            v = f"SKU-{digits(5)}"
        elif style == 1:
            v = f"{alnum_upper(2)}-{digits(4)}-{rng.choice(['XL', 'BL', 'RD', 'A1'])}"
        elif style == 2:
            v = f"PRD{digits(7)}"
        elif style == 3:  # ISBN-13
            v = f"978-{rng.randint(0, 9)}-{digits(2)}-{digits(6)}-{rng.randint(0, 9)}"
        elif style == 4:  # EAN-13 / UPC without a card prefix
            v = rng.choice(["978", "979", "0", "1", "8"]) + digits(12)
            v = v[:13]
        elif style == 5:
            v = f"{digits(3)}-{digits(2)}-{digits(3)}"
        elif style == 6:
            v = f"P/N {digits(2)}-{digits(4)}"
        else:
            v = f"{rng.choice(string.ascii_uppercase)}{digits(3)}.{digits(3)}"
        if looks_like_card(v):
            continue
        neg(v)
        n += 1


def gen_postal_codes(count):
    for _ in range(count):
        style = rng.randrange(8)
        if style == 0:
            v = digits(5)
        elif style == 1:
            v = f"{digits(5)}-{digits(4)}"
        elif style == 2:
            v = rng.choice(["SW1A 1AA", "EC1A 1BB", "W1A 0AX", "M1 1AE", "B33 8TH", "CR2 6XH"])
        elif style == 3:
            v = f"{rng.choice('KLMNPT')}{rng.randint(0, 9)}{rng.choice('ABCEGH')} {rng.randint(0, 9)}" \
                f"{rng.choice('JKLMNP')}{rng.randint(0, 9)}"
        elif style == 4:
            v = f"{digits(4, True)} {rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)}"
        elif style == 5:
            v = f"{digits(3)}-{digits(4)}"
        elif style == 6:
            v = f"{digits(5)}-{digits(3)}"
        else:
            v = f"{digits(2)}-{digits(3)}"
        neg(v)


def gen_invalid_ssns(count):
    for _ in range(count):
        area, group, serial = rng.randint(1, 899), rng.randint(1, 99), rng.randint(1, 9999)
        broken = rng.randrange(6)
        if broken == 0:
            area = 0
        elif broken == 1:
            area = 666
        elif broken == 2:
            area = rng.randint(900, 999)
        elif broken == 3:
            group = 0
        elif broken == 4:
            serial = 0
        else:
            area, group, serial = rng.choice([(78, 5, 1120), (219, 9, 9999)])
        assert not ssn_ok(area, group, serial)
        neg(f"{area:03d}-{group:02d}-{serial:04d}")


def gen_invalid_ibans(count):
    n = 0
    countries = ["DE", "FR", "GB", "NL", "ES"]
    while n < count:
        iban = make_iban(rng.choice(countries))
        broken = rng.randrange(5)
        if broken <= 1:  # wrong check digits
            check = int(iban[2:4])
            other = rng.choice([c for c in range(2, 99) if c != check])
            iban = f"{iban[:2]}{other:02d}{iban[4:]}"
        elif broken == 2:  # a typo in the account number
            i = rng.randrange(4, len(iban))
            if not iban[i].isdigit():
                continue
            iban = iban[:i] + str((int(iban[i]) + rng.randint(1, 9)) % 10) + iban[i + 1:]
        elif broken == 3:  # wrong length (then the check digits are recomputed: still invalid)
            body = iban[4:] + digits(1) if rng.random() < 0.5 else iban[4:-1]
            iban = iban[:2] + f"{98 - iban_mod97(iban[:2] + '00' + body):02d}" + body
        else:  # a country not in the registry
            body = iban[4:]
            cc = rng.choice(["XX", "ZZ", "US", "CA", "AU"])
            iban = cc + f"{98 - iban_mod97(cc + '00' + body):02d}" + body
        if iban_ok(iban):
            continue
        neg(print_format(iban) if rng.random() < 0.5 else iban)
        n += 1


def gen_hashes(count):
    for _ in range(count):
        n = rng.choice([7, 12, 32, 40, 64])
        v = "".join(rng.choice("0123456789abcdef") for _ in range(n))
        if rng.random() < 0.1:
            v = v.upper()
        neg(v)


def gen_broken_emails(count):
    for _ in range(count):
        f, l = rng.choice(FIRST), rng.choice(LAST)
        style = rng.randrange(10)
        if style == 0:
            v = f"{f}@localhost"
        elif style == 1:
            v = f"{f}.{l}@{rng.choice(['server', 'intranet', 'mailhost', 'corp'])}"
        elif style == 2:
            v = f"{f}.{l}@"
        elif style == 3:
            v = f"@{rng.choice(DOMAINS)}"
        elif style == 4:
            v = f"{f}@@{rng.choice(DOMAINS)}"
        elif style == 5:
            v = f"{f}.{l}@example.{rng.choice(string.ascii_lowercase)}"
        elif style == 6:
            v = f"{f} {l}@{rng.choice(DOMAINS)}"
        elif style == 7:
            v = f"{f}.@{rng.choice(DOMAINS)}"
        elif style == 8:
            v = f"{f}..{l}@{rng.choice(DOMAINS)}"
        else:
            v = f"{f}.{l}(at){rng.choice(DOMAINS)}"
        neg(v)


def gen_short_numbers(count):
    for _ in range(count):
        style = rng.randrange(9)
        if style == 0:
            v = f"{digits(3, True)}-{digits(4)}"
        elif style == 1:
            v = rng.choice(["911", "112", "999", "110", "0800", "116 123", "*21#"])
        elif style == 2:
            v = f"{digits(2)} {digits(2)} {digits(2)}"
        elif style == 3:
            v = f"+{digits(rng.randint(2, 6), True)}"
        elif style == 4:
            v = f"+44 {digits(2)}"
        elif style == 5:
            v = f"({digits(3)}) {digits(3)}"
        elif style == 6:
            v = f"1-800-{rng.choice(['FLOWERS', 'CONTACTS', 'GOFEDEX'])}"
        elif style == 7:
            v = f"ext. {digits(4)}"
        else:
            v = f"{digits(4)} {digits(4)}"
        neg(v)


def gen_integers(count):
    for _ in range(count):
        v = digits(rng.randint(1, 15), True)
        if looks_like_card(v):
            continue
        neg(v if rng.random() < 0.8 else "-" + v)


def gen_invalid_ips(count):
    n = 0
    while n < count:
        o = [rng.randint(0, 255) for _ in range(4)]
        style = rng.randrange(9)
        if style == 0:
            o[rng.randrange(4)] = rng.randint(256, 999)
            v = ".".join(map(str, o))
        elif style == 1:
            v = ".".join(map(str, o[:3]))
        elif style == 2:
            v = ".".join(f"{x:03d}" for x in o)
        elif style == 3:
            v = ".".join(map(str, o)) + f":{rng.randint(1, 65535)}"
        elif style == 4:
            g = [format(rng.getrandbits(16), "x") for _ in range(8)]
            v = ":".join(g[:3]) + "::" + g[3] + "::" + g[4]  # two "::"
        elif style == 5:
            g = [format(rng.getrandbits(16), "x") for _ in range(9)]
            v = ":".join(g)  # nine groups
        elif style == 6:
            g = [format(rng.getrandbits(16), "x") for _ in range(7)]
            v = ":".join(g)  # seven groups without "::"
        elif style == 7:
            v = f"2001:db8::{rng.choice(['g', 'xyz', '12345'])}"
        else:
            v = f"{o[0]}.{o[1]}.{o[2]}.{o[3]}."
        if ipv4_ok(v):
            continue
        neg(v)
        n += 1


def gen_invalid_macs(count):
    for _ in range(count):
        octets = [format(rng.getrandbits(8), "02X") for _ in range(6)]
        style = rng.randrange(5)
        if style == 0:
            v = ":".join(octets[:5])
        elif style == 1:
            v = ":".join(octets[:5] + ["G" + octets[5][1]])
        elif style == 2:
            v = "-".join(octets[:3]) + ":" + ":".join(octets[3:])
        elif style == 3:
            v = ":".join(octets + [octets[0]])  # seven groups
        else:
            v = ":".join([octets[0][1]] + octets[1:])  # a one-digit group
        neg(v)


def gen_text(count):
    words = ["hello world", "N/A", "null", "true", "false", "John Smith", "Main Street 12",
             "order shipped", "see attached", "Berlin", "pending", "-", "n.a.", "TBD", "ok",
             "Acme Corp.", "Q3 2023", "Room 101", "Gate B12", "Flight LH 441", "10:30 am",
             "5 kg", "100%", "#1234", "A+", "1st floor", "v2", "x = 3.14", "https://example.com/x",
             "C:\\Users\\anna", "/var/log/syslog", "ABC123", "ping 8.8.8.8", "tel: unknown",
             "mailto:", "card on file", "IBAN pending", "SSN on request"]
    for i in range(count):
        neg(words[i % len(words)])


def main():
    gen_emails(500)
    gen_phones(600)
    gen_cards(500)
    gen_ips(500)
    gen_macs(400)
    gen_ssns(400)
    gen_ibans(500)
    gen_card_like_order_numbers(300)
    gen_16_digit_ids(200)
    gen_order_numbers(200)
    gen_dates(300)
    gen_versions(250)
    gen_amounts(250)
    gen_uuids(150)
    gen_product_codes(200)
    gen_postal_codes(150)
    gen_invalid_ssns(250)
    gen_invalid_ibans(250)
    gen_hashes(150)
    gen_broken_emails(200)
    gen_short_numbers(200)
    gen_integers(150)
    gen_invalid_ips(150)
    gen_invalid_macs(100)
    gen_text(80)

    positive_values = {v for v, label in rows if label != "NONE"}
    for v, label in rows:
        assert label != "NONE" or v not in positive_values, v
    with open(os.path.join(HERE, "labelled.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["value", "label"])
        w.writerows(rows)
    with open(os.path.join(HERE, "columns.json"), "w", encoding="utf-8") as f:
        json.dump(columns(), f, indent=1, ensure_ascii=False)
        f.write("\n")


# ---- column-level cases --------------------------------------------------------------------

FIRST_CAP = ["Anna", "José", "Liam", "Sophie", "Mohammed", "Chloé", "Björn", "Priya", "Yuki",
             "Seán", "Mary-Kate", "Jean-Luc", "Olga", "Kofi", "Zoë", "William", "Amara", "Wei"]
LAST_CAP = ["Smith", "García", "O'Brien", "Müller", "van der Berg", "McDonald", "Nguyen",
            "Dubois", "Okafor", "de la Cruz", "Kowalski", "Tanaka", "Rossi", "Ivanova", "Jansen",
            "Patel", "Schmidt", "D'Angelo"]


def sample(fn, n=20):
    return [fn() for _ in range(n)]


def columns():
    full = lambda: f"{rng.choice(FIRST_CAP)} {rng.choice(LAST_CAP)}"
    dob = lambda: (rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))
    months = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
    email = lambda: f"{rng.choice(FIRST)}.{rng.choice(LAST)}@{rng.choice(DOMAINS)}"

    def iso(t):
        return f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"

    ssn9 = []
    while len(ssn9) < 20:
        a, g, s = rng.randint(1, 899), rng.randint(1, 99), rng.randint(1, 9999)
        if ssn_ok(a, g, s):
            ssn9.append(f"{a:03d}{g:02d}{s:04d}")
    cases = [
        # PERSON_NAME
        ("first_name", "VARCHAR", sample(lambda: rng.choice(FIRST_CAP)), ["PERSON_NAME"]),
        ("last_name", "VARCHAR", sample(lambda: rng.choice(LAST_CAP)), ["PERSON_NAME"]),
        ("full_name", "VARCHAR", sample(full) + ["Ludwig van Beethoven", "Doe, John"],
         ["PERSON_NAME"]),
        ("customerName", "VARCHAR", sample(full), ["PERSON_NAME"]),
        ("CUSTOMER_NAME", "VARCHAR", [x.upper() for x in sample(full)], ["PERSON_NAME"]),
        ("FirstName", "VARCHAR", sample(lambda: rng.choice(FIRST_CAP)), ["PERSON_NAME"]),
        ("surname", "VARCHAR", sample(lambda: rng.choice(LAST_CAP)), ["PERSON_NAME"]),
        ("name", "VARCHAR", sample(full), ["PERSON_NAME"]),
        ("contact_name", "VARCHAR", sample(full) + [""], ["PERSON_NAME"]),
        ("product_name", "VARCHAR",
         sample(lambda: f"{rng.choice(['Blue', 'Deluxe', 'Classic', 'Smart'])} "
                        f"{rng.choice(['Widget', 'Chair', 'Lamp', 'Kettle'])}"), []),
        ("company_name", "VARCHAR", sample(lambda: f"{rng.choice(LAST_CAP)} {rng.choice(['GmbH', 'Ltd', 'Inc.'])}"), []),
        ("city_name", "VARCHAR", sample(lambda: rng.choice(["Berlin", "Paris", "New York", "São Paulo"])), []),
        ("file_name", "VARCHAR", sample(lambda: f"report_{rng.randint(1, 99)}.csv"), []),
        ("username", "VARCHAR", sample(lambda: f"{rng.choice(FIRST)}{rng.randint(1, 99)}"), []),
        ("first_name", "VARCHAR", sample(lambda: str(rng.randint(1, 10**6))), []),
        ("last_name", "VARCHAR", sample(lambda: rng.choice(["n/a", "unknown", "-", "tbd"])), []),
        # DATE_OF_BIRTH
        ("dob", "DATE", sample(lambda: iso(dob())), ["DATE_OF_BIRTH"]),
        ("birth_date", "VARCHAR",
         sample(lambda: "{2:02d}/{1:02d}/{0:04d}".format(*dob())), ["DATE_OF_BIRTH"]),
        ("DateOfBirth", "VARCHAR",
         sample(lambda: (lambda t: f"{months[t[1] - 1]} {t[2]}, {t[0]}")(dob())),
         ["DATE_OF_BIRTH"]),
        ("date_of_birth", "VARCHAR", sample(lambda: "{2}.{1}.{0}".format(*dob())),
         ["DATE_OF_BIRTH"]),
        ("birthday", "TIMESTAMP", sample(lambda: iso(dob()) + " 00:00:00"), ["DATE_OF_BIRTH"]),
        ("customer_dob", "INTEGER",
         sample(lambda: "{0:04d}{1:02d}{2:02d}".format(*dob())), ["DATE_OF_BIRTH"]),
        ("BirthDate", "DATE", [], ["DATE_OF_BIRTH"]),
        ("created_date", "DATE", sample(lambda: iso(dob())), []),
        ("updated_at", "TIMESTAMP", sample(lambda: iso(dob()) + " 12:00:00"), []),
        ("place_of_birth", "VARCHAR",
         sample(lambda: rng.choice(["Berlin", "Paris", "Lagos", "Osaka"])), []),
        ("birth_year", "INTEGER", sample(lambda: str(rng.randint(1940, 2005))), []),
        ("dob", "VARCHAR", sample(lambda: rng.choice(["unknown", "n/a", "private"])), []),
        # value entities at column level
        ("email", "VARCHAR", sample(email), ["EMAIL"]),
        ("contact", "VARCHAR", sample(email, 7) + sample(lambda: "see notes", 3), []),
        ("email_address", "VARCHAR", sample(email, 6) + sample(lambda: "n/a", 4), ["EMAIL"]),
        ("ssn", "VARCHAR", ssn9, ["USA_SSN"]),
        ("employee_id", "VARCHAR", ssn9, []),
        ("ssn", "BIGINT", [s.lstrip("0") for s in ssn9], ["USA_SSN"]),
        ("tax_id", "VARCHAR",
         [r[0] for r in rows if r[1] == "USA_SSN"][:20], ["USA_SSN"]),
        ("phone", "VARCHAR", [r[0] for r in rows if r[1] == "PHONE_NUMBER"][:20],
         ["PHONE_NUMBER"]),
        ("card_number", "VARCHAR", [r[0] for r in rows if r[1] == "CREDIT_CARD"][:20],
         ["CREDIT_CARD"]),
        ("order_id", "VARCHAR", [r[0] for r in rows if r[1] == "NONE" and len(r[0]) == 16
                                 and r[0].isdigit()][:20], []),
        ("client_ip", "VARCHAR", [r[0] for r in rows if r[1] == "IP_ADDRESS"][:20],
         ["IP_ADDRESS"]),
        ("device", "VARCHAR", [r[0] for r in rows if r[1] == "MAC_ADDRESS"][:20],
         ["MAC_ADDRESS"]),
        ("iban", "VARCHAR", [r[0] for r in rows if r[1] == "IBAN"][:20], ["IBAN"]),
        ("amount", "VARCHAR", ["12.50", "1,234.00", "99.99", "0.10"], []),
        ("notes", "VARCHAR", ["call back tomorrow", "paid", "VIP", ""], []),
        ("app_version", "VARCHAR", ["1.2.3", "2.0.1", "1.10.4", "3.0.0"], []),
    ]
    return [{"column": c, "type": t, "sample": s, "expected": e} for c, t, s, e in cases]


if __name__ == "__main__":
    main()
