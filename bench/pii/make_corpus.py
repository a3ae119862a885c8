#!/usr/bin/env python3
"""Writes a labelled PII corpus for garden-core's scrubber (garden-core/tests/pii_corpus.rs).

Usage: bench/pii/make_corpus.py dev|heldout [--seed N] [--n N] [--out FILE]

Each line of the output is a JSON record
    {"text": "...", "spans": [{"start": 3, "end": 19, "kind": "email"}, ...]}
with `start`/`end` counted in Unicode code points (Python string indices). Kinds: email, phone,
ip, url_credentials (only the `user:pass` part of a URL), api_key, card, rrn (Korean resident
registration number), ssn (US social security number), iban.

Two template sets share the engine below: `templates_dev.py` (looked at while tuning the
scrubber) and `templates_heldout.py` (written before tuning, with its own prose, value formats and
hard negatives; only measured). Python 3 standard library only; deterministic for a given seed.
"""

import argparse
import importlib.util
import json
import os
import random
import re
import string

HERE = os.path.dirname(os.path.abspath(__file__))

B62 = string.ascii_letters + string.digits
B64 = B62 + "+/"
HEX = "0123456789abcdef"


# ---------------------------------------------------------------------------------------------
# Value generators shared by both sets. Each returns (text, [(start, end, kind), ...]) with
# offsets relative to the value.
# ---------------------------------------------------------------------------------------------


def lab(kind):
    """Wraps a generator of plain strings so the whole value is one span of `kind`."""

    def wrap(gen):
        def g(r):
            v = gen(r)
            return v, [(0, len(v), kind)]

        g.__name__ = gen.__name__
        return g

    return wrap


def rand(r, alphabet, n):
    return "".join(r.choice(alphabet) for _ in range(n))


def luhn_complete(r, prefix, length):
    """A Luhn-valid number of `length` digits starting with `prefix`."""
    body = prefix + rand(r, string.digits, length - len(prefix) - 1)
    for check in string.digits:
        if luhn_ok(body + check):
            return body + check
    raise AssertionError


def luhn_ok(num):
    total = 0
    for i, c in enumerate(reversed(num)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def group(num, sizes, sep):
    out, i = [], 0
    for s in sizes:
        out.append(num[i : i + s])
        i += s
    if i < len(num):
        out.append(num[i:])
    return sep.join(out)


def iban_make(country, bban):
    """A valid IBAN (ISO 13616 mod-97 check digits) for `country` and `bban`."""
    rearranged = bban + country + "00"
    n = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - n % 97
    return f"{country}{check:02d}{bban}"


IBAN_LAYOUTS = {  # country: BBAN pattern (n digit, a upper letter, c alphanumeric)
    "DE": "n" * 18,
    "GB": "aaaa" + "n" * 14,
    "FR": "n" * 10 + "c" * 11 + "nn",
    "NL": "aaaa" + "n" * 10,
    "ES": "n" * 20,
    "IT": "a" + "n" * 10 + "c" * 12,
    "BE": "n" * 12,
    "CH": "n" * 5 + "c" * 12,
    "AT": "n" * 16,
    "PL": "n" * 24,
    "SE": "n" * 20,
    "IE": "aaaa" + "n" * 14,
    "NO": "n" * 11,
    "PT": "n" * 21,
}


def bban(r, pattern):
    out = []
    for p in pattern:
        if p == "n":
            out.append(r.choice(string.digits))
        elif p == "a":
            out.append(r.choice(string.ascii_uppercase))
        else:
            out.append(r.choice(string.ascii_uppercase + string.digits))
    return "".join(out)


def iban_value(r, countries, grouped_share=0.6):
    c = r.choice(countries)
    v = iban_make(c, bban(r, IBAN_LAYOUTS[c]))
    if r.random() < grouped_share:
        v = " ".join(v[i : i + 4] for i in range(0, len(v), 4))
    return v


def rrn_value(r):
    year = r.randrange(0, 100)
    month = r.randrange(1, 13)
    day = r.randrange(1, 29)
    gender = r.choice("1234" * 4 + "5678")
    return f"{year:02d}{month:02d}{day:02d}-{gender}{rand(r, string.digits, 6)}"


def ssn_value(r):
    while True:
        area = r.randrange(1, 900)
        if area != 666:
            break
    return f"{area:03d}-{r.randrange(1, 100):02d}-{r.randrange(1, 10000):04d}"


def ipv4_value(r):
    while True:
        first = r.choice([10, 172, 192, 8, 34, 52, 203, 198, 100, 91, 211, 121, 175, 59, 1, 45])
        o = [first] + [r.randrange(0, 256) for _ in range(3)]
        if first == 192 and r.random() < 0.7:
            o[1] = 168
        if first == 172:
            o[1] = r.randrange(16, 32)
        if o[3] in (0, 255):
            continue
        return ".".join(map(str, o))


def ipv6_value(r):
    groups = [r.choice(["2001", "2404", "2600", "fe80", "2a02", "fd12"])] + [
        format(r.randrange(0, 65536), "x") for _ in range(7)
    ]
    style = r.random()
    if style < 0.3:
        return ":".join(groups)
    if style < 0.8:
        if groups[0] == "fe80":
            return "fe80::" + ":".join(groups[4:])
        return ":".join(groups[:3]) + "::" + ":".join(groups[6:])
    return "::ffff:" + ipv4_value(r)


def api_keys_common(r):
    """(value, kind-span list): realistic keys of well-known shapes."""
    k = r.randrange(14)
    if k == 0:
        v = "sk-" + rand(r, B62, 48)
    elif k == 1:
        v = "sk-proj-" + rand(r, B62 + "_-", 64)
    elif k == 2:
        v = "ghp_" + rand(r, B62, 36)
    elif k == 3:
        v = f"xoxb-{rand(r, string.digits, 12)}-{rand(r, string.digits, 13)}-{rand(r, B62, 24)}"
    elif k == 4:
        v = "AKIA" + rand(r, string.ascii_uppercase + string.digits, 16)
    elif k == 5:
        v = "AIza" + rand(r, B62 + "_-", 35)
    elif k == 6:
        v = "hf_" + rand(r, B62, 34)
    elif k == 7:
        v = "glpat-" + rand(r, B62 + "_-", 20)
    elif k == 8:
        v = "sk_live_" + rand(r, B62, 24)
    elif k == 9:
        v = "SG." + rand(r, B62 + "_-", 22) + "." + rand(r, B62 + "_-", 43)
    elif k == 10:
        v = "SG." + rand(r, B62 + "_-", 22) + "." + rand(r, B62 + "_-", 43)
    elif k == 11:
        head = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
        v = f"{head}.eyJ{rand(r, B62, 40)}.{rand(r, B62 + '_-', 43)}"
    elif k == 12:
        v = rand(r, B62, 40)
    else:
        body = "\n".join(rand(r, B64, 64) for _ in range(r.randrange(2, 5)))
        v = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    return v


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------

SLOT = re.compile(r"\{(\w+)\}")


def fill(r, template, gens):
    """Fills `{slot}`s of `template` from `gens[slot](r)`; returns the record."""
    text, spans, pos = [], [], 0
    last = 0
    for m in SLOT.finditer(template):
        lit = template[last : m.start()]
        text.append(lit)
        pos += len(lit)
        value, vspans = gens[m.group(1)](r)
        for s, e, kind in vspans:
            spans.append({"start": pos + s, "end": pos + e, "kind": kind})
        text.append(value)
        pos += len(value)
        last = m.end()
    text.append(template[last:])
    return {"text": "".join(text), "spans": spans}


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("set", choices=["dev", "heldout"])
    ap.add_argument("--seed", type=int)
    ap.add_argument("--n", type=int, default=800)
    ap.add_argument("--out")
    a = ap.parse_args()
    mod = load("templates_" + a.set)
    seed = a.seed if a.seed is not None else mod.SEED
    r = random.Random(seed)
    gens = mod.generators()
    records = []
    for i in range(a.n):
        # About 60% with PII, 40% hard negatives only.
        pool = mod.PII_TEMPLATES if r.random() < 0.6 else mod.CLEAN_TEMPLATES
        records.append(fill(r, r.choice(pool), gens))
    out = open(a.out, "w", encoding="utf-8") if a.out else None
    for rec in records:
        line = json.dumps(rec, ensure_ascii=False)
        if out:
            out.write(line + "\n")
        else:
            print(line)
    if out:
        out.close()


if __name__ == "__main__":
    main()
