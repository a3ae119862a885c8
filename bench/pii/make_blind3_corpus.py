#!/usr/bin/env python3
"""Blind set 3: an independent labelled PII corpus for garden-core's scrubber.

Written without looking at the scrubber or at the other corpora (only the record shape and the
span convention were taken from make_corpus.py / tests/pii_corpus.rs). It imitates what people
paste into a personal AI assistant over months, about half English and half Korean.

Usage: bench/pii/make_blind3_corpus.py [--seed N] [--n N] [--out FILE]

Output: one JSON record per line, {"text": ..., "spans": [{"start", "end", "kind"}]}, offsets in
Unicode code points. Kinds: email, phone, ip, url_credentials (only the `user:pass` part of a
URL), api_key, card, rrn, ssn, iban.

Labelling decisions (kept consistent throughout):
- phone: the whole number as written, including a leading "+CC", "(0)" and parentheses around
  an area code; never a following extension. Masked numbers (010-****-5678), room numbers,
  extensions, Zoom meeting IDs and postcodes are not phones.
- ip: every IPv4/IPv6 literal except 127.0.0.1 / 0.0.0.0 / :: (these never appear); a port
  after the address is not part of the span, nor is a "/20" prefix length after a host address
  (`inet 172.31.4.9/20`); network ranges (10.0.0.0/16) never appear. 4-part version numbers
  with a part > 255, OIDs and section numbers are not IPs.
- url_credentials: only `user:pass` of scheme://user:pass@host (never a token as password).
- api_key: the whole token including its well-known prefix (sk-, sk-proj-, sk-ant-, ghp_,
  github_pat_, glpat-, xoxb-/xoxp-, AKIA, AIza, sk_live_/rk_live_, hf_, npm_, SG., dop_v1_,
  shpat_, JWT eyJ...). After "Bearer " only the token is labelled. Placeholders (sk-...,
  YOUR_API_KEY, ghp_XXXX..., AKIAXXXXXXXXXXXXXXXX) are not keys.
- card: Luhn-valid 15/16-digit numbers, any grouping; masked numbers are not cards. Every
  unlabelled run of 13-19 digits (also when grouped by spaces/dashes) fails Luhn.
- iban: mod-97-valid, compact or grouped; BIC/SWIFT codes are not labelled.
- rrn: YYMMDD-GNNNNNN with a valid check digit; masked 900101-1****** is not.
- ssn: AAA-GG-SSSS (valid ranges); EIN 12-3456789, masked ***-**-1234 are not.
Python 3 standard library only; deterministic for a given seed.
"""

import argparse
import base64
import json
import os
import random
import re
import string

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "garden-core", "tests", "data", "pii", "blind3.jsonl")

B62 = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
DIG = string.digits
UPAL = string.ascii_uppercase + string.digits


# ---------------------------------------------------------------------------------------------
# Building texts with labelled values
# ---------------------------------------------------------------------------------------------


class Lab(tuple):
    """(text, [(start, end, kind), ...]) with offsets relative to text."""


def L(kind, text):
    return Lab((text, [(0, len(text), kind)]))


HOLE = re.compile(r"⟨(\w+)⟩")


def fill(tmpl, **vals):
    out, spans, pos, i = [], [], 0, 0
    for m in HOLE.finditer(tmpl):
        lit = tmpl[i : m.start()]
        out.append(lit)
        pos += len(lit)
        v = vals[m.group(1)]
        if isinstance(v, Lab):
            text, sp = v
            spans += [(pos + a, pos + b, k) for a, b, k in sp]
        else:
            text = str(v)
        out.append(text)
        pos += len(text)
        i = m.end()
    out.append(tmpl[i:])
    return Lab(("".join(out), spans))


def join(sep, parts):
    out, spans, pos = [], [], 0
    for k, p in enumerate(parts):
        if k:
            out.append(sep)
            pos += len(sep)
        if isinstance(p, Lab):
            t, sp = p
            spans += [(pos + a, pos + b, kk) for a, b, kk in sp]
        else:
            t = p
        out.append(t)
        pos += len(t)
    return Lab(("".join(out), spans))


def rs(r, alphabet, n):
    return "".join(r.choice(alphabet) for _ in range(n))


def nd(r, n):
    """n digits, first one non-zero."""
    return r.choice("123456789") + rs(r, DIG, n - 1)


def luhn_ok(s):
    total = 0
    for i, ch in enumerate(reversed(s)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def non_luhn_digits(r, n, first="123456789"):
    while True:
        s = r.choice(first) + rs(r, DIG, n - 1)
        if not luhn_ok(s):
            return s


# ---------------------------------------------------------------------------------------------
# Labelled value generators
# ---------------------------------------------------------------------------------------------

EN_FIRST = ["john", "emily", "michael", "sarah", "david", "olivia", "james", "chloe", "daniel",
            "grace", "ryan", "hannah", "kevin", "laura", "tom", "nina", "alex", "megan", "sam",
            "priya", "lucas", "sofia", "mark", "julia", "ben", "amy", "chris", "eva"]
EN_LAST = ["smith", "miller", "brown", "garcia", "wilson", "taylor", "nguyen", "patel", "walker",
           "hughes", "becker", "schmidt", "dubois", "martin", "tanaka", "sato", "oconnor",
           "fischer", "rossi", "lopez", "clarke", "young", "hall", "wright"]
KO_ROM_FIRST = ["minjun", "seoyeon", "jihoon", "yujin", "haeun", "doyoon", "sua", "siwoo",
                "jiwoo", "hyunwoo", "jihye", "sungmin", "eunji", "taeyang", "soyoung", "junho",
                "dahye", "kyungsoo", "yerin", "donghyun"]
KO_ROM_LAST = ["kim", "lee", "park", "choi", "jung", "kang", "cho", "yoon", "jang", "lim", "han",
               "oh", "seo", "shin", "kwon", "hwang"]
KO_NAMES = ["김민준", "이서연", "박지훈", "최유진", "정하은", "강도윤", "조수아", "윤시우", "장지우",
            "임현우", "한지혜", "오성민", "서은지", "신태양", "권소영", "황준호", "송다혜", "배경수"]
EN_NAMES = ["John Smith", "Emily Clarke", "Michael Brown", "Sarah Nguyen", "David Walker",
            "Olivia Patel", "James Hughes", "Chloe Martin", "Daniel Becker", "Grace Young",
            "Ryan O'Connor", "Hannah Fischer", "Kevin Lopez", "Laura Rossi", "Priya Shah"]
FREE_DOMAINS = ["gmail.com", "naver.com", "daum.net", "hanmail.net", "kakao.com", "outlook.com",
                "yahoo.com", "icloud.com", "proton.me", "hotmail.co.uk", "web.de", "gmx.de",
                "orange.fr", "yahoo.co.jp", "nate.com"]
WORK_DOMAINS = ["acme-corp.com", "brightwave.io", "hanbit-soft.co.kr", "samil-logis.kr",
                "northwind.co.uk", "kontor-gmbh.de", "atelier-lumen.fr", "mirae-edu.ac.kr",
                "snu.ac.kr", "u-tokyo.ac.jp", "cloudnine.dev", "pinecrest-health.org",
                "seoul-dental.kr", "example-univ.edu", "orbitlabs.ai", "greenleaf.co"]


def email_local(r):
    f = r.choice(EN_FIRST + KO_ROM_FIRST)
    l = r.choice(EN_LAST + KO_ROM_LAST)
    return r.choice([
        f"{f}.{l}", f"{f}{l}{r.randint(1, 99)}", f"{f[0]}{l}", f"{f}_{l}", f"{l}.{f}",
        f"{f}+{r.choice(['shop', 'news', 'work', 'bills'])}", f"{f}{r.randint(1980, 2009)}",
        f"{l}{f[0]}{r.randint(10, 999)}", f"{f}-{l}", f"{f}.{l[0]}",
    ])


def email(r, work=None):
    if work is None:
        work = r.random() < 0.4
    dom = r.choice(WORK_DOMAINS if work else FREE_DOMAINS)
    e = f"{email_local(r)}@{dom}"
    if r.random() < 0.06:
        e = e[0].upper() + e[1:]
    return L("email", e)


def g(r, n):
    return rs(r, DIG, n)


def ph_kr_mobile(r):
    a = r.choice("23456789") + g(r, 3)
    b = g(r, 4)
    p = r.choice(["010"] * 9 + ["011"])
    f = r.choice([
        f"{p}-{a}-{b}", f"{p}-{a}-{b}", f"{p}-{a}-{b}", f"{p} {a} {b}", f"{p}{a}{b}",
        f"{p}.{a}.{b}", f"+82 10-{a}-{b}", f"+82-10-{a}-{b}", f"+82 10 {a} {b}", f"+8210{a}{b}",
        f"+82 (0)10-{a}-{b}",
    ])
    return L("phone", f)


def ph_kr_land(r):
    area = r.choice(["02", "02", "031", "032", "051", "053", "042", "062", "064", "033", "070"])
    mid = nd(r, 4 if area == "070" or r.random() < 0.6 else 3)
    last = g(r, 4)
    f = r.choice([f"{area}-{mid}-{last}", f"{area}-{mid}-{last}", f"{area}.{mid}.{last}",
                  f"({area}) {mid}-{last}", f"{area} {mid} {last}",
                  f"+82 {area[1:]}-{mid}-{last}", f"+82-{area[1:]}-{mid}-{last}"])
    return L("phone", f)


def ph_us(r):
    a = r.choice("23456789") + r.choice("0123456789") + r.choice("0123456789")
    while a[1:] == "11" or a in ("555", "800", "888", "877", "866", "900"):
        a = r.choice("23456789") + g(r, 2)
    e = r.choice("23456789") + g(r, 2)
    while e[1:] == "11" or e == "555":
        e = r.choice("23456789") + g(r, 2)
    n = g(r, 4)
    f = r.choice([f"({a}) {e}-{n}", f"{a}-{e}-{n}", f"{a}.{e}.{n}", f"+1 {a} {e} {n}",
                  f"+1-{a}-{e}-{n}", f"+1 ({a}) {e}-{n}", f"1-{a}-{e}-{n}", f"({a}){e}-{n}",
                  f"+1 {a}-{e}-{n}"])
    return L("phone", f)


def ph_uk(r):
    f = r.choice([
        lambda: f"020 {r.choice('378')}{g(r, 3)} {g(r, 4)}",
        lambda: f"+44 20 {r.choice('378')}{g(r, 3)} {g(r, 4)}",
        lambda: f"07{r.choice('3456789')}{g(r, 2)} {g(r, 6)}",
        lambda: f"+44 7{r.choice('3456789')}{g(r, 2)} {g(r, 6)}",
        lambda: f"+44 (0)7{r.choice('3456789')}{g(r, 2)} {g(r, 3)} {g(r, 3)}",
        lambda: f"0161 {nd(r, 3)} {g(r, 4)}",
        lambda: f"0131 {nd(r, 3)} {g(r, 4)}",
        lambda: f"+441{r.choice('2356')}1{nd(r, 3)}{g(r, 4)}",
    ])()
    return L("phone", f)


def ph_de(r):
    f = r.choice([
        lambda: f"030 {nd(r, 8)}",
        lambda: f"+49 30 {nd(r, 8)}",
        lambda: f"+49 (0)30 {nd(r, 7)}",
        lambda: f"089/{nd(r, 7)}",
        lambda: f"0151 {nd(r, 8)}",
        lambda: f"+49 151 {nd(r, 4)} {g(r, 4)}",
        lambda: f"+49 170 {nd(r, 7)}",
        lambda: f"0176-{nd(r, 8)}",
        lambda: f"+49 40 {nd(r, 3)} {g(r, 3)} {g(r, 2)}",
    ])()
    return L("phone", f)


def ph_fr(r):
    p = lambda: " ".join(g(r, 2) for _ in range(4))
    f = r.choice([
        lambda: f"01 {p()}", lambda: f"06 {p()}", lambda: f"07 {p()}",
        lambda: f"+33 1 {p()}", lambda: f"+33 6 {p()}", lambda: f"+33 (0)6 {p()}",
        lambda: "06." + ".".join(g(r, 2) for _ in range(4)),
        lambda: "04" + "".join(g(r, 2) for _ in range(4)),
    ])()
    return L("phone", f)


def ph_jp(r):
    f = r.choice([
        lambda: f"03-{nd(r, 4)}-{g(r, 4)}", lambda: f"06-{nd(r, 4)}-{g(r, 4)}",
        lambda: f"090-{nd(r, 4)}-{g(r, 4)}", lambda: f"080-{nd(r, 4)}-{g(r, 4)}",
        lambda: f"+81 3-{nd(r, 4)}-{g(r, 4)}", lambda: f"+81 90-{nd(r, 4)}-{g(r, 4)}",
        lambda: f"+81 90 {nd(r, 4)} {g(r, 4)}", lambda: f"075-{nd(r, 3)}-{g(r, 4)}",
        lambda: f"+81-6-{nd(r, 4)}-{g(r, 4)}",
    ])()
    return L("phone", f)


def ph_intl(r):
    f = r.choice([
        lambda: f"+61 4{g(r, 2)} {g(r, 3)} {g(r, 3)}",
        lambda: f"+65 {r.choice('89')}{g(r, 3)} {g(r, 4)}",
        lambda: f"+86 13{g(r, 1)} {g(r, 4)} {g(r, 4)}",
        lambda: f"+91 9{g(r, 4)} {g(r, 5)}",
        lambda: f"+34 6{g(r, 2)} {g(r, 3)} {g(r, 3)}",
        lambda: f"+39 3{g(r, 2)} {g(r, 3)} {g(r, 4)}",
        lambda: f"+31 6 {nd(r, 8)}",
        lambda: f"+852 {r.choice('569')}{g(r, 3)} {g(r, 4)}",
        lambda: f"+886 9{g(r, 2)} {g(r, 3)} {g(r, 3)}",
        lambda: f"+1 604 {nd(r, 3)} {g(r, 4)}",
        lambda: f"+41 79 {nd(r, 3)} {g(r, 2)} {g(r, 2)}",
        lambda: f"+48 {r.choice('5678')}{g(r, 2)} {g(r, 3)} {g(r, 3)}",
    ])()
    return L("phone", f)


def phone_en(r):
    return r.choice([ph_us, ph_us, ph_us, ph_uk, ph_uk, ph_de, ph_fr, ph_jp, ph_intl, ph_intl,
                     ph_kr_mobile])(r)


def phone_ko(r):
    return r.choice([ph_kr_mobile] * 6 + [ph_kr_land] * 3 + [ph_jp, ph_intl, ph_us])(r)


PUBLIC_FIRST = [3, 13, 18, 34, 35, 43, 44, 52, 54, 58, 61, 66, 81, 91, 101, 104, 110, 112, 115,
                121, 125, 139, 141, 151, 162, 175, 178, 185, 188, 195, 203, 211, 218, 220, 222]


def ipv4_str(r, kind=None):
    kind = kind or r.choice(["priv10", "priv192", "priv172", "pub", "pub", "pub"])
    if kind == "priv10":
        return f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(2, 254)}"
    if kind == "priv192":
        return f"192.168.{r.choice([0, 1, 1, 10, 20, 35, 100, 219])}.{r.randint(2, 254)}"
    if kind == "priv172":
        return f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(2, 254)}"
    return f"{r.choice(PUBLIC_FIRST)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"


def ipv4(r, kind=None):
    return L("ip", ipv4_str(r, kind))


def ipv6(r):
    h = lambda: format(r.randint(1, 0xFFFF), "x")
    pre = r.choice(["2001:db8", "2406:da14", "2a02:6b8", "2600:1f18", "2404:6800", "2001:470",
                    "2a03:2880", "fd12:3456", "fe80:"])
    if pre == "fe80:":
        v = f"fe80::{h()}:{h()}:{h()}:{h()}"
    else:
        form = r.random()
        if form < 0.35:
            v = ":".join(pre.split(":") + [h() for _ in range(6)])
        elif form < 0.7:
            v = f"{pre}:{h()}::{h()}"
        else:
            v = f"{pre}::{h()}:{h()}"
    if r.random() < 0.1:
        v = v.upper()
    return L("ip", v)


def ip(r):
    return ipv6(r) if r.random() < 0.22 else ipv4(r)


def pw(r):
    w = r.choice(["Summer", "tiger", "Blue", "kimchi", "Qwerty", "dragon", "Pa55", "maple",
                  "hunter", "sunny", "Seoul", "coffee"])
    return w + rs(r, DIG, r.randint(2, 4)) + r.choice(["!", "", "", "$", "_x", "Zz", "*"])


def url_creds(r, host=None, scheme=None):
    scheme = scheme or r.choice(["postgres", "postgresql", "mysql", "mongodb", "redis", "amqp",
                                 "https", "ftp", "smtp"])
    port = {"postgres": 5432, "postgresql": 5432, "mysql": 3306, "mongodb": 27017, "redis": 6379,
            "amqp": 5672, "https": 443, "ftp": 21, "smtp": 587}[scheme]
    user = r.choice(["admin", "app", "deploy", "svc_api", "root", "jhkim", "etl_user", "grafana",
                     "backup", "mailer", "ci-bot", "report"])
    cred = f"{user}:{pw(r)}"
    if host is None:
        host = r.choice(["db.internal", "prod-db-01", "localhost", "mq.acme-corp.com",
                         "cluster0.ab12c.mongodb.net", "pg.brightwave.io", "redis-master",
                         "files.kontor-gmbh.de", "smtp.mailgun.org"])
    path = {"postgres": "/appdb", "postgresql": "/analytics", "mysql": "/shop", "mongodb": "/prod",
            "redis": "/0", "amqp": "/vhost", "https": "/repo/releases", "ftp": "/pub/",
            "smtp": ""}[scheme]
    pre = f"{scheme}://"
    spans = [(len(pre), len(pre) + len(cred), "url_credentials")]
    if isinstance(host, Lab):
        ht, hs = host
        base = len(pre) + len(cred) + 1
        spans += [(base + a, base + b, k) for a, b, k in hs]
    else:
        ht = host
    show_port = r.random() < 0.75 and scheme not in ("https",)
    url = f"{pre}{cred}@{ht}" + (f":{port}" if show_port else "") + path
    return Lab((url, spans))


B62_ = B62 + "-_"


def api_key(r, which=None):
    which = which or r.choice(["openai", "openai_proj", "anthropic", "ghp", "github_pat", "glpat",
                               "slack", "aws", "google", "stripe", "hf", "npm", "sendgrid", "do",
                               "shopify", "jwt", "ghp", "openai", "aws", "slack"])
    k = {
        "openai": lambda: "sk-" + rs(r, B62, 48),
        "openai_proj": lambda: "sk-proj-" + rs(r, B62_, 74) + "T3BlbkFJ" + rs(r, B62_, 74),
        "anthropic": lambda: "sk-ant-api03-" + rs(r, B62_, 93) + "AA",
        "ghp": lambda: r.choice(["ghp_", "gho_", "ghs_"]) + rs(r, B62, 36),
        "github_pat": lambda: "github_pat_11" + rs(r, UPAL, 20) + "_" + rs(r, B62, 59),
        "glpat": lambda: "glpat-" + rs(r, B62_, 20),
        "slack": lambda: r.choice(["xoxb-", "xoxp-"]) + nd(r, 11) + "-" + nd(r, 13) + "-"
        + rs(r, B62, 24),
        "aws": lambda: r.choice(["AKIA", "ASIA"]) + rs(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
        "google": lambda: "AIza" + rs(r, B62_, 35),
        "stripe": lambda: r.choice(["sk_live_", "rk_live_"]) + rs(r, B62, r.choice([24, 99])),
        "hf": lambda: "hf_" + rs(r, string.ascii_letters, 34),
        "npm": lambda: "npm_" + rs(r, B62, 36),
        "sendgrid": lambda: "SG." + rs(r, B62_, 22) + "." + rs(r, B62_, 43),
        "do": lambda: "dop_v1_" + rs(r, HEX, 64),
        "shopify": lambda: "shpat_" + rs(r, HEX, 32),
        "jwt": lambda: jwt(r),
    }[which]()
    return L("api_key", k)


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def jwt(r):
    head = b64url(json.dumps({"alg": r.choice(["HS256", "RS256"]), "typ": "JWT"},
                             separators=(",", ":")).encode())
    body = b64url(json.dumps({"sub": nd(r, 9), "iat": 1700000000 + r.randint(0, 30000000),
                              "scope": r.choice(["read", "read write", "admin"])},
                             separators=(",", ":")).encode())
    sig = b64url(bytes(r.randrange(256) for _ in range(32)))
    return f"{head}.{body}.{sig}"


def card_digits(r):
    kind = r.choice(["visa", "visa", "visa", "mc", "mc", "mc2", "amex", "jcb", "disc"])
    prefix, n = {"visa": ("4", 16), "mc": (str(r.randint(51, 55)), 16),
                 "mc2": (str(r.randint(2221, 2720)), 16), "amex": (r.choice(["34", "37"]), 15),
                 "jcb": (str(r.randint(3528, 3589)), 16), "disc": ("6011", 16)}[kind]
    body = prefix + rs(r, DIG, n - len(prefix) - 1)
    for c in DIG:
        if luhn_ok(body + c):
            return body + c


def card(r):
    d = card_digits(r)
    sep = r.choice([" ", " ", "-", "", "-"])
    if len(d) == 15:
        f = sep.join([d[:4], d[4:10], d[10:]])
    else:
        f = sep.join(d[i : i + 4] for i in range(0, 16, 4))
    return L("card", f)


IBAN_SPEC = {  # country: list of (alphabet, count)
    "DE": [(DIG, 18)], "FR": [(DIG, 10), (UPAL, 11), (DIG, 2)], "GB": [("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4), (DIG, 14)],
    "NL": [("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4), (DIG, 10)], "ES": [(DIG, 20)],
    "IT": [("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1), (DIG, 10), (UPAL, 12)], "CH": [(DIG, 5), (UPAL, 12)],
    "BE": [(DIG, 12)], "AT": [(DIG, 16)], "IE": [("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4), (DIG, 14)],
}


def iban_check(country, bban):
    s = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in s)
    return f"{98 - int(num) % 97:02d}"


def iban_valid(iban):
    s = iban.replace(" ", "")
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def iban(r, country=None):
    country = country or r.choice(list(IBAN_SPEC) + ["DE", "DE", "FR", "GB", "NL"])
    bban = "".join(rs(r, a, n) for a, n in IBAN_SPEC[country])
    v = country + iban_check(country, bban) + bban
    assert iban_valid(v)
    if r.random() < 0.6:
        v = " ".join(v[i : i + 4] for i in range(0, len(v), 4))
    return L("iban", v)


def rrn(r, hyphen=True):
    y = r.randint(55, 119)
    m = r.randint(1, 12)
    d = r.randint(1, 28)
    if y >= 100:
        yy, gd = y - 100, r.choice("34")
    else:
        yy, gd = y, r.choice("12")
    first = f"{yy:02d}{m:02d}{d:02d}{gd}{g(r, 5)}"
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    chk = (11 - sum(int(a) * b for a, b in zip(first, w)) % 11) % 10
    s = first + str(chk)
    return L("rrn", f"{s[:6]}-{s[6:]}" if hyphen else s)


def ssn(r):
    a = r.randint(1, 899)
    while a == 666:
        a = r.randint(1, 899)
    v = f"{a:03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"
    if r.random() < 0.12:
        v = v.replace("-", " ")
    return L("ssn", v)


# ---------------------------------------------------------------------------------------------
# Look-alikes (never labelled)
# ---------------------------------------------------------------------------------------------


def version(r):
    return r.choice([
        lambda: f"v{r.randint(0, 5)}.{r.randint(0, 30)}.{r.randint(0, 20)}",
        lambda: f"{r.randint(1, 3)}.{r.randint(0, 80)}.{r.randint(0, 9)}",
        lambda: f"10.0.{r.randint(19041, 22631)}.{r.randint(1000, 4200)}",
        lambda: f"12{r.randint(0, 5)}.0.{r.randint(6000, 6500)}.{r.randint(50, 230)}",
        lambda: f"{r.randint(1, 4)}.{r.randint(0, 20)}.{r.randint(0, 9)}-rc.{r.randint(1, 5)}",
        lambda: f"{r.randint(2019, 2024)}.{r.randint(1, 12)}.{r.randint(1, 4)}",
        lambda: f"1.{r.randint(70, 79)}.{r.randint(0, 2)}",
        lambda: f"3.{r.randint(8, 12)}.{r.randint(0, 15)}",
    ])()


def build_no(r):
    return r.choice([f"build {r.randint(1000, 99999)}", f"#{r.randint(100, 9999)}",
                     f"{r.randint(20230101, 20241231)}.{r.randint(1, 9)}",
                     f"22H2 (OS Build 1904{r.randint(1, 5)}.{r.randint(3000, 4300)})"])


def oid(r):
    return r.choice(["1.2.840.113549.1.1.11", "2.5.4.3", "2.5.29.17", "1.3.6.1.5.5.7.3.1",
                     f"1.3.6.1.4.1.{r.randint(300, 60000)}.{r.randint(1, 9)}.{r.randint(1, 30)}",
                     "1.3.6.1.2.1.1.3.0", "2.5.29.19", "1.2.840.10045.4.3.2"])


def section(r):
    return ".".join(str(r.randint(1, 12)) for _ in range(r.choice([2, 3, 3, 4])))


def date_en(r):
    y, m, d = r.randint(2019, 2025), r.randint(1, 12), r.randint(1, 28)
    mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m - 1]
    return r.choice([f"{y}-{m:02d}-{d:02d}", f"{mon} {d}, {y}", f"{d} {mon} {y}", f"{m}/{d}/{y}",
                     f"{d:02d}.{m:02d}.{y}", f"{d:02d}/{m:02d}/{y}"])


def date_ko(r):
    y, m, d = r.randint(2019, 2025), r.randint(1, 12), r.randint(1, 28)
    return r.choice([f"{y}년 {m}월 {d}일", f"{y}.{m:02d}.{d:02d}", f"{y}-{m:02d}-{d:02d}",
                     f"{m}월 {d}일", f"{y}. {m}. {d}.", f"{str(y)[2:]}.{m:02d}.{d:02d}"])


def time_(r):
    h, mi = r.randint(0, 23), r.choice([0, 0, 15, 30, 45, r.randint(0, 59)])
    return r.choice([f"{h:02d}:{mi:02d}", f"{(h % 12) or 12}:{mi:02d} {'AM' if h < 12 else 'PM'}",
                     f"{h:02d}:{mi:02d}:{r.randint(0, 59):02d}"])


def time_ko(r):
    h, mi = r.randint(1, 12), r.choice([0, 10, 20, 30, 40, 50])
    return f"{r.choice(['오전', '오후'])} {h}시" + (f" {mi}분" if mi else "")


def iso_ts(r):
    return (f"{r.randint(2023, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T"
            f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
            + r.choice(["Z", ".{:03d}Z".format(r.randint(0, 999)), "+09:00", "+00:00"]))


def log_ts(r):
    return (f"{r.randint(2023, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} "
            f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d},{r.randint(0, 999):03d}")


def epoch_ms(r):
    while True:
        s = str(r.randint(1600000000000, 1760000000000))
        if not luhn_ok(s):
            return s


def money_en(r):
    return r.choice([f"${r.randint(1, 2999):,}.{r.randint(0, 99):02d}", f"€{r.randint(5, 900)},{r.randint(0, 99):02d}",
                     f"£{r.randint(3, 1500)}.{r.randint(0, 99):02d}", f"USD {r.randint(10, 90000):,}",
                     f"¥{r.randint(300, 48000):,}", f"{r.randint(10, 5000)} EUR"])


def money_ko(r):
    return r.choice([f"{r.randint(1, 999) * 1000:,}원", f"₩{r.randint(10, 9999) * 100:,}",
                     f"{r.randint(1, 99)}만 {r.randint(1, 9)}천원", f"{r.randint(2, 500)}만원",
                     f"{r.randint(1000, 300000):,}원"])


def uuid_(r):
    h = rs(r, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{r.choice('89ab')}{h[17:20]}-{h[20:]}"


def sha(r, n=40):
    return rs(r, HEX, n)


def b64blob(r, n=24):
    return base64.b64encode(bytes(r.randrange(256) for _ in range(n))).decode()


def order_no(r):
    return r.choice([
        lambda: f"{r.randint(111, 114)}-{g(r, 7)}-{g(r, 7)}",
        lambda: f"ORD-{r.randint(2023, 2025)}-{g(r, 6)}",
        lambda: non_luhn_digits(r, 13, "12"),
        lambda: f"#{nd(r, 8)}",
        lambda: f"{r.randint(20240101, 20241231)}-{g(r, 7)}",
        lambda: f"PO-{g(r, 5)}/{r.randint(2023, 2025)}",
    ])()


def tracking(r):
    return r.choice([
        lambda: "1Z" + rs(r, UPAL, 6) + g(r, 10),
        lambda: nd(r, 12),
        lambda: "9400 1" + " ".join(g(r, 4) for _ in range(4)) + " " + g(r, 2),
        lambda: f"{r.choice(['JD', 'LX', 'RR', 'CP'])}{g(r, 9)}{r.choice(['KR', 'CN', 'DE', 'GB'])}",
        lambda: non_luhn_digits(r, 14, "5"),
    ])()


def pnr(r):
    return rs(r, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 6)


def invoice(r):
    return r.choice([f"INV-{r.randint(2023, 2025)}-{g(r, 5)}", f"RE{g(r, 8)}",
                     f"No. {r.randint(2023, 2025)}/{g(r, 4)}", f"F{r.randint(2023, 2025)}{g(r, 6)}"])


def sku(r):
    return r.choice([f"{rs(r, 'ABCDEFGHJKMNPRSTVWXYZ', 2)}-{g(r, 4)}-{r.choice(['BLK', 'WHT', 'NVY', 'GRY'])}-{r.choice('SMLX')}",
                     f"SM-S9{r.randint(11, 28)}N", f"B0{rs(r, UPAL, 8)}", f"MLX{g(r, 2)}KH/A",
                     f"{g(r, 3)}-{g(r, 3)}-{g(r, 2)}", f"P/N {g(r, 5)}-{rs(r, UPAL, 3)}"])


def isbn(r):
    while True:
        body = "97" + r.choice("89") + g(r, 9)
        s = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body))
        full = body + str((10 - s % 10) % 10)
        if r.random() < 0.5:
            return f"{full[:3]}-{full[3:5]}-{full[5:9]}-{full[9:12]}-{full[12]}"
        if not luhn_ok(full):
            return full


def placeholder_key(r):
    return r.choice(["YOUR_API_KEY", "sk-...", "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                     "<your-api-key>", "${OPENAI_API_KEY}", "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                     "AKIAXXXXXXXXXXXXXXXX", "xoxb-your-bot-token", "sk_live_...", "<TOKEN>",
                     "$GITHUB_TOKEN", "hf_****************", "your-secret-here", "REPLACE_ME",
                     "{{ secrets.NPM_TOKEN }}", "sk-proj-****"])


def masked_card(r):
    last = g(r, 4)
    return r.choice([f"**** **** **** {last}", f"****-****-****-{last}", f"ending in {last}",
                     f"xxxx-xxxx-xxxx-{last}", f"{r.choice(['4', '5'])}{g(r, 3)}-****-****-{last}",
                     f"•••• {last}"])


def brn(r):
    return f"{nd(r, 3)}-{g(r, 2)}-{g(r, 5)}"


def ext_room(r):
    return r.choice([f"ext. {nd(r, 4)}", f"Ext {nd(r, 3)}", f"x{nd(r, 4)}", f"room {r.randint(101, 950)}-{r.randint(1001, 2508)}",
                     f"Rm {r.randint(1, 9)}.{r.randint(10, 40)}", f"Suite {r.randint(100, 2400)}"])


def coord(r):
    return r.choice([f"{r.uniform(33, 38):.4f}, {r.uniform(126, 129.5):.4f}",
                     f"{r.uniform(33, 38):.5f}° N, {r.uniform(126, 129.5):.5f}° E",
                     f"({r.uniform(35, 52):.6f}, {r.uniform(-3, 140):.6f})"])


def filesize(r):
    return r.choice([f"{r.randint(1, 999)}K", f"{r.uniform(0.1, 9.9):.1f}G", f"{r.randint(1, 999)}M",
                     f"{r.randint(1000, 9999999):,} bytes", f"{r.uniform(1, 900):.1f} MB"])


def zoom_id(r):
    return f"{nd(r, 3)} {g(r, 4)} {g(r, 4)}"


def masked_phone(r):
    return r.choice([f"010-****-{g(r, 4)}", f"010-{nd(r, 2)}**-{g(r, 2)}**", f"***-***-{g(r, 4)}",
                     f"+82 10-****-{g(r, 4)}"])


def masked_rrn(r):
    return f"{r.randint(60, 99)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}-{r.choice('12')}******"


def postcode(r):
    return r.choice([g(r, 5), f"{nd(r, 5)}-{g(r, 4)}", "SW1A 2AA", "EC1V 9HX", "M1 1AE",
                     f"〒{nd(r, 3)}-{g(r, 4)}", f"750{r.randint(1, 20):02d}", f"10{r.randint(115, 999)}"])


def pick(r, xs):
    return r.choice(xs)


# ---------------------------------------------------------------------------------------------
# Templates. Each takes (r, pii) and returns a Lab; pii=False must produce no labelled span.
# ---------------------------------------------------------------------------------------------

T = []
KO_ONLY = {"ko_chat_contact", "ko_work_email", "ko_cv", "ko_delivery", "ko_card_issue",
           "ko_insurance_bank", "ko_travel", "ko_everyday_clean", "ko_dev_question", "ko_forms",
           "ko_tech_clean", "ko_misc_pii", "ko_notice_clean"}
EN_ONLY = {"en_chat_contact", "en_work_email", "en_cv", "en_shopping", "en_bank", "en_card_issue",
           "en_insurance", "en_travel", "en_everyday_clean", "git_log_authors",
           "mixed_contacts_intl", "en_misc_pii", "en_payroll"}


def tmpl(*modes):
    def reg(f):
        T.append((f, modes))
        return f

    return reg


def lang_of(f):
    return "ko" if f.__name__ in KO_ONLY else "en" if f.__name__ in EN_ONLY else "mix"


@tmpl("pii", "clean")
def en_chat_contact(r, pii):
    name = r.choice(EN_FIRST).title()
    if pii:
        return fill(r.choice([
            "hey it's ⟨n⟩ — new phone, old one died. save this: ⟨p⟩ 👍",
            "Can you text me when you land? My UK number is ⟨puk⟩ (the US one is off till Friday)",
            "btw my email changed, use ⟨e⟩ from now on. the old one's full of spam lol",
            "ok so plumber's number is ⟨p⟩, ask for ⟨n⟩. he quoted ⟨m⟩ for the sink",
            "Reminder: ⟨n⟩'s birthday dinner ⟨d⟩ at 7. RSVP to ⟨e⟩ or call ⟨p⟩",
            "if the door code doesn't work call me on ⟨p⟩ or ⟨p2⟩",
        ]), n=name, p=phone_en(r), p2=phone_en(r), e=email(r, False), m=money_en(r), d=date_en(r),
            puk=ph_uk(r))
    return fill(r.choice([
        "hey it's ⟨n⟩, running ~15 min late, train stuck at Oxford Circus. order me the 12oz flat white pls",
        "Meet at ⟨t⟩ outside room ⟨room⟩? The seminar moved to building 4, ⟨x⟩",
        "we owe ⟨n⟩ ⟨m⟩ for the cabin, split 4 ways that's like a quarter each",
        "door code is 4-7-1-9 then # and it's the 3rd floor, flat 3B. parking spot 112",
        "lol the score was 3-2 in extra time, 87' equaliser then 112' winner. what a game",
        "Got the tickets!! Row K seats 14-15, gate 7, doors at ⟨t⟩. ⟨d⟩",
    ]), n=name, t=time_(r), room=f"{r.randint(101, 950)}-{r.randint(1001, 2508)}", x=ext_room(r),
        m=money_en(r), d=date_en(r))


@tmpl("pii", "clean")
def ko_chat_contact(r, pii):
    n = r.choice(KO_NAMES)
    if pii:
        return fill(r.choice([
            "엄마 나 폰 바꿨어 번호 ⟨p⟩로 저장해줘~",
            "⟨n⟩ 연락처 ⟨p⟩ 이에요. 내일 오전에 전화 주신대요",
            "과외 선생님 번호: ⟨p⟩\n메일은 ⟨e⟩ 이고 수업은 화/목 ⟨t⟩",
            "혹시 급하면 ⟨p⟩(회사)나 ⟨p2⟩(개인)으로 연락주세요!",
            "모임 회비는 ⟨m⟩이고 정산은 ⟨e⟩로 영수증 보내주시면 돼요 ㅎㅎ",
            "인테리어 실장님 번호 ⟨p⟩ 입니다. 견적 ⟨m⟩ 나왔어요",
        ]), n=n, p=phone_ko(r), p2=ph_kr_mobile(r), e=email(r, False), t=time_ko(r), m=money_ko(r))
    return fill(r.choice([
        "나 지금 출발! ⟨t⟩쯤 도착할 듯. 주차는 B2 37번 칸에 할게",
        "⟨n⟩님 택배 경비실에 맡겨놨어요~ ⟨a⟩ 앞이에요",
        "오늘 회식 ⟨t⟩ 강남역 11번 출구 앞에서 봐요. 1인당 ⟨m⟩ 정도 예상",
        "ㅋㅋㅋ 어제 로또 번호 3, 11, 19, 24, 38, 42 였는데 하나도 안 맞음",
        "회의실 7층 702호로 변경됐습니다. 내선 ⟨ext⟩로 연락주세요",
        "엄마 나 ⟨d⟩에 내려갈게. KTX 101열차 5호차 12A석이야",
    ]), n=n, t=time_ko(r), a=f"{r.randint(101, 315)}동 {r.randint(1, 25)}{r.randint(1, 8):02d}호",
        m=money_ko(r), ext=nd(r, 4), d=date_ko(r))


@tmpl("pii", "clean")
def en_work_email(r, pii):
    name = r.choice(EN_NAMES)
    title = r.choice(["Senior Account Manager", "Engineering Lead", "HR Business Partner",
                      "Procurement Specialist", "Office Manager", "Data Scientist"])
    body = r.choice([
        "Hi team,\n\nPlease find attached the Q⟨q⟩ report (⟨inv⟩). The totals in section ⟨sec⟩ "
        "were revised after the ⟨d⟩ audit; net revenue is now ⟨m⟩.\n\n",
        "Hello,\n\nFollowing up on our call — the contract renewal (ref ⟨inv⟩) goes to legal on "
        "⟨d⟩. Clause ⟨sec⟩ still needs the updated SLA (99.95% uptime, 4h response).\n\n",
        "Hi all,\n\nReminder that the offsite is on ⟨d⟩. Budget per head is ⟨m⟩. "
        "Agenda v⟨v⟩ is in the shared drive.\n\n",
    ])
    if pii:
        sig = r.choice([
            "Best regards,\n⟨name⟩\n⟨title⟩\nT: ⟨p⟩ | M: ⟨p2⟩\n⟨e⟩",
            "Thanks,\n⟨name⟩ — ⟨title⟩\nDirect: ⟨p⟩\nEmail: ⟨e⟩",
            "Cheers,\n⟨name⟩\n⟨e⟩ · ⟨p⟩",
            "--\n⟨name⟩ | ⟨title⟩\nMobile ⟨p2⟩ | ⟨e⟩\nPlease reply to ⟨e2⟩ for invoices.",
        ])
    else:
        sig = r.choice([
            "Best regards,\n⟨name⟩\n⟨title⟩\nOffice: Building 2, ⟨x⟩ | Tel. ext. ⟨ext⟩",
            "Thanks,\n⟨name⟩ — ⟨title⟩\n(sent from my phone, excuse typos)",
            "Kind regards,\n⟨name⟩\n⟨title⟩\n1200 Market St, Suite ⟨suite⟩, San Francisco, CA ⟨zip⟩",
        ])
    return fill(body + sig, q=r.randint(1, 4), inv=invoice(r), sec=section(r), d=date_en(r),
                m=money_en(r), v=version(r), name=name, title=title, p=phone_en(r),
                p2=phone_en(r), e=email(r, True), e2=email(r, True), x=ext_room(r),
                ext=nd(r, 4), suite=r.randint(100, 2400), zip=f"941{g(r, 2)}")


@tmpl("pii", "clean")
def ko_work_email(r, pii):
    n = r.choice(KO_NAMES)
    body = r.choice([
        "안녕하세요, ⟨n⟩입니다.\n\n요청하신 견적서(⟨inv⟩) 첨부드립니다. 총 금액은 ⟨m⟩(VAT 별도)이며 "
        "납기는 ⟨d⟩입니다.\n\n",
        "팀장님 안녕하세요.\n\n⟨d⟩ 회의록 공유드립니다. 3.2절 일정 변경 건은 ⟨d2⟩까지 회신 부탁드립니다.\n\n",
        "수고 많으십니다.\n\n사업자등록번호 ⟨brn⟩ 기준으로 세금계산서 발행 부탁드립니다. 공급가액 ⟨m⟩.\n\n",
    ])
    if pii:
        sig = r.choice([
            "감사합니다.\n⟨n⟩ 드림\n㈜한빛소프트 개발팀 | 📞 ⟨p⟩ | ✉ ⟨e⟩",
            "⟨n⟩ 과장\n사무실 ⟨p⟩ / 휴대폰 ⟨p2⟩\n이메일: ⟨e⟩",
            "문의는 ⟨e⟩으로 주시거나 ⟨p2⟩로 전화 주세요.\n⟨n⟩ 올림",
        ])
    else:
        sig = r.choice([
            "감사합니다.\n⟨n⟩ 드림\n㈜한빛소프트 개발팀 (본관 5층 ⟨room⟩호, 내선 ⟨ext⟩)",
            "⟨n⟩ 대리 올림\n서울특별시 강남구 테헤란로 ⟨num⟩, ⟨fl⟩층 (우 ⟨zip⟩)",
        ])
    return fill(body + sig, n=n, inv=invoice(r), m=money_ko(r), d=date_ko(r), d2=date_ko(r),
                brn=brn(r), p=ph_kr_land(r), p2=ph_kr_mobile(r), e=email(r, True),
                room=r.randint(501, 520), ext=nd(r, 4), num=r.randint(100, 521),
                fl=r.randint(3, 22), zip=f"06{g(r, 3)}")


@tmpl("pii", "clean")
def python_traceback(r, pii):
    host = ip(r) if pii else r.choice(["db.internal", "localhost", "postgres", "redis-master"])
    pre = r.choice(["why does this fail?\n\n", "getting this after upgrading to ⟨v⟩:\n```\n",
                    "", "를 실행하면 이런 에러가 나요 ㅠㅠ\n```\n"])
    if pre.startswith("를"):
        pre = "python manage.py migrate" + pre
    tb = r.choice([
        "Traceback (most recent call last):\n  File \"/app/worker.py\", line ⟨ln⟩, in run\n"
        "    conn = psycopg2.connect(host=HOST, port=5432)\n  File \"/usr/lib/python3.11/site-packages/"
        "psycopg2/__init__.py\", line 122, in connect\npsycopg2.OperationalError: connection to "
        "server at \"⟨h⟩\", port 5432 failed: Connection timed out\n",
        "Traceback (most recent call last):\n  File \"main.py\", line ⟨ln⟩, in <module>\n"
        "    r = requests.get(url, timeout=3.5)\nrequests.exceptions.ConnectTimeout: "
        "HTTPConnectionPool(host='⟨h⟩', port=8080): Max retries exceeded with url: /v1/health "
        "(Caused by ConnectTimeoutError(<urllib3.connection.HTTPConnection object at 0x7f3a2c1b4d90>))\n",
        "  File \"/srv/app/cache.py\", line ⟨ln⟩, in get\n    return self.client.get(key)\n"
        "redis.exceptions.ConnectionError: Error 111 connecting to ⟨h⟩:6379. Connection refused.\n",
    ])
    post = "```" if pre.endswith("```\n") else ""
    return fill(pre + tb + post, v=version(r), h=host, ln=r.randint(12, 900))


@tmpl("pii", "clean")
def code_with_key(r, pii):
    key = api_key(r, r.choice(["openai", "openai_proj", "anthropic"])) if pii else placeholder_key(r)
    gh = api_key(r, r.choice(["ghp", "github_pat"])) if pii else placeholder_key(r)
    return fill(r.choice([
        "```python\nfrom openai import OpenAI\n\nclient = OpenAI(api_key=\"⟨k⟩\")\nresp = client.chat."
        "completions.create(model=\"gpt-4o-mini\", temperature=0.2, max_tokens=512,\n    messages=[{\"role\": "
        "\"user\", \"content\": prompt}])\n```\nwhy do I get 429 after ~60 requests?",
        "const headers = {\n  'Authorization': `token ⟨g⟩`,\n  'Accept': 'application/vnd.github+json',\n"
        "  'X-GitHub-Api-Version': '2022-11-28',\n};\n// fetch page 2 of /repos/org/app/issues?per_page=100",
        "이 코드에서 키를 어디에 넣어야 하나요?\n\nimport anthropic\nc = anthropic.Anthropic(api_key='⟨k⟩')\n"
        "msg = c.messages.create(model='claude-3-5-sonnet-20241022', max_tokens=1024, messages=m)",
        "$ export OPENAI_API_KEY=⟨k⟩\n$ python eval.py --n 200 --seed 42\nloaded 200 prompts in 0.83s",
    ]), k=key, g=gh)


@tmpl("pii", "clean")
def nginx_conf(r, pii):
    up1 = ipv4(r, r.choice(["priv10", "priv172", "priv192"])) if pii else "app1.internal"
    up2 = ipv4(r, r.choice(["priv10", "priv172"])) if pii else "app2.internal"
    allow = ipv4(r, "pub") if pii else "$trusted_ip"
    return fill(r.choice([
        "upstream backend {\n    server ⟨a⟩:8080 weight=3;\n    server ⟨b⟩:8080 max_fails=3 fail_timeout=30s;\n"
        "}\n\nserver {\n    listen 443 ssl http2;\n    server_name shop.example.com;\n    client_max_body_size 25m;\n"
        "    ssl_protocols TLSv1.2 TLSv1.3;\n    location /api/ {\n        proxy_pass http://backend;\n"
        "        proxy_read_timeout 120s;\n    }\n}\n",
        "nginx 설정인데 502 떠요\n\nlocation /admin {\n    allow ⟨c⟩;\n    deny all;\n    proxy_pass http://⟨a⟩:3000;\n"
        "    proxy_set_header X-Real-IP $remote_addr;\n}",
    ]), a=up1, b=up2, c=allow)


def access_line(r, client):
    method, path = r.choice([("GET", "/api/v1/items?page=2&limit=50"), ("POST", "/login"),
                             ("GET", "/static/js/main.8f3a1c.js"), ("GET", "/healthz"),
                             ("PUT", "/api/v2/cart/1093"), ("GET", "/wp-login.php")])
    ts = f"{r.randint(1, 28):02d}/{r.choice(['Mar', 'Apr', 'Oct'])}/2024:{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d} +0900"
    return fill(f"⟨c⟩ - - [{ts}] \"{method} {path} HTTP/1.1\" {r.choice([200, 200, 304, 404, 499, 502])} "
                f"{r.randint(0, 48000)} \"-\" \"{r.choice(['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0.6367.91', 'curl/8.4.0', 'python-requests/2.31.0', 'Go-http-client/1.1'])}\"",
                c=client)


@tmpl("pii", "clean")
def server_logs(r, pii):
    if pii:
        lines = [access_line(r, ip(r)) for _ in range(r.randint(2, 5))]
        head = r.choice(["who is hammering /login? last lines of access.log:\n",
                         "access.log 일부입니다. 이 IP 차단해야 할까요?\n", ""])
        if r.random() < 0.4:
            lines.append(fill("2024/03/12 10:15:32 [error] 2231#2231: *88412 upstream timed out (110: "
                              "Connection timed out) while reading response header from upstream, client: "
                              "⟨c⟩, server: _, upstream: \"http://⟨u⟩:8080/api\"", c=ip(r), u=ipv4(r, "priv10")))
        return join("", [head, join("\n", lines)])
    lines = []
    for _ in range(r.randint(3, 6)):
        lines.append(r.choice([
            f"{log_ts(r)} INFO  [http-nio-8080-exec-{r.randint(1, 20)}] c.a.o.OrderService - order {order_no(r)} created in {r.randint(3, 900)}ms",
            f"{log_ts(r)} WARN  [scheduler-1] HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta={r.randint(1, 5)}m{r.randint(1, 59)}s{r.randint(1, 999)}ms).",
            f"{iso_ts(r)} level=info msg=\"request done\" req_id={uuid_(r)} status=200 dur={r.uniform(0.1, 900):.2f}ms bytes={r.randint(100, 99999)}",
            f"{log_ts(r)} ERROR [main] o.s.b.SpringApplication - Application run failed: Port 8080 was already in use.",
            f"[{iso_ts(r)}] worker.{r.randint(1, 8)} processed batch {r.randint(1, 9999)}/{r.randint(10000, 20000)} (lr=3e-4, loss={r.uniform(0.1, 3):.4f})",
            f"{log_ts(r)} DEBUG cache hit ratio 0.{r.randint(10, 99)} keys={r.randint(1000, 99999)} mem={filesize(r)}",
        ]))
    return "\n".join(lines)


@tmpl("pii", "clean")
def docker_compose(r, pii):
    db = url_creds(r, host="db", scheme="postgres") if pii else "postgres://db:5432/app"
    key = api_key(r, r.choice(["stripe", "sendgrid", "openai"])) if pii else "${STRIPE_SECRET_KEY}"
    return fill(
        "version: \"3.9\"\nservices:\n  web:\n    image: ghcr.io/acme/web:⟨v⟩\n    ports:\n      - \"8080:80\"\n"
        "      - \"9229:9229\"\n    environment:\n      DATABASE_URL: ⟨db⟩\n      PAYMENT_KEY: ⟨k⟩\n"
        "      NODE_OPTIONS: --max-old-space-size=4096\n    depends_on: [db, redis]\n  db:\n"
        "    image: postgres:16.2-alpine\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n"
        "    volumes:\n      - pgdata:/var/lib/postgresql/data\n  redis:\n    image: redis:7.2.4\n"
        "volumes:\n  pgdata: {}\n", v=version(r).lstrip("v"), db=db, k=key)


@tmpl("pii", "clean")
def dotenv(r, pii):
    if pii:
        items = [
            fill("DATABASE_URL=⟨u⟩", u=url_creds(r, scheme=r.choice(["postgres", "mysql", "mongodb"]))),
            fill("OPENAI_API_KEY=⟨k⟩", k=api_key(r, "openai")),
            fill("SLACK_BOT_TOKEN=⟨k⟩", k=api_key(r, "slack")),
            fill("AWS_ACCESS_KEY_ID=⟨k⟩", k=api_key(r, "aws")),
            fill("HF_TOKEN=⟨k⟩", k=api_key(r, "hf")),
            fill("ADMIN_EMAIL=⟨e⟩", e=email(r, True)),
            fill("REDIS_HOST=⟨i⟩", i=ipv4(r, "priv10")),
            fill("GOOGLE_MAPS_KEY=⟨k⟩", k=api_key(r, "google")),
        ]
        r.shuffle(items)
        items = items[: r.randint(2, 5)]
    else:
        items = []
    items += ["PORT=3000", "NODE_ENV=production", f"LOG_LEVEL={r.choice(['info', 'debug', 'warn'])}",
              f"MAX_UPLOAD_MB={r.randint(5, 100)}", f"APP_VERSION={version(r)}",
              f"FEATURE_FLAGS=checkout_v2,search_beta", f"# example: API_KEY={placeholder_key(r)}",
              f"SESSION_TTL={r.randint(1, 72)}h", f"TZ=Asia/Seoul"]
    items = items[: r.randint(5, len(items))]
    r.shuffle(items)
    head = r.choice(["# .env.production\n", "", ".env 파일 이렇게 했는데 맞나요?\n\n", "my .env:\n```\n"])
    return join("", [head, join("\n", items)] + (["\n```"] if head.endswith("```\n") else []))


@tmpl("pii", "clean")
def kubeconfig(r, pii):
    server = fill("https://⟨i⟩:6443", i=ipv4(r)) if pii else "https://kubernetes.default.svc"
    tok = api_key(r, "jwt") if pii else "<service-account-token>"
    return fill(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"
        + b64blob(r, 30) + "\n    server: ⟨s⟩\n  name: prod-apne2\ncontexts:\n- context:\n    cluster: prod-apne2\n"
        "    namespace: payments\n    user: ci\n  name: prod\ncurrent-context: prod\nusers:\n- name: ci\n  user:\n"
        "    token: ⟨t⟩\n", s=server, t=tok)


@tmpl("pii", "clean")
def shell_session(r, pii):
    if pii:
        host = ip(r)
        return fill(r.choice([
            "$ ssh -i ~/.ssh/id_ed25519 ubuntu@⟨h⟩\nWelcome to Ubuntu 22.04.4 LTS (GNU/Linux 6.5.0-1014-aws x86_64)\n"
            "Last login: Tue Mar 12 09:41:07 2024 from ⟨h2⟩\nubuntu@ip-10-0-3-17:~$ df -h /\n"
            "Filesystem      Size  Used Avail Use% Mounted on\n/dev/root        97G   88G  9.1G  91% /",
            "$ curl -s -H \"Authorization: Bearer ⟨k⟩\" https://api.example.com/v1/me | jq .\n{\n  \"id\": ⟨id⟩,\n"
            "  \"plan\": \"pro\",\n  \"email\": \"⟨e⟩\"\n}",
            "$ ping -c 3 ⟨h⟩\nPING ⟨h⟩: 56 data bytes\n64 bytes from ⟨h⟩: icmp_seq=0 ttl=54 time=31.2 ms\n"
            "64 bytes from ⟨h⟩: icmp_seq=1 ttl=54 time=30.8 ms\n--- ping statistics ---\n3 packets transmitted, "
            "2 packets received, 33.3% packet loss",
            "$ git remote -v\norigin  ⟨u⟩ (fetch)\n$ git push origin main\nEverything up-to-date",
            "$ ip addr show eth0\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc mq state UP\n"
            "    link/ether 0a:3c:5e:91:d2:7f brd ff:ff:ff:ff:ff:ff\n    inet ⟨h4⟩/20 scope global dynamic eth0\n"
            "    inet6 ⟨h6⟩/64 scope link",
        ]), h=host, h2=ipv4(r, "pub"), k=api_key(r, r.choice(["jwt", "openai", "ghp", "glpat"])),
            id=nd(r, 6), e=email(r), u=url_creds(r, host="git.acme-corp.com", scheme="https"),
            h4=ipv4(r, "priv172"), h6=L("ip", f"fe80::{format(r.randint(1, 65535), 'x')}:{format(r.randint(1, 65535), 'x')}:fe{format(r.randint(0, 255), '02x')}:{format(r.randint(1, 65535), 'x')}"))
    return r.choice([
        f"$ cargo build --release\n   Compiling serde v1.0.{r.randint(180, 210)}\n   Compiling tokio v1.{r.randint(30, 40)}.0\n"
        f"   Compiling garden v0.{r.randint(1, 9)}.{r.randint(0, 9)} (/home/me/garden)\n    Finished `release` profile "
        f"[optimized] target(s) in {r.randint(20, 300)}.{r.randint(10, 99)}s",
        f"$ ls -lh dist/\ntotal {filesize(r)}\n-rw-r--r--  1 me  staff   {filesize(r)} Mar 12 10:02 app-{version(r).lstrip('v')}.tar.gz\n"
        f"-rw-r--r--  1 me  staff   {r.randint(1, 99)}K Mar 12 10:02 SHA256SUMS\n$ sha256sum app.tar.gz\n{sha(r, 64)}  app.tar.gz",
        f"$ docker ps\nCONTAINER ID   IMAGE          PORTS                    NAMES\n{sha(r, 12)}   nginx:1.25.4   "
        f"80/tcp, 443/tcp            web\n{sha(r, 12)}   redis:7.2.4    6379/tcp                 cache",
        f"$ python -V\nPython 3.{r.randint(8, 12)}.{r.randint(0, 9)}\n$ pip install torch=={r.randint(1, 2)}.{r.randint(0, 4)}.{r.randint(0, 3)}\n"
        f"Collecting torch\n  Downloading torch-2.3.1-cp311-cp311-manylinux1_x86_64.whl (779.1 MB)\n     ━━━━━━━━━━━━━━━━ 412.6/779.1 MB 48.2 MB/s eta 0:00:08",
        f"$ kubectl get pods -n payments\nNAME                         READY   STATUS    RESTARTS      AGE\napi-7d9f8b6c5-x2k4p   1/1     "
        f"Running   {r.randint(0, 9)} ({r.randint(1, 59)}m ago)   {r.randint(2, 40)}d\nworker-5c6d7-9qwrt   0/1     CrashLoopBackOff   "
        f"{r.randint(10, 99)}            {r.randint(1, 12)}h",
        f"$ uptime\n {time_(r)} up {r.randint(1, 400)} days,  {r.randint(1, 23)}:{r.randint(10, 59)},  2 users,  load average: "
        f"{r.uniform(0, 9):.2f}, {r.uniform(0, 9):.2f}, {r.uniform(0, 9):.2f}\n$ free -m\n               total        used        free\n"
        f"Mem:           {r.randint(7000, 64000)}        {r.randint(1000, 6000)}        {r.randint(100, 900)}",
    ])


@tmpl("pii", "clean")
def csv_snippet(r, pii):
    if pii:
        rows = ["id,name,email,phone,signup_date"]
        parts = [rows[0]]
        for i in range(r.randint(2, 5)):
            nm = r.choice(EN_NAMES + KO_NAMES)
            parts.append(fill("⟨i⟩,⟨n⟩,⟨e⟩,⟨p⟩,⟨d⟩", i=1000 + i * r.randint(1, 9), n=nm,
                              e=email(r), p=r.choice([phone_en, phone_ko])(r), d=f"2024-0{r.randint(1, 9)}-{r.randint(10, 28)}"))
        head = r.choice(["dedupe these by email pls:\n", "고객 목록 CSV 정리 좀 해줘\n", ""])
        return join("", [head, join("\n", parts)])
    rows = ["sku,name,qty,unit_price,ean"]
    for _ in range(r.randint(3, 6)):
        rows.append(f"{sku(r)},{r.choice(['Desk lamp', '머그컵 350ml', 'USB-C cable 2m', 'Notebook A5', '텀블러 500ml'])},"
                    f"{r.randint(1, 500)},{r.randint(1, 300)}.{r.randint(0, 99):02d},880{g(r, 10)}")
    return r.choice(["sum qty by sku?\n", "재고 CSV입니다\n", ""]) + "\n".join(rows)


@tmpl("pii", "clean")
def json_snippet(r, pii):
    if pii:
        return fill(r.choice([
            "{\n  \"user\": {\n    \"id\": ⟨id⟩,\n    \"name\": \"⟨n⟩\",\n    \"email\": \"⟨e⟩\",\n    \"phone\": \"⟨p⟩\",\n"
            "    \"last_ip\": \"⟨ip⟩\",\n    \"created_at\": \"⟨ts⟩\"\n  }\n}",
            "{\"event\":\"login_failed\",\"ip\":\"⟨ip⟩\",\"user\":\"⟨e⟩\",\"attempts\":⟨id2⟩,\"ts\":⟨ep⟩}",
            "[{\"name\":\"⟨n⟩\",\"contact\":\"⟨p⟩\"},{\"name\":\"⟨n2⟩\",\"contact\":\"⟨e⟩\"}]",
        ]), id=nd(r, 7), n=r.choice(EN_NAMES + KO_NAMES), n2=r.choice(KO_NAMES), e=email(r),
            p=r.choice([phone_en, phone_ko])(r), ip=ip(r), ts=iso_ts(r), id2=r.randint(3, 12), ep=epoch_ms(r))
    return r.choice([
        json.dumps({"order_id": order_no(r), "items": [{"sku": sku(r), "qty": r.randint(1, 4), "price": round(r.uniform(1, 300), 2)}],
                    "currency": "KRW", "shipping": {"carrier": "CJ", "tracking": tracking(r)}, "created": iso_ts(r)}, ensure_ascii=False, indent=2),
        json.dumps({"name": "garden-ui", "version": version(r).lstrip("v"), "dependencies": {"react": "^18.3.1", "vite": "5.2.11", "@types/node": "20.12.7", "lodash": "4.17.21"}}, indent=2),
        json.dumps({"id": uuid_(r), "model": "text-embedding-3-small", "dims": 1536, "usage": {"prompt_tokens": r.randint(10, 9000)}, "checksum": "sha256:" + sha(r, 64)}),
        json.dumps({"device": "sensor-" + g(r, 3), "lat": round(r.uniform(33, 38), 6), "lon": round(r.uniform(126, 129), 6), "temp_c": round(r.uniform(-10, 35), 1), "ts": int(epoch_ms(r))}),
    ])


@tmpl("pii", "clean")
def en_cv(r, pii):
    name = r.choice(EN_NAMES)
    contact = (fill("⟨e⟩ | ⟨p⟩ | linkedin.com/in/⟨slug⟩", e=email(r, False), p=phone_en(r), slug=name.lower().replace(" ", "-").replace("'", ""))
               if pii else f"London, UK · linkedin.com/in/{name.lower().replace(' ', '-').replace(chr(39), '')}")
    return fill(
        "⟨n⟩\n⟨c⟩\n\nEXPERIENCE\nSenior Backend Engineer, Brightwave (2021–present)\n- Cut p99 latency from 840 ms to 120 ms "
        "by moving hot paths to Rust 1.7x\n- Led migration of 14 services to Kubernetes 1.29; on-call for 3.2M MAU\n"
        "Software Engineer, Northwind (2017–2021)\n- Built billing pipeline processing £4.1M/month\n\nEDUCATION\nBSc Computer "
        "Science, 2:1, University of Leeds (2014–2017)\n\nSKILLS\nRust, Go, Python 3.12, PostgreSQL 16, AWS (SAA-C03)",
        n=name, c=contact)


@tmpl("pii", "clean")
def ko_cv(r, pii):
    n = r.choice(KO_NAMES)
    if pii:
        contact = fill(r.choice(["연락처: ⟨p⟩\n이메일: ⟨e⟩", "☎ ⟨p⟩ / ✉ ⟨e⟩", "휴대폰 ⟨p⟩, 메일 ⟨e⟩"]),
                       p=ph_kr_mobile(r), e=email(r, False))
    else:
        contact = f"거주지: 경기도 성남시 분당구\n희망연봉: 회사 내규에 따름"
    return fill(
        "이 력 서\n\n성명: ⟨n⟩ (⟨by⟩년생)\n⟨c⟩\n\n[학력]\n⟨y1⟩.03 ~ ⟨y2⟩.02  한국대학교 컴퓨터공학과 졸업 (학점 3.87/4.5)\n\n"
        "[경력]\n⟨y2⟩.03 ~ 현재  ㈜미래에듀 백엔드 개발 (Spring Boot 3.2, MySQL 8.0)\n - 결제 모듈 리팩토링으로 장애 건수 40% 감소\n\n"
        "[자격증]\n정보처리기사 (⟨y2⟩.11.24 취득), TOEIC 905점, SQLD",
        n=n, by=r.randint(1988, 2000), c=contact, y1=r.randint(2008, 2015), y2=r.randint(2016, 2020))


@tmpl("pii", "clean")
def en_shopping(r, pii):
    if pii:
        return fill(r.choice([
            "Your order ⟨o⟩ is out for delivery today. Driver: Marcus, ⟨p⟩. Tracking ⟨t⟩. "
            "Questions? Reply to this email or write to ⟨e⟩.",
            "Hi, I ordered a ⟨item⟩ (order ⟨o⟩) and got charged twice on my card ⟨c⟩. Can you refund one of the ⟨m⟩ charges?",
            "Return label for order ⟨o⟩ — ship to: Returns Dept, 48 Hilltop Rd, Leeds LS6 2QT. Contact ⟨p⟩ if the courier misses you.",
        ]), o=order_no(r), p=phone_en(r), t=tracking(r), e=email(r, False), item=r.choice(["kettle", "lamp", "hoodie"]),
            c=card(r), m=money_en(r))
    return fill(r.choice([
        "Order ⟨o⟩ confirmed! 2 × ⟨s⟩ @ ⟨m⟩. Estimated delivery ⟨d⟩. Paid with Visa ⟨mc⟩.",
        "Your package ⟨t⟩ was delivered at ⟨ti⟩ and left at the front door. Order ⟨o⟩ · ISBN ⟨isbn⟩",
        "Invoice ⟨inv⟩\nSubtotal ⟨m⟩\nShipping $4.99\nTax (8.875%) $11.02\nCard ⟨mc⟩\nASIN ⟨s⟩",
        "Price drop alert: ⟨s⟩ now ⟨m⟩ (was ⟨m2⟩). Coupon SAVE15 valid till ⟨d⟩. Free returns within 30 days.",
    ]), o=order_no(r), s=sku(r), m=money_en(r), m2=money_en(r), d=date_en(r), mc=masked_card(r), t=tracking(r),
        ti=time_(r), isbn=isbn(r), inv=invoice(r))


@tmpl("pii", "clean")
def ko_delivery(r, pii):
    if pii:
        return fill(r.choice([
            "[CJ대한통운] 고객님의 상품이 배송출발 하였습니다. 운송장 ⟨t⟩ / 배송기사 ⟨p⟩ (⟨ti⟩ 도착예정)",
            "[쿠팡] 주문번호 ⟨o⟩ 상품 배송 중 문제가 있어 연락드립니다. 담당자 ⟨p⟩로 연락 부탁드려요.",
            "당근 거래 감사합니다~ 입금 확인되면 택배 보내드릴게요. 문의는 ⟨p⟩ 문자주세요",
            "주문자: ⟨n⟩\n연락처: ⟨p⟩\n배송지: 서울시 마포구 월드컵로 ⟨num⟩, ⟨a⟩\n요청사항: 문 앞에 두고 벨X",
        ]), t=nd(r, 12), p=ph_kr_mobile(r), ti=time_ko(r), o=order_no(r), n=r.choice(KO_NAMES),
            num=r.randint(10, 300), a=f"{r.randint(101, 120)}동 {r.randint(1, 20)}0{r.randint(1, 6)}호")
    return fill(r.choice([
        "[CJ대한통운] 운송장번호 ⟨t⟩ 상품이 ⟨ti⟩에 배송완료 되었습니다. 수령인: 문앞 (연락처 ⟨mp⟩)",
        "[쿠팡] 주문번호 ⟨o⟩\n상품: 무선 청소기 (⟨s⟩) 1개\n결제금액 ⟨m⟩ (카드 ⟨mc⟩, 3개월 할부)\n도착예정 ⟨d⟩",
        "판매자 정보\n상호: 그린리프\n사업자등록번호: ⟨brn⟩\n통신판매업신고: 제2023-서울마포-⟨n4⟩호\n주소: 서울 마포구 (우 ⟨zip⟩)",
        "택배 보관함 ⟨box⟩번, 비밀번호 ⟨pin⟩ 입니다. ⟨d⟩까지 찾아가주세요.",
    ]), t=nd(r, 12), ti=time_ko(r), mp=masked_phone(r), o=order_no(r), s=sku(r), m=money_ko(r), mc=masked_card(r),
        d=date_ko(r), brn=brn(r), n4=g(r, 4), zip=f"0{r.randint(3, 9)}{g(r, 3)}", box=r.randint(1, 48), pin=g(r, 6))


@tmpl("pii", "clean")
def en_bank(r, pii):
    if pii:
        return fill(r.choice([
            "Please transfer the deposit (⟨m⟩) to:\nAccount holder: ⟨n⟩\nIBAN: ⟨i⟩\nBIC: DEUTDEFFXXX\nReference: ⟨inv⟩",
            "Hi, can you check if this IBAN is right? ⟨i⟩ — the bank app says invalid but it's from the invoice.",
            "Payment details for rent ⟨d⟩: ⟨i⟩ (⟨n⟩), amount ⟨m⟩, reference FLAT-3B.",
            "Sehr geehrte Damen und Herren,\nbitte überweisen Sie den Betrag von ⟨m⟩ auf folgendes Konto: ⟨i⟩ (BIC COBADEFFXXX).\n"
            "Bei Rückfragen erreichen Sie uns unter ⟨p⟩.",
            "Bonjour, voici mon RIB : ⟨i⟩. Merci de me rappeler au ⟨pf⟩.",
        ]), m=money_en(r), n=r.choice(EN_NAMES), i=iban(r), inv=invoice(r), d=date_en(r), p=ph_de(r), pf=ph_fr(r))
    return fill(r.choice([
        "Statement ⟨d⟩\nOpening balance €2,410.55\nCard ⟨mc⟩ — Tesco Stores 3912  £42.17\nDirect debit ref DD-⟨n6⟩ £650.00\nSort code 20-00-00 (branch)",
        "Your transfer of ⟨m⟩ (ref ⟨inv⟩) was sent on ⟨d⟩. SWIFT: NWBKGB2L. Expected arrival 1–2 business days.",
        "Loan quote: principal ⟨m⟩, APR 6.49%, term 60 months, monthly payment ≈ ⟨m2⟩. Quote ID ⟨u⟩.",
        "Our company EIN is 12-⟨ein⟩ and the invoice total is ⟨m⟩ net 30.",
    ]), d=date_en(r), mc=masked_card(r), n6=g(r, 6), m=money_en(r), m2=money_en(r), inv=invoice(r), u=uuid_(r), ein=g(r, 7))


@tmpl("pii")
def en_card_issue(r, pii):
    return fill(r.choice([
        "My card keeps getting declined at checkout. Card number ⟨c⟩, exp 0⟨mm⟩/2⟨yy⟩. What am I doing wrong?",
        "test payment form:\ncard_number = \"⟨c⟩\"\ncvc = \"⟨cvc⟩\"\n→ returns card_declined (decline_code: insufficient_funds)",
        "Billing address updated. New card on file: ⟨c⟩ (old one ⟨mc⟩ expired).",
    ]), c=card(r), mm=r.randint(1, 9), yy=r.randint(5, 9), cvc=g(r, 3), mc=masked_card(r))


@tmpl("pii")
def ko_card_issue(r, pii):
    return fill(r.choice([
        "결제가 자꾸 실패하는데 카드번호 ⟨c⟩ 맞게 입력한 거 맞죠? 유효기간 0⟨mm⟩/2⟨yy⟩",
        "카드 분실신고 하려고요. 카드번호는 ⟨c⟩이고 본인 연락처 ⟨p⟩입니다.",
        "해외결제 차단 해제 요청: 카드 ⟨c⟩, 생년월일 ⟨bd⟩",
    ]), c=card(r), mm=r.randint(1, 9), yy=r.randint(5, 9), p=ph_kr_mobile(r), bd=f"{r.randint(60, 99)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}")


@tmpl("pii", "clean")
def en_insurance(r, pii):
    if pii:
        return fill(r.choice([
            "CLAIM FORM\nPolicyholder: ⟨n⟩\nSSN: ⟨s⟩\nDOB: ⟨dob⟩\nPolicy #: ⟨pol⟩\nPhone: ⟨p⟩\nEmail: ⟨e⟩\nDate of loss: ⟨d⟩",
            "For the W-9 I need my SSN right? It's ⟨s⟩. Employer EIN is 12-⟨ein⟩.",
            "Dependent: Mia (age 7), SSN ⟨s⟩; spouse SSN ⟨s2⟩. Coverage tier: Family, deductible $3,000.",
        ]), n=r.choice(EN_NAMES), s=ssn(r), s2=ssn(r), dob=date_en(r), pol=f"HX-{g(r, 9)}", p=ph_us(r), e=email(r, False),
            d=date_en(r), ein=g(r, 7))
    return fill(r.choice([
        "Claim ⟨c⟩ update: approved amount ⟨m⟩ after deductible ($500). SSN on file: ***-**-⟨l4⟩. Payment in 5–7 business days.",
        "Policy HX-⟨pol⟩ renews ⟨d⟩. Premium ⟨m⟩/month. Section ⟨sec⟩ (water damage) excludes gradual leaks.",
        "Explanation of Benefits: CPT 99213, billed $185.00, allowed $112.40, you owe $30.00 (copay). Member ID W⟨mid⟩.",
    ]), c=f"CLM-{g(r, 8)}", m=money_en(r), l4=g(r, 4), pol=g(r, 9), d=date_en(r), sec=section(r), mid=g(r, 9))


@tmpl("pii", "clean")
def ko_insurance_bank(r, pii):
    if pii:
        return fill(r.choice([
            "보험금 청구서\n피보험자: ⟨n⟩\n주민등록번호: ⟨rrn⟩\n연락처: ⟨p⟩\n사고일자: ⟨d⟩\n청구금액: ⟨m⟩",
            "연말정산 부양가족 등록할 때 어머니 주민번호 ⟨rrn⟩ 넣으면 되나요? 제 거는 ⟨rrn2⟩에요",
            "가입자 정보 확인 부탁드립니다. 성명 ⟨n⟩, 주민등록번호 ⟨rrn⟩, 이메일 ⟨e⟩",
            "해외송금 받을 계좌예요\nIBAN: ⟨i⟩\nSWIFT: BNPAFRPPXXX\n수취인: ⟨n⟩",
            "실손보험 청구: ⟨n⟩ (⟨rrn⟩) 진료비 ⟨m⟩, 계좌로 입금 요청",
        ]), n=r.choice(KO_NAMES), rrn=rrn(r, r.random() < 0.85), rrn2=rrn(r), p=ph_kr_mobile(r), d=date_ko(r),
            m=money_ko(r), e=email(r, False), i=iban(r))
    return fill(r.choice([
        "보험계약 안내\n증권번호 L⟨pol⟩\n계약자 ⟨n⟩ (⟨mr⟩)\n월 보험료 ⟨m⟩\n납입기간 20년납 / 보장 100세 만기",
        "[KB국민카드] ⟨n⟩님 ⟨mc⟩ 승인 ⟨m⟩ 일시불 ⟨d⟩ ⟨ti⟩ 스타벅스 누적 ⟨m2⟩",
        "대출 상담 결과: 한도 ⟨m⟩, 금리 연 4.35%, 거치 1년 후 원리금균등 36개월. 상담번호 ⟨c⟩",
        "연말정산 결과 환급액 ⟨m⟩. 의료비 공제 ⟨m2⟩, 교육비 공제 ⟨m3⟩ 반영됨.",
    ]), pol=g(r, 10), n=r.choice(KO_NAMES), mr=masked_rrn(r), m=money_ko(r), m2=money_ko(r), m3=money_ko(r),
        mc=masked_card(r), d=date_ko(r), ti=time_(r), c=f"{r.randint(2023, 2025)}-{g(r, 6)}")


@tmpl("pii", "clean")
def en_travel(r, pii):
    base = ("Trip to Tokyo ⟨d⟩\n- Flight KE⟨fn⟩ ICN→NRT dep ⟨t1⟩, arr ⟨t2⟩ (booking ref ⟨pnr⟩, e-ticket 180-⟨tk⟩)\n"
            "- Hotel: Shinjuku Granbell, conf. #⟨conf⟩, check-in 15:00, 3 nights ¥⟨yen⟩\n"
            "- JR Pass 7-day, seat 7-12D on Nozomi 23\n")
    if pii:
        extra = r.choice(["- Hotel phone ⟨pj⟩, my contact for the agency: ⟨e⟩\n",
                          "- Emergency contact: Mom ⟨p⟩\n- Airbnb host Kenji ⟨pj⟩\n",
                          "- Travel insurance hotline ⟨p⟩, policy TI-⟨pol⟩\n- Passenger email ⟨e⟩\n"])
    else:
        extra = r.choice(["- Coordinates of the ramen place: ⟨co⟩\n", "- Budget: ⟨m⟩ total, ~¥12,000/day\n",
                          "- Gate closes 20 min before dep; terminal 2, counter H\n"])
    return fill(base + extra, d=date_en(r), fn=r.randint(1, 999), t1=time_(r), t2=time_(r), pnr=pnr(r), tk=g(r, 10),
                conf=nd(r, 9), yen=f"{r.randint(30, 120)},{r.randint(0, 9)}00", pj=ph_jp(r), e=email(r, False),
                p=phone_en(r), pol=g(r, 8), co=coord(r), m=money_en(r))


@tmpl("pii", "clean")
def ko_travel(r, pii):
    base = ("제주 여행 일정 (⟨d⟩~)\n✈️ 7C⟨fn⟩ 김포 ⟨t1⟩ 출발, 예약번호 ⟨pnr⟩\n🏨 숙소: 애월 오션뷰 펜션 (체크인 15:00)\n"
            "🚗 렌터카 예약번호 ⟨rc⟩, 보험 완전자차 ⟨m⟩\n")
    if pii:
        extra = r.choice(["펜션 사장님 ⟨p⟩\n렌터카 업체 ⟨pl⟩\n", "일행 연락처: ⟨n⟩ ⟨p⟩\n", "예약 확인 메일은 ⟨e⟩로 왔어요\n"])
    else:
        extra = r.choice(["맛집 좌표: ⟨co⟩\n", "총 예산 ⟨m⟩, 1인당 ⟨m2⟩\n", "성산일출봉 입장료 5,000원 / 일출 06:12\n"])
    return fill(base + extra, d=date_ko(r), fn=r.randint(101, 199), t1=time_(r), pnr=pnr(r), rc=f"JJ{g(r, 8)}",
                m=money_ko(r), m2=money_ko(r), p=ph_kr_mobile(r), pl=L("phone", f"064-{nd(r, 3)}-{g(r, 4)}"),
                n=r.choice(KO_NAMES), e=email(r, False), co=coord(r))


@tmpl("pii", "clean")
def medical(r, pii):
    if r.random() < 0.5:
        if pii:
            return fill(r.choice([
                "[서울치과] ⟨n⟩님 ⟨d⟩ ⟨t⟩ 스케일링 예약되었습니다. 변경은 ⟨p⟩로 연락주세요.",
                "병원 예약 확인\n환자: ⟨n⟩ (⟨rrn⟩)\n진료과: 정형외과\n일시: ⟨d⟩ ⟨t⟩\n문의 ⟨p⟩",
                "소아과 대기 ⟨q⟩번째. 순서 되면 ⟨pm⟩로 알림톡 옵니다",
            ]), n=r.choice(KO_NAMES), d=date_ko(r), t=time_ko(r), p=ph_kr_land(r), rrn=rrn(r), q=r.randint(2, 30),
                pm=ph_kr_mobile(r))
        return fill(r.choice([
            "[서울치과] ⟨n⟩님 ⟨d⟩ ⟨t⟩ 예약 안내드립니다. 등록번호 ⟨pid⟩, 2층 204호 진료실",
            "처방: 아목시실린 500mg 1일 3회 5일분, 이부프로펜 200mg 필요시. 본인부담금 ⟨m⟩",
            "건강검진 결과: 혈압 128/82 mmHg, 공복혈당 97 mg/dL, LDL 131, BMI 23.4. 재검 ⟨d⟩",
        ]), n=r.choice(KO_NAMES), d=date_ko(r), t=time_ko(r), pid=nd(r, 8), m=money_ko(r))
    if pii:
        return fill(r.choice([
            "Appointment confirmed: Dr. Hughes, ⟨d⟩ at ⟨t⟩. To reschedule call ⟨p⟩ or email ⟨e⟩.",
            "Patient intake\nName: ⟨n⟩\nDOB: ⟨dob⟩\nSSN: ⟨s⟩\nPhone: ⟨p⟩\nAllergies: penicillin",
        ]), d=date_en(r), t=time_(r), p=phone_en(r), e=email(r, True), n=r.choice(EN_NAMES), dob=date_en(r), s=ssn(r))
    return fill(r.choice([
        "Appointment confirmed: Dr. Hughes, ⟨d⟩ at ⟨t⟩, Room ⟨rm⟩, MRN ⟨mrn⟩. Please arrive 15 min early.",
        "Rx: metformin 500 mg twice daily, 90-day supply, 3 refills. BP 132/84, HbA1c 6.8%. Follow-up in 12 weeks.",
    ]), d=date_en(r), t=time_(r), rm=f"{r.randint(1, 6)}{r.randint(1, 40):02d}", mrn=nd(r, 8))


@tmpl("pii", "clean")
def school(r, pii):
    if r.random() < 0.55:
        if pii:
            return fill(r.choice([
                "[가정통신문] ⟨g⟩학년 ⟨c⟩반 현장체험학습 안내\n일시: ⟨d⟩ ⟨t⟩ 출발\n참가비: ⟨m⟩\n문의: 담임 ⟨n⟩ 선생님 (⟨p⟩, ⟨e⟩)",
                "학부모님께, 방과후 신청서는 ⟨e⟩로 보내주세요. 교무실 ⟨pl⟩",
            ]), g=r.randint(1, 6), c=r.randint(1, 9), d=date_ko(r), t=time_ko(r), m=money_ko(r), n=r.choice(KO_NAMES),
                p=ph_kr_mobile(r), e=email(r, True), pl=ph_kr_land(r))
        return fill(r.choice([
            "[가정통신문 제2024-⟨no⟩호] ⟨g⟩학년 ⟨c⟩반 학부모 상담주간 안내\n기간: ⟨d⟩~⟨d2⟩\n장소: 본관 3층 ⟨rm⟩호\n준비물: 없음",
            "수행평가 일정: 국어 ⟨d⟩ (20점), 수학 ⟨d2⟩ 단원평가 3-2단원, 영어 말하기 2분 이내",
        ]), no=g(r, 3), g=r.randint(1, 6), c=r.randint(1, 9), d=date_ko(r), d2=date_ko(r), rm=r.randint(301, 320))
    if pii:
        return fill("Dear parents,\nThe Year ⟨y⟩ trip to the science museum is on ⟨d⟩ (£⟨c⟩ per child). Reply slips to "
                    "⟨n⟩ at ⟨e⟩ or call the office on ⟨p⟩.", y=r.randint(3, 9), d=date_en(r), c=r.randint(5, 25),
                    n=r.choice(EN_NAMES), e=email(r, True), p=ph_uk(r))
    return fill("Dear parents,\nTerm 2 starts ⟨d⟩. Timetable: Period 1 08:45–09:40, lunch 12:20–13:05. Room 3.14 is the new "
                "maths room. Uniform order form code SCH-⟨c⟩.", d=date_en(r), c=g(r, 5))


@tmpl("pii", "clean")
def game_chat(r, pii):
    if pii:
        return fill(r.choice([
            "마크 서버 열었음 ㄱㄱ\n주소: ⟨ip⟩:25565\n버전 1.20.4 / 화이트리스트 디코로 닉 보내셈",
            "[Team] xX_Sniper_Xx: server ip is ⟨ip⟩ port 27015, pw is in discord\n[Team] noob123: ty",
            "valheim dedicated server up at ⟨ip⟩ (port 2456-2458 udp). ping me on ⟨e⟩ if it crashes",
            "랭겜 듀오 구함 디코 말고 카톡 ⟨p⟩ ㄱ",
        ]), ip=ip(r) if r.random() < 0.85 else ipv4(r), e=email(r, False), p=ph_kr_mobile(r))
    return r.choice([
        f"gg ez 16-4 lol. K/D/A {r.randint(0, 30)}/{r.randint(0, 15)}/{r.randint(0, 20)}, {r.randint(150, 400)} ADR",
        f"ㅋㅋ 방금 {r.randint(3, 9)}연승함. 티어 플래 {r.randint(1, 4)} → 다이아 4 LP {r.randint(0, 99)}",
        f"patch {r.randint(13, 14)}.{r.randint(1, 24)} notes: Q dmg 70/115/160/205/250 (+60% AP), cooldown 9/8.5/8/7.5/7s",
        f"server tick is 128, my ping {r.randint(10, 200)}ms, fps {r.randint(60, 400)} at 2560x1440. driver {r.randint(530, 560)}.{r.randint(10, 99)}",
        f"[System] Player Rogue_{g(r, 4)} joined (UUID {uuid_(r)}). World seed -{nd(r, 18)}",
        f"레이드 {time_ko(r)} 시작, 파티 4/8. 템렙 {r.randint(1600, 1680)}.{r.randint(0, 9)} 이상만",
    ])


@tmpl("clean")
def recipe(r, pii):
    return r.choice([
        f"Banana bread: 3 ripe bananas, 75 g melted butter, 150 g sugar, 1 egg, 1 tsp baking soda, 190 g flour. "
        f"Bake 175°C for {r.randint(50, 65)} min in a 23×13 cm tin. Serves 8, ~{r.randint(200, 320)} kcal/slice.",
        f"김치찌개 (2인분)\n- 신김치 300g, 돼지목살 200g, 두부 1/2모\n- 고춧가루 1큰술, 다진마늘 1작은술, 물 500ml\n"
        f"센불 5분 → 중불 {r.randint(15, 25)}분. 간은 국간장 1/2큰술",
        f"Sourdough: 500g flour, 350g water (70% hydration), 100g starter, 10g salt. Bulk 4–5h at 24°C, "
        f"cold proof 12–16h, bake 250°C 20 min lid on + 230°C {r.randint(20, 30)} min lid off.",
        f"팬케이크 반죽 비율 = 밀가루 200g : 우유 300ml : 계란 2개 : 설탕 30g. 1장당 약 {r.randint(80, 150)}kcal, 지름 12cm 기준 8장",
        f"Scale this recipe from 4 to 10 servings: 250 ml stock, 1.5 tbsp soy, 2/3 cup rice, 400 g chicken thighs.",
    ])


@tmpl("clean")
def math_hw(r, pii):
    a, b, c = r.randint(2, 9), r.randint(2, 30), r.randint(10, 99)
    return r.choice([
        f"Solve for x: {a}x + {b} = {c}. I got x = {(c - b) / a:.3f} but the answer key says something else?",
        f"이차방정식 x² - {a + b}x + {a * b} = 0 의 두 근을 구하시오. (답: x = {a}, {b})",
        f"Find the area: radius {a}.{b % 10} cm → A = πr² ≈ {3.14159 * (a + (b % 10) / 10) ** 2:.2f} cm²",
        f"문제 3-2) 등차수열 {a}, {a + b}, {a + 2 * b}, ... 의 제 {c}항은? a_n = {a} + (n-1)×{b} 이므로 {a + (c - 1) * b}",
        f"Compute {nd(r, 6)} × {nd(r, 5)} and round to 3 significant figures. Also what is 2^{r.randint(20, 40)}?",
        f"log₂(1024) = 10, log₁₀(0.001) = -3, and 1.2.3 in the textbook means chapter 1, section 2, exercise 3.",
        f"Matrix [[{a}, {b}], [{c}, 1]] determinant = {a} - {b * c} = {a - b * c}. Eigenvalues?",
        f"Probability of at least one six in {a} rolls: 1 - (5/6)^{a} ≈ {1 - (5 / 6) ** a:.4f}",
        f"확률과 통계 p.{r.randint(10, 250)} 예제 {r.randint(1, 9)}-{r.randint(1, 12)}: 표준편차 σ = {r.uniform(1, 9):.2f}, 평균 μ = {r.randint(50, 90)}",
    ])


@tmpl("clean")
def tech_lookalikes(r, pii):
    return fill(r.choice([
        "Upgraded Chrome to ⟨v⟩ on Windows ⟨w⟩ and now the extension crashes. manifest_version 3, minimum_chrome_version \"120\"",
        "openssl x509 output:\n    Signature Algorithm: sha256WithRSAEncryption (⟨oid⟩)\n    X509v3 Subject Alternative Name (2.5.29.17):\n"
        "        DNS:api.example.com, DNS:*.example.com\n    Serial Number: ⟨ser⟩",
        "SNMP walk: iso.⟨oid2⟩ = Timeticks: (⟨tt⟩) 4 days, 2:13:05.41",
        "RFC 7231 §⟨sec⟩ says a 303 must be followed with GET. Also see section ⟨sec2⟩ of the spec.",
        "firewall: allow tcp ports 22, 80, 443, 8000-8100, 9090; udp 51820. MTU 1420. keepalive 25s.",
        "docker pull nginx@sha256:⟨sha⟩  # pin 1.25.4-alpine",
        "git log --oneline\n⟨h1⟩ fix: off-by-one in pager (#⟨pr⟩)\n⟨h2⟩ chore: bump tokio to 1.37.0\n⟨h3⟩ feat: export csv",
        "Which is faster? UUIDv4 ⟨u⟩ vs ULID 01HV⟨ul⟩ as primary key in Postgres 16.2",
        "base64 of the payload is ⟨b⟩ — decodes to garbage, is it gzip?",
        "Build ⟨bn⟩ failed: test_parse_ipv4 expected Err for \"256.1.1.1\" and \"1.2.3\" but got Ok",
        "The config key is `api_key: ⟨ph⟩` — replace it with your own before running `make deploy`.",
        "npm i lodash@4.17.21 @types/node@20.12.7 --save-exact  // node 20.12.2, npm 10.5.0",
        "MAC 3c:22:fb:⟨m1⟩:⟨m2⟩:07 keeps reconnecting, DHCP lease 86400s, channel 149 (5745 MHz)",
        "Kafka consumer lag on partition 7 is ⟨lag⟩, offset ⟨off⟩. retention.ms=604800000, segment.bytes=1073741824",
        "In C++ `std::chrono::duration<double>` vs `std::chrono::milliseconds` — output 12:30:45.123 looks wrong",
    ]), v=version(r), w=f"10.0.{r.randint(19041, 22631)}.{r.randint(1000, 4200)}", oid="1.2.840.113549.1.1.11",
        ser=":".join(rs(r, HEX, 2) for _ in range(16)), oid2=oid(r), tt=r.randint(100000, 99999999), sec=section(r),
        sec2=section(r), sha=sha(r, 64), h1=sha(r, 7), h2=sha(r, 7), h3=sha(r, 7), pr=r.randint(100, 2999),
        u=uuid_(r), ul=rs(r, "0123456789ABCDEFGHJKMNPQRSTVWXYZ", 22), b=b64blob(r, r.choice([18, 27, 45])),
        bn=build_no(r), ph=placeholder_key(r), m1=rs(r, HEX, 2), m2=rs(r, HEX, 2), lag=r.randint(0, 90000),
        off=nd(r, 10))


@tmpl("clean")
def ko_everyday_clean(r, pii):
    return fill(r.choice([
        "관리비 고지서 ⟨d⟩: 일반관리비 ⟨m⟩, 전기 ⟨kwh⟩kWh ⟨m2⟩, 수도 12㎥. 납부기한 25일. 고객번호 ⟨cust⟩",
        "이사 견적: 32평 → 25평, 5톤 2대, ⟨m⟩. ⟨a⟩에서 ⟨d⟩ 오전 8시 출발",
        "아이폰 15 Pro 256GB 자급제 ⟨m⟩, 모델명 MTV⟨mc⟩KH/A, 일련번호 F⟨ser⟩",
        "러닝 기록: 10.02km, 52:13, 평균 페이스 5'13\"/km, 심박 152bpm, 케이던스 172spm",
        "자동차 정기검사 ⟨d⟩까지. 차량번호 12가 ⟨car⟩, 주행거리 48,213km",
        "전세 계약: 보증금 3억 2천만원, 계약기간 ⟨d⟩~⟨d2⟩, 등기부등본 고유번호 ⟨reg⟩",
        "오늘 공부: 토익 LC 파트3 ⟨n⟩문제 중 ⟨k⟩개 맞음. 단어 DAY 17 (p.214~229)",
        "윈도우 업데이트 KB50⟨kb⟩ 설치 후 빌드 ⟨w⟩ 에서 블루스크린 0x0000007E",
        "주식 메모: 005930 삼성전자 72,300원 (+1.26%), 거래량 12,405,211주, PER 13.8",
        "공유기 설정 페이지 주소가 뭐였지? 관리자 비번 초기화 하려면 리셋 버튼 10초",
    ]), d=date_ko(r), d2=date_ko(r), m=money_ko(r), m2=money_ko(r), kwh=r.randint(120, 600), cust=nd(r, 10),
        a=f"{r.randint(101, 130)}동 {r.randint(1, 25)}0{r.randint(1, 4)}호", mc=g(r, 2), ser=rs(r, UPAL, 9),
        car=g(r, 4), reg=f"{g(r, 4)}-{g(r, 4)}-{g(r, 6)}", n=r.randint(30, 39), k=r.randint(15, 39),
        kb=g(r, 5), w=f"{r.randint(19041, 22631)}.{r.randint(1000, 4200)}")


@tmpl("clean")
def en_everyday_clean(r, pii):
    return fill(r.choice([
        "Electricity bill ⟨d⟩: 412 kWh @ 28.62p/kWh = ⟨m⟩, standing charge 53.35p/day. Account no. ⟨acc⟩, meter reading 04213.",
        "Car service booked ⟨d⟩ 08:30. Reg AB12 CDE, mileage 48,213, job card #⟨jc⟩. Estimate ⟨m⟩.",
        "Conference room 4B (capacity 12) booked ⟨t⟩–⟨t2⟩. Zoom: Meeting ID ⟨z⟩, Passcode ⟨pc⟩",
        "Package dims 40×30×20 cm, 3.2 kg, declared value ⟨m⟩. HS code 8471.30.0100.",
        "Flight UA⟨fn⟩ delayed 2h 15m; new departure ⟨t⟩ from gate B⟨gate⟩. Seat 23C. Confirmation ⟨pnr⟩.",
        "Running log: 5k in 24:37, splits 4:58/4:51/4:55/4:57/4:56, avg HR 161, VO2max est. 48.",
        "Our office is at 221B Baker Street, London NW1 6XE; reception is on the 2nd floor, ⟨x⟩.",
        "Library hold ready: \"Thinking, Fast and Slow\" ISBN ⟨isbn⟩, pick up by ⟨d⟩, locker 17.",
        "Timesheet week 14: Mon 7.5h, Tue 8h, Wed 6.25h, Thu 8h, Fri 4h = 33.75h @ ⟨m⟩/h",
        "Weather station at ⟨co⟩: 12.4°C, 1013.2 hPa, wind 14 km/h NW, humidity 71%.",
    ]), d=date_en(r), m=money_en(r), acc=nd(r, 10), jc=nd(r, 6), t=time_(r), t2=time_(r), z=zoom_id(r),
        pc=g(r, 6), fn=r.randint(100, 1999), gate=r.randint(1, 40), pnr=pnr(r), x=ext_room(r), isbn=isbn(r), co=coord(r))


@tmpl("pii", "clean")
def sql_results(r, pii):
    if pii:
        rows = [fill("| ⟨i⟩ | ⟨e⟩ | ⟨ip⟩ | ⟨d⟩ |", i=nd(r, 5), e=email(r), ip=ip(r), d=f"2024-0{r.randint(1, 9)}-1{r.randint(0, 9)}")
                for _ in range(r.randint(2, 4))]
        return join("\n", ["mysql> SELECT id, email, last_login_ip, last_login FROM users WHERE locked = 1;",
                           "+-------+-------+-------+------------+"] + rows + [f"{len(rows)} rows in set (0.0{r.randint(1, 9)} sec)"])
    rows = [f"| {r.randint(1, 99999)} | {sku(r)} | {r.randint(0, 900)} | {r.uniform(1, 999):.2f} |" for _ in range(r.randint(2, 5))]
    return "\n".join([f"postgres=# SELECT id, sku, stock, price FROM products WHERE stock < {r.randint(5, 50)};"] + rows
                     + [f"({len(rows)} rows)\nTime: {r.uniform(0.2, 90):.3f} ms"])


@tmpl("pii")
def git_log_authors(r, pii):
    n1, n2 = r.choice(EN_NAMES), r.choice(EN_NAMES)
    return fill("commit ⟨h1⟩\nAuthor: ⟨n1⟩ <⟨e1⟩>\nDate:   Tue Mar 12 10:41:07 2024 +0900\n\n    fix: handle empty cart (#⟨pr⟩)\n\n"
                "commit ⟨h2⟩\nAuthor: ⟨n2⟩ <⟨e2⟩>\nDate:   Mon Mar 11 18:02:55 2024 +0000\n\n    chore: bump version to ⟨v⟩\n"
                "\n    Co-authored-by: Bot <⟨e3⟩>",
                h1=sha(r), h2=sha(r), n1=n1, n2=n2, e1=email(r, True), e2=email(r, False), pr=r.randint(100, 999),
                v=version(r), e3=email(r, True))


@tmpl("pii")
def webhooks_tokens(r, pii):
    return fill(r.choice([
        "# .github/workflows/release.yml\n      - run: npm publish\n        env:\n          NODE_AUTH_TOKEN: ⟨npm⟩",
        "slack:\n  bot_token: ⟨sl⟩\n  channel: \"#alerts\"\n  mention: \"@oncall\"",
        "aws configure list\n      Name                    Value             Type    Location\n   access_key     ⟨aws⟩ shared-credentials-file\n"
        "       region           ap-northeast-2      config-file    ~/.aws/config",
        "gitlab-ci 에서 토큰 이거 쓰는데 권한 에러 나요: ⟨gl⟩ (scope: read_api)",
        "curl -X POST https://api.sendgrid.com/v3/mail/send -H 'Authorization: Bearer ⟨sg⟩' -H 'Content-Type: application/json' -d @mail.json",
        "DIGITALOCEAN_TOKEN=⟨do⟩ terraform apply -var region=sgp1",
        "shopify admin token ⟨sh⟩ 로 products.json 호출하면 401 떠요",
        "hf download meta-llama/Llama-3.1-8B --token ⟨hf⟩ --local-dir ./models",
    ]), npm=api_key(r, "npm"), sl=api_key(r, "slack"), aws=api_key(r, "aws"), gl=api_key(r, "glpat"),
        sg=api_key(r, "sendgrid"), do=api_key(r, "do"), sh=api_key(r, "shopify"), hf=api_key(r, "hf"))


@tmpl("pii")
def mixed_contacts_intl(r, pii):
    return fill(r.choice([
        "Contacts for the Berlin office move:\n- Facility mgr: ⟨pde⟩\n- Movers (Umzug Schmidt): ⟨pde2⟩\n- IT: ⟨e⟩",
        "Paris team: Claire ⟨pfr⟩, Julien ⟨pfr2⟩. Shared inbox ⟨e⟩.",
        "大阪の取引先: ⟨pjp⟩ (田中さん), FAX不可。メールは ⟨e⟩ まで",
        "Sydney supplier ⟨pi⟩; Singapore warehouse ⟨pi2⟩ (ask for Wei)",
        "UK solicitor: ⟨puk⟩, ref ⟨inv⟩; their email ⟨e⟩",
    ]), pde=ph_de(r), pde2=ph_de(r), e=email(r, True), pfr=ph_fr(r), pfr2=ph_fr(r), pjp=ph_jp(r), pi=ph_intl(r),
        pi2=ph_intl(r), puk=ph_uk(r), inv=invoice(r))


@tmpl("pii")
def ko_dev_question(r, pii):
    return fill(r.choice([
        "AWS EC2에 배포했는데 ⟨ip⟩:8080 으로 접속이 안돼요. 보안그룹 인바운드 8080 열었고 nginx 1.24.0 입니다",
        "스프링 application.yml 입니다\nspring:\n  datasource:\n    url: jdbc:mysql://⟨h⟩:3306/shop?serverTimezone=Asia/Seoul\n"
        "    username: shop\n    password: ${DB_PASSWORD}\n  mail:\n    username: ⟨e⟩",
        "몽고DB 연결 문자열 이거 맞나요? ⟨u⟩?retryWrites=true&w=majority",
        "서버 두 대 (⟨ip⟩, ⟨ip2⟩) 사이에 ping은 되는데 5432 포트만 막혀요",
        "IPv6 주소 ⟨v6⟩ 로 바인딩하면 EADDRNOTAVAIL 에러가 나는데 왜 그럴까요?",
    ]), ip=ipv4(r), ip2=ipv4(r, "priv10"), h=ipv4(r, "priv172"), e=email(r, True),
        u=url_creds(r, scheme="mongodb", host="cluster0.x1y2z.mongodb.net"), v6=ipv6(r))


@tmpl("pii")
def en_misc_pii(r, pii):
    return fill(r.choice([
        "Forwarding: \"From: ⟨n⟩ <⟨e⟩>\nSent: ⟨d⟩\nTo: ⟨e2⟩\nSubject: RE: Invoice ⟨inv⟩\"",
        "Whitelist request — please add ⟨ip⟩ and ⟨ip2⟩ to the VPN allowlist (ticket ⟨t⟩).",
        "New hire form: ⟨n⟩, start ⟨d⟩, SSN ⟨s⟩, direct deposit IBAN ⟨i⟩",
        "grafana datasource: ⟨u⟩ — dashboard 1860 shows no data since ⟨d⟩",
        "FTP creds for the printer vendor: ⟨uf⟩ (they only support passive mode, ports 50000-50100)",
        "Phone tree: Ops ⟨p⟩ → Security ⟨p2⟩ → Facilities ⟨p3⟩",
    ]), n=r.choice(EN_NAMES), e=email(r), e2=email(r, True), d=date_en(r), inv=invoice(r), ip=ip(r), ip2=ip(r),
        t=f"INC{g(r, 7)}", s=ssn(r), i=iban(r), u=url_creds(r, scheme=r.choice(["postgres", "mysql"]), host="metrics-db"),
        uf=url_creds(r, scheme="ftp", host=ipv4(r, "priv192")), p=phone_en(r), p2=phone_en(r), p3=phone_en(r))


@tmpl("pii", "clean")
def ko_forms(r, pii):
    n = r.choice(KO_NAMES)
    if pii:
        fields = [("이름", n), ("주민등록번호", rrn(r, r.random() < 0.8)), ("휴대폰", ph_kr_mobile(r)),
                  ("이메일", email(r, False)), ("자동이체 카드번호", card(r)), ("자택", ph_kr_land(r)),
                  ("직장 이메일", email(r, True))]
        keep = [fields[0]] + r.sample(fields[1:], r.randint(2, 4))
        head = r.choice(["[회원가입 정보 확인]\n", "통신사 명의변경 신청서\n", "청약 신청서 작성 내용 맞는지 봐줘\n",
                         "전입신고 위임장 초안\n", ""])
        sep = r.choice([": ", " : ", "\t", " - "])
        return join("", [head, join("\n", [join(sep, [k, v]) for k, v in keep])])
    return fill(r.choice([
        "[회원가입 정보 확인]\n이름: ⟨n⟩\n생년월일: ⟨bd⟩\n휴대폰: ⟨mp⟩\n주민등록번호: ⟨mr⟩\n결제카드: ⟨mc⟩",
        "청약 신청 내역\n공고번호 ⟨no⟩\n주택형 084.9712A\n신청일 ⟨d⟩\n접수번호 ⟨acc⟩\n당첨자 발표 ⟨d2⟩",
        "통신사 요금 청구서 ⟨d⟩\n기본료 ⟨m⟩ / 데이터 12.4GB 사용\n납부 계좌 자동이체 (⟨mc⟩)\n고객번호 ⟨acc⟩",
    ]), n=n, bd=f"{r.randint(1960, 2005)}.{r.randint(1, 12):02d}.{r.randint(1, 28):02d}", mp=masked_phone(r),
        mr=masked_rrn(r), mc=masked_card(r), no=f"{r.randint(2023, 2025)}00{g(r, 4)}", d=date_ko(r), d2=date_ko(r),
        acc=nd(r, 10), m=money_ko(r))


@tmpl("clean")
def ko_tech_clean(r, pii):
    return fill(r.choice([
        "리액트 ⟨v⟩에서 useEffect가 두 번 실행돼요. StrictMode 때문인가요? 노드는 20.12.2 입니다",
        "도커 이미지 용량이 ⟨fs⟩나 돼요. python:3.12-slim 으로 바꾸면 줄어들까요? 레이어 sha256:⟨h⟩",
        "포트 3000, 5173, 8080이 다 사용 중이래요. lsof -i :3000 결과 PID ⟨pid⟩",
        "파이썬 리스트 [3, 1, 4, 1, 5, 9, 2, 6] 정렬하면 시간복잡도 O(n log n) 맞나요?",
        "깃허브 액션 빌드 #⟨bn⟩ 실패: Error: Process completed with exit code 137 (메모리 7GB 초과)",
        "엑셀에서 =VLOOKUP(A2, 시트2!$A$1:$D$500, 4, FALSE) 하면 #N/A 떠요",
        "API 문서 예시에 Authorization: Bearer ⟨ph⟩ 라고 되어있는데 여기에 뭘 넣어요?",
        "안드로이드 빌드 versionCode ⟨vc⟩, versionName \"⟨v⟩\", minSdk 24, targetSdk 34",
        "맥북 M3 16GB에서 라마 8B 4bit 돌리면 토큰당 ⟨ms⟩ms 정도 나와요",
        "SQL 질문: SELECT COUNT(*) FROM orders WHERE created_at >= '⟨d⟩' 가 ⟨sec⟩초나 걸려요. 인덱스는 (user_id, created_at)",
    ]), v=version(r), fs=filesize(r), h=sha(r, 64), pid=r.randint(1000, 99999), bn=r.randint(100, 9999),
        ph=placeholder_key(r), vc=r.randint(100, 99999), ms=r.randint(20, 90),
        d=f"2024-{r.randint(1, 12):02d}-01", sec=r.randint(3, 60))


@tmpl("pii")
def ko_misc_pii(r, pii):
    return fill(r.choice([
        "친구가 대신 결제해달라고 카드번호 ⟨c⟩ 보내줬는데 이렇게 받아도 괜찮나요?",
        "관리자 페이지 접속 허용 IP ⟨ip⟩, ⟨ip2⟩ 추가 부탁드립니다 (요청자 ⟨e⟩)",
        "카톡으로 받은 배송지: 부산 해운대구 센텀중앙로 ⟨num⟩, 수령인 ⟨n⟩ ⟨p⟩",
        "미국 비자 신청서에 SSN 칸이 있는데 남편 거 ⟨s⟩ 적으면 돼요?",
        "⟨n⟩님 주민등록번호 ⟨rrn⟩ 로 조회하니 가입 이력이 없다고 나와요",
        "거래처 독일 계좌 ⟨i⟩ 로 ⟨m⟩ 송금했는데 아직 안 들어갔대요",
        "회사 메일 ⟨e⟩ 로 보낸 견적서 확인 부탁드려요. 급하면 ⟨p⟩",
        "서버 접속 정보 정리\nDB: ⟨u⟩\n관리 IP: ⟨ip⟩\n담당: ⟨e⟩",
    ]), c=card(r), ip=ipv4(r), ip2=ip(r), e=email(r), num=r.randint(10, 99), n=r.choice(KO_NAMES),
        p=ph_kr_mobile(r), s=ssn(r), rrn=rrn(r), i=iban(r, "DE"), m=money_ko(r),
        u=url_creds(r, scheme=r.choice(["mysql", "postgres"]), host="db.hanbit-soft.co.kr"))


@tmpl("pii", "clean")
def en_payroll(r, pii):
    if pii:
        return fill(r.choice([
            "Direct deposit form\nEmployee: ⟨n⟩\nSSN: ⟨s⟩\nEmail: ⟨e⟩\nStart date: ⟨d⟩\nSalary: ⟨m⟩/yr",
            "Contractor invoice ⟨inv⟩\nServices March: 64 h × €85 = €5,440.00\nVAT ID DE⟨vat⟩ (reverse charge)\n"
            "Please pay to IBAN ⟨i⟩ within 14 days.",
            "hey can you fill my W-4? name ⟨n⟩, SSN ⟨s⟩, filing status single, 0 dependents",
            "Please update my bank details for expenses: old IBAN ⟨i2⟩, new IBAN ⟨i⟩. Thanks, ⟨n⟩",
            "Background check consent: ⟨n⟩, DOB ⟨d⟩, SSN ⟨s⟩, phone ⟨p⟩",
        ]), n=r.choice(EN_NAMES), s=ssn(r), e=email(r), d=date_en(r), m=money_en(r), inv=invoice(r), vat=g(r, 9),
            i=iban(r), i2=iban(r), p=ph_us(r))
    return fill(r.choice([
        "Payslip ⟨d⟩: gross £3,250.00, tax £437.60, NI £212.10, pension 5% £162.50, net £2,437.80. Tax code 1257L. "
        "Employee no. ⟨emp⟩.",
        "Contractor invoice ⟨inv⟩: 64 h × €85 = €5,440.00. VAT ID DE⟨vat⟩. Payment terms 14 days. IBAN on file (ending ⟨l4⟩).",
        "401(k) contribution changed from 6% to 8% effective ⟨d⟩. Employer match 50% up to 6%. SSN ***-**-⟨l4⟩.",
    ]), d=date_en(r), emp=nd(r, 6), inv=invoice(r), vat=g(r, 9), l4=g(r, 4))


@tmpl("clean")
def ko_notice_clean(r, pii):
    return fill(r.choice([
        "[아파트 공지] ⟨d⟩ ⟨t⟩~ 승강기 정기점검. 101동~⟨dong⟩동 순차 진행, 약 40분 소요",
        "[주민센터] 여권 발급 완료 안내. 접수번호 ⟨acc⟩, 수령 시 신분증 지참. 평일 09:00~18:00",
        "[헬스장] 회원번호 ⟨mem⟩ 이용권 ⟨d⟩ 만료 예정. 재등록 시 3개월 ⟨m⟩",
        "[학원] ⟨n⟩ 학생 ⟨d⟩ 모의고사 결과: 국어 ⟨s1⟩점(2등급), 수학 ⟨s2⟩점, 영어 1등급. 백분위 94.3",
        "[도서관] 『데미안』 (ISBN ⟨isbn⟩) 반납 예정일 ⟨d⟩. 연체료 1일 100원",
        "[분리수거] 매주 화·금 ⟨t⟩ 이후. 음식물 종량제 칩 3L 기준 ⟨m⟩",
    ]), d=date_ko(r), t=time_ko(r), dong=r.randint(103, 115), acc=f"{r.randint(2023, 2025)}-{g(r, 6)}",
        mem=nd(r, 7), m=money_ko(r), n=r.choice(KO_NAMES), s1=r.randint(70, 100), s2=r.randint(60, 100),
        isbn=isbn(r))


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

GROUPED = re.compile(r"(?<![\d])\d+(?:[ -]\d+)+(?![\d])")
RUN = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def outside(spans, a, b):
    return all(b <= s or a >= e for s, e, _ in spans)


def ok(rec):
    text, spans = rec
    for s, e, k in spans:
        if not (0 <= s < e <= len(text)):
            return False
        if k == "card" and not luhn_ok(re.sub(r"\D", "", text[s:e])):
            return False
        if k == "iban" and not iban_valid(text[s:e]):
            return False
    for m in RUN.finditer(text):
        if outside(spans, m.start(), m.end()) and luhn_ok(m.group()):
            return False
    for m in GROUPED.finditer(text):
        d = re.sub(r"\D", "", m.group())
        if 13 <= len(d) <= 19 and outside(spans, m.start(), m.end()) and luhn_ok(d):
            return False
        # every 13-19 digit sub-window of consecutive groups
        groups = re.findall(r"\d+", m.group())
        for i in range(len(groups)):
            acc = ""
            for j in range(i, len(groups)):
                acc += groups[j]
                if 13 <= len(acc) <= 19 and luhn_ok(acc) and outside(spans, m.start(), m.end()):
                    return False
    # spans must not overlap
    ss = sorted(spans)
    return all(ss[i][1] <= ss[i + 1][0] for i in range(len(ss) - 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=30303)
    ap.add_argument("--n", type=int, default=700)
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    r = random.Random(a.seed)
    pii_t = [f for f, m in T if "pii" in m]
    clean_t = [f for f, m in T if "clean" in m]
    recs = []
    rejected = 0
    seen = set()
    n_clean = round(a.n * 0.45)
    plan = [False] * n_clean + [True] * (a.n - n_clean)
    r.shuffle(plan)
    for want_pii in plan:
        for _ in range(50):
            group = r.choices(["ko", "en", "mix"], weights=[0.42, 0.3, 0.28])[0]
            f = r.choice([t for t in (pii_t if want_pii else clean_t) if lang_of(t) == group])
            rec = f(r, want_pii)
            if not isinstance(rec, Lab):
                rec = Lab((rec, []))
            if ok(rec) and (bool(rec[1]) == want_pii) and rec[0] not in seen:
                seen.add(rec[0])
                break
            rejected += 1
        else:
            raise SystemExit(f"could not generate a valid record with {f.__name__}")
        recs.append(rec)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as fh:
        for text, spans in recs:
            fh.write(json.dumps({"text": text, "spans": [{"start": s, "end": e, "kind": k}
                                                         for s, e, k in sorted(spans)]},
                                ensure_ascii=False) + "\n")
    print(f"wrote {len(recs)} records to {os.path.normpath(a.out)} ({rejected} regenerated)")


if __name__ == "__main__":
    main()
