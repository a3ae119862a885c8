#!/usr/bin/env python3
"""Writes a second independent labelled PII corpus: garden-core/tests/data/pii/blind2.jsonl.

Usage: bench/pii/make_blind2_corpus.py [--seed N] [--n N] [--out FILE]

Written blind: its author never read the scrubber's code, the other corpora or their templates;
only the record shape and span convention were taken from garden-core/tests/pii_corpus.rs and the
header of bench/pii/make_corpus.py. Nothing here was tuned against the scrubber.

Each output line is {"text": "...", "spans": [{"start", "end", "kind"}]}, offsets in Unicode code
points (Python string indices). Kinds: email, phone, ip, url_credentials (only the `user:pass`
part of a URL; a host that is an IP address is labelled `ip` separately), api_key, card, rrn, ssn,
iban. About half the texts are English and half Korean; a bit over 40% carry no PII at all but are
full of look-alikes (versions, OIDs, dates, amounts, order numbers, hashes, placeholders, ...).

Labelling decisions:
- Only the value itself is labelled: no surrounding quotes, brackets, `mailto:`, ports (`:8080`),
  CIDR suffixes, Korean particles (`…이고`, `…로`) or punctuation.
- IPv4/IPv6 addresses are labelled whether public, private, link-local or unique-local; loopback
  and 0.0.0.0 are never used (in either labelled or clean texts).
- A URL whose password is itself a token (`https://oauth2:glpat-…@gitlab.com`) gets one
  url_credentials span over `user:token`; a URL that carries only a token as user
  (`https://ghp_…@github.com`) gets an api_key span.
- AWS secret access keys (40 chars, no prefix) next to an AKIA id are labelled api_key.
- Korean RRNs: valid dates and gender digits 1-4; most carry the pre-2020 check digit, about one
  in five has a random last digit (numbers issued since Oct 2020 have no check digit).
- Negatives include masked values (`010-****-5678`, `5412-75**-****-1234`), Korean business
  registration numbers (123-45-67890, public business data), four-part version strings and OIDs
  whose parts are all <= 255, and placeholder secrets (sk-your-key-here, ghp_XXXX…).
- Every unlabelled run of 13-19 digits (also across single spaces, dashes or dots) fails Luhn;
  no unlabelled text has the shape of an SSN, an RRN or a Korean mobile number.

Python 3 standard library only; deterministic for a given seed.
"""

import argparse
import datetime
import json
import os
import random
import re
import string

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

B62 = string.ascii_letters + string.digits
B64 = B62 + "+/"
B64URL = B62 + "-_"
HEXL = "0123456789abcdef"
DIG = string.digits
UP = string.ascii_uppercase


def rs(r, alphabet, n):
    return "".join(r.choice(alphabet) for _ in range(n))


def luhn_ok(s):
    total = 0
    for i, ch in enumerate(reversed(s)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_fill(r, prefix, length):
    body = prefix + rs(r, DIG, length - len(prefix) - 1)
    for c in DIG:
        if luhn_ok(body + c):
            return body + c
    raise AssertionError


def L(kind, s):
    return s, [(0, len(s), kind)]


def U(s):
    return s, []


# ---------------------------------------------------------------------------------------------
# Names and filler
# ---------------------------------------------------------------------------------------------

EN_FIRST = ["James", "Maria", "Olivia", "Liam", "Noah", "Emma", "Ava", "Ethan", "Sophia", "Lucas",
            "Mia", "Harper", "Daniel", "Grace", "Henry", "Chloe", "Samuel", "Priya", "Arjun",
            "Fatima", "Omar", "Hannah", "Jonas", "Lena", "Mateo", "Camille", "Theo", "Isla",
            "Rachel", "Victor", "Nadia", "Derek", "Yusuf", "Elena", "Marcus", "Tessa"]
EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Martinez",
           "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Lee", "Walker", "Hall",
           "Young", "King", "Wright", "Lopez", "Hill", "Green", "Adams", "Baker", "Nelson",
           "Carter", "Mitchell", "Patel", "Schmidt", "Fischer", "Dubois", "Rossi", "Novak",
           "Okafor", "Nakamura", "Fernandes", "Kowalski"]
APOS_LAST = ["O'Brien", "O'Connor", "D'Angelo", "O'Neill", "D'Souza", "O'Hara"]
UNI_LOCAL = ["josé.garcía", "müller.k", "zoë", "françois.dupont", "søren.holm", "łukasz.nowak",
             "renée", "jürgen.weiß", "inés.peña", "björn", "noël.martin", "çağla"]
KO_SUR = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권",
          "황", "안", "송", "류", "홍"]
KO_GIVEN = ["민수", "지영", "서연", "도윤", "하은", "준호", "수빈", "예린", "현우", "지훈", "유진",
            "성민", "은지", "태양", "다은", "승현", "미정", "영호", "가은", "동현"]
KO_ROMAN = ["minsu", "jiyoung", "seoyeon", "doyun", "haeun", "junho", "subin", "yerin", "hyunwoo",
            "jihoon", "yujin", "sungmin", "eunji"]
KO_SUR_ROMAN = ["kim", "lee", "park", "choi", "jung", "kang", "cho", "yoon", "jang", "lim", "han"]
COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella Logistics", "Northwind Traders",
             "Blue Harbor Analytics", "Stark Components", "Hooli", "Vandelay Industries",
             "Pied Piper", "Brightline Health", "Kestrel Travel"]
KO_COMPANIES = ["한빛소프트", "새롬물산", "다온테크", "푸른바다여행사", "미래생명보험", "가온전자",
                "해솔디자인", "누리커머스", "별빛병원", "한결회계법인"]
CITIES = ["Berlin", "London", "Paris", "Austin", "Toronto", "Seoul", "Lisbon", "Dublin", "Munich",
          "Lyon", "Denver", "Singapore"]
KO_CITIES = ["서울", "부산", "대구", "인천", "광주", "대전", "울산", "수원", "성남", "제주"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.fr", "proton.me", "icloud.com",
           "acme-corp.com", "mail.acme-corp.com", "eng.globex.io", "support.initech.co.uk",
           "hr.brightline-health.org", "cs.uni-heidelberg.de", "web.de", "gmx.de", "orange.fr",
           "students.univ-lyon2.fr", "fastmail.fm", "northwind.example.net", "kestrel.travel",
           "stark-components.eu"]
KO_DOMAINS = ["naver.com", "daum.net", "hanmail.net", "kakao.com", "nate.com", "korea.kr",
              "snu.ac.kr", "mail.hanbitsoft.co.kr", "dev.daon-tech.kr", "miraelife.co.kr",
              "gaon-elec.com", "cs.nuri-commerce.co.kr"]


def g_first(r):
    return U(r.choice(EN_FIRST))


def g_name(r):
    last = r.choice(APOS_LAST) if r.random() < 0.1 else r.choice(EN_LAST)
    return U(f"{r.choice(EN_FIRST)} {last}")


def g_ko_name(r):
    return U(r.choice(KO_SUR) + r.choice(KO_GIVEN))


def g_company(r):
    return U(r.choice(COMPANIES))


def g_ko_company(r):
    return U(r.choice(KO_COMPANIES))


def g_city(r):
    return U(r.choice(CITIES))


def g_ko_city(r):
    return U(r.choice(KO_CITIES))


# ---------------------------------------------------------------------------------------------
# Labelled values
# ---------------------------------------------------------------------------------------------

TAGS = ["billing", "news", "github", "spam", "orders", "2024", "travel", "work", "jobs"]


def email_local(r, allow_apos=True, allow_unicode=True):
    f = r.choice(EN_FIRST).lower()
    l = r.choice(EN_LAST).lower()
    x = r.random()
    if x < 0.2:
        return f"{f}.{l}"
    if x < 0.3:
        return f"{f}_{l}"
    if x < 0.4:
        return f"{f[0]}{l}{r.randint(1, 99)}"
    if x < 0.52:
        return f"{f}.{l}+{r.choice(TAGS)}"
    if x < 0.58:
        return f"{f}+{r.choice(TAGS)}"
    if x < 0.64:
        return f"{f[0]}.{r.choice('abcdefghjkmnprstw')}.{l}"
    if x < 0.7:
        return f"{f.capitalize()}.{l.capitalize()}"
    if x < 0.78 and allow_apos:
        a = r.choice(APOS_LAST).lower()
        return r.choice([a, f"{f}.{a}", f"{a}.{f[0]}"])
    if x < 0.88 and allow_unicode:
        return r.choice(UNI_LOCAL)
    if allow_unicode and r.random() < 0.5:
        sur, giv = r.choice(KO_SUR), r.choice(KO_GIVEN)
        return r.choice([sur + giv, giv + "." + sur, sur + giv + str(r.randint(1, 99))])
    return f"{r.choice(KO_ROMAN)}.{r.choice(KO_SUR_ROMAN)}{r.choice(['', str(r.randint(80, 99))])}"


def g_email(r):
    dom = r.choice(DOMAINS) if r.random() < 0.7 else r.choice(KO_DOMAINS)
    if r.random() < 0.05:
        dom = dom.upper() if r.random() < 0.5 else dom.capitalize()
    return L("email", f"{email_local(r)}@{dom}")


def g_email_plain(r):
    dom = r.choice(DOMAINS) if r.random() < 0.7 else r.choice(KO_DOMAINS)
    return L("email", f"{email_local(r, allow_apos=False)}@{dom}")


def g_email_ko(r):
    x = r.random()
    if x < 0.35:
        sur, giv = r.choice(KO_SUR), r.choice(KO_GIVEN)
        local = r.choice([sur + giv, giv + "." + sur, sur + giv + str(r.randint(1, 99))])
    elif x < 0.85:
        local = (f"{r.choice(KO_ROMAN)}{r.choice(['.', '_', ''])}{r.choice(KO_SUR_ROMAN)}"
                 f"{r.choice(['', '', str(r.randint(70, 99))])}")
        if r.random() < 0.2:
            local += "+" + r.choice(TAGS)
    else:
        local = email_local(r)
    return L("email", f"{local}@{r.choice(KO_DOMAINS)}")


def nanp(r):
    return f"{r.randint(2, 9)}{r.randint(0, 8)}{r.randint(0, 9)}", \
        f"{r.randint(2, 9)}{rs(r, DIG, 2)}", rs(r, DIG, 4)


def g_phone_us(r):
    a, b, c = nanp(r)
    f = r.choice(["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}",
                  "+1-{a}-{b}-{c}", "+1 ({a}) {b}-{c}", "({a}) {b}-{c}", "{a}-{b}-{c}",
                  "1-{a}-{b}-{c}", "+1{a}{b}{c}"])
    return L("phone", f.format(a=a, b=b, c=c))


def g_phone_uk(r):
    x = r.random()
    if x < 0.45:
        v = f"07{r.randint(4, 9)}{rs(r, DIG, 2)} {rs(r, DIG, 6)}"
    elif x < 0.6:
        v = f"+44 7{r.randint(4, 9)}{rs(r, DIG, 2)} {rs(r, DIG, 6)}"
    elif x < 0.75:
        v = f"020 {r.randint(3, 8)}{rs(r, DIG, 3)} {rs(r, DIG, 4)}"
    elif x < 0.87:
        v = f"+44 (0)20 {r.randint(3, 8)}{rs(r, DIG, 3)} {rs(r, DIG, 4)}"
    else:
        v = f"0161 {r.randint(2, 9)}{rs(r, DIG, 2)} {rs(r, DIG, 4)}"
    return L("phone", v)


def g_phone_de(r):
    area = r.choice(["030", "089", "040", "069", "0221", "0711"])
    sub = f"{r.randint(2, 9)}{rs(r, DIG, r.choice([5, 6, 7]))}"
    x = r.random()
    if x < 0.45:
        v = f"{area} {sub}"
    elif x < 0.6:
        v = f"{area}/{sub}"
    elif x < 0.75:
        v = f"0{r.choice(['151', '160', '171', '176'])} {r.randint(1, 9)}{rs(r, DIG, 6)}"
    elif x < 0.9:
        v = f"+49 {area[1:]} {sub}"
    else:
        v = f"+49 (0){area[1:]} {sub}"
    return L("phone", v)


def g_phone_fr(r):
    pairs = " ".join(rs(r, DIG, 2) for _ in range(4))
    first = r.choice(["1", "2", "3", "4", "5", "6", "7", "9"])
    x = r.random()
    if x < 0.55:
        v = f"0{first} {pairs}"
    elif x < 0.7:
        v = f"0{first}.{pairs.replace(' ', '.')}"
    else:
        v = f"+33 {first} {pairs}"
    return L("phone", v)


def g_phone_kr(r):
    mid, end = f"{r.randint(2, 9)}{rs(r, DIG, 3)}", rs(r, DIG, 4)
    pre = r.choice(["010"] * 8 + ["011", "016"])
    f = r.choice(["{p}-{m}-{e}"] * 6 + ["{p} {m} {e}", "{p}{m}{e}", "{p}.{m}.{e}",
                                        "+82 10-{m}-{e}", "+82-10-{m}-{e}", "+82 10 {m} {e}"])
    return L("phone", f.format(p=pre, m=mid, e=end))


def g_phone_kr_land(r):
    area = r.choice(["02", "02", "031", "032", "051", "053", "042", "062", "064"])
    mid = f"{r.randint(2, 9)}{rs(r, DIG, r.choice([2, 3]))}"
    end = rs(r, DIG, 4)
    if r.random() < 0.85:
        v = f"{area}-{mid}-{end}"
    elif r.random() < 0.5:
        v = f"+82 {area[1:]}-{mid}-{end}"
    else:
        v = f"({area}) {mid}-{end}"
    return L("phone", v)


def g_phone_intl(r):
    x = r.randint(0, 13)
    v = [
        lambda: f"+44 20 {r.randint(3, 8)}{rs(r, DIG, 3)} {rs(r, DIG, 4)}",
        lambda: f"+49 30 {r.randint(2, 9)}{rs(r, DIG, 7)}",
        lambda: f"+33 6 {' '.join(rs(r, DIG, 2) for _ in range(4))}",
        lambda: f"+82 10-{r.randint(2, 9)}{rs(r, DIG, 3)}-{rs(r, DIG, 4)}",
        lambda: f"+82-2-{r.randint(2, 9)}{rs(r, DIG, 2)}-{rs(r, DIG, 4)}",
        lambda: f"+81 3-{r.randint(3, 6)}{rs(r, DIG, 3)}-{rs(r, DIG, 4)}",
        lambda: f"+81 90-{rs(r, DIG, 4)}-{rs(r, DIG, 4)}",
        lambda: f"+65 {r.choice('689')}{rs(r, DIG, 3)} {rs(r, DIG, 4)}",
        lambda: f"+61 4{rs(r, DIG, 2)} {rs(r, DIG, 3)} {rs(r, DIG, 3)}",
        lambda: f"+91 9{rs(r, DIG, 4)} {rs(r, DIG, 5)}",
        lambda: f"+86 13{r.randint(0, 9)} {rs(r, DIG, 4)} {rs(r, DIG, 4)}",
        lambda: f"+34 6{rs(r, DIG, 2)} {rs(r, DIG, 3)} {rs(r, DIG, 3)}",
        lambda: f"+31 6 {r.randint(1, 9)}{rs(r, DIG, 7)}",
        lambda: f"+{r.choice(['44', '49', '33', '82', '1'])}{r.randint(1, 9)}{rs(r, DIG, 9)}",
    ][x]()
    return L("phone", v)


def g_phone_eu(r):
    return r.choice([g_phone_uk, g_phone_de, g_phone_fr])(r)


def g_phone_any(r):
    return r.choice([g_phone_us, g_phone_uk, g_phone_de, g_phone_fr, g_phone_kr, g_phone_kr_land,
                     g_phone_intl])(r)


def ip4_priv(r):
    x = r.random()
    if x < 0.4:
        return f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    if x < 0.65:
        return f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    return f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"


def ip4_pub(r):
    while True:
        a = r.randint(1, 223)
        b = r.randint(0, 255)
        if a in (10, 127, 0) or (a == 172 and 16 <= b <= 31) or (a == 192 and b == 168) \
                or (a == 169 and b == 254) or (a == 100 and 64 <= b <= 127):
            continue
        return f"{a}.{b}.{r.randint(0, 255)}.{r.randint(1, 254)}"


def g_ip4(r):
    return L("ip", ip4_pub(r) if r.random() < 0.55 else ip4_priv(r))


def g_ip4_pub(r):
    return L("ip", ip4_pub(r))


def g_ip4_priv(r):
    return L("ip", ip4_priv(r))


def hex_group(r):
    return format(r.randint(0, 0xFFFF), "x")


def ip6(r):
    x = r.random()
    pre = r.choice(["2001:db8", "2a02:6b8", "2606:4700", "2404:6800:4004", "2a00:1450:4001",
                    "2001:4860:4860", "2600:1f18:24e6", "2a01:4f8:c17", "2406:da14:2c3"])
    if x < 0.2:
        v = ":".join(format(r.randint(0, 0xFFFF), "04x") for _ in range(8))
    elif x < 0.3:
        v = ":".join(hex_group(r) for _ in range(8))
    elif x < 0.65:
        n = 8 - len(pre.split(":"))
        tail = ":".join(hex_group(r) for _ in range(r.randint(1, min(3, n - 1))))
        v = f"{pre}::{tail}"
    elif x < 0.78:
        v = "fe80::" + ":".join(hex_group(r) for _ in range(4))
    elif x < 0.9:
        v = f"fd{rs(r, HEXL, 2)}:{hex_group(r)}:{hex_group(r)}:{r.randint(1, 99)}::{hex_group(r)}"
    elif x < 0.95:
        v = f"{pre}:{hex_group(r)}::{hex_group(r)}:{hex_group(r)}"
    else:
        v = f"::ffff:{ip4_pub(r)}"
    if r.random() < 0.1:
        v = v.upper()
    return v


def g_ip6(r):
    return L("ip", ip6(r))


def g_ip(r):
    return g_ip6(r) if r.random() < 0.3 else g_ip4(r)


USERS = ["admin", "deploy", "svc_backup", "root", "app", "jenkins", "grafana", "etl_reader",
         "analytics", "minsu.kim", "jdoe", "ci-bot", "replicator", "webapp", "guest", "ops"]


def password(r):
    x = r.random()
    if x < 0.3:
        return rs(r, B62, r.randint(10, 24))
    if x < 0.55:
        w = r.choice(["Summer", "Tiger", "Hunter", "Blue", "Spring", "Dragon", "Seoul", "Coffee"])
        return f"{w}{r.randint(10, 2099)}{r.choice(['!', '$', '', '*', '.'])}"
    if x < 0.75:
        return rs(r, B62 + "-_.~!*", r.randint(12, 28))
    if x < 0.9:
        return f"{rs(r, B62, 6)}%21{rs(r, B62, 6)}%40{rs(r, DIG, 2)}"
    return r.choice(["changeme", "hunter2", "P@ss".replace("@", "4") + "w0rd", "qwerty123",
                     "letmein!"])


HOSTS = ["db.internal.acme-corp.com", "pg-prod-01.eu-west-1.rds.amazonaws.com",
         "cache.globex.io", "mq.initech.local", "files.kestrel.travel", "cluster0.ab1cd.mongodb.net",
         "mysql.dev.daon-tech.kr", "ftp.northwind.example.net", "registry.hanbitsoft.co.kr",
         "smtp.mailgun.org", "rabbit.svc.cluster.local"]


def cred_url(r, scheme=None, host_ip=None):
    scheme = scheme or r.choice(["postgres", "postgresql", "mysql", "mongodb", "mongodb+srv",
                                 "redis", "amqp", "https", "http", "ftp", "sftp", "smtp"])
    user = r.choice(USERS)
    if r.random() < 0.05:
        user = f"{r.choice(KO_ROMAN)}%40{r.choice(KO_DOMAINS)}"
    cred = f"{user}:{password(r)}"
    spans = []
    pre = f"{scheme}://"
    spans.append((len(pre), len(pre) + len(cred), "url_credentials"))
    s = pre + cred + "@"
    if host_ip is None:
        host_ip = r.random() < 0.3 and scheme != "mongodb+srv"
    if host_ip:
        ip = ip4_priv(r) if r.random() < 0.7 else ip4_pub(r)
        spans.append((len(s), len(s) + len(ip), "ip"))
        s += ip
    else:
        s += r.choice(HOSTS)
    port = {"postgres": 5432, "postgresql": 5432, "mysql": 3306, "mongodb": 27017,
            "redis": 6379, "amqp": 5672, "ftp": 21, "sftp": 22, "smtp": 587}.get(scheme)
    if port and scheme != "mongodb+srv" and r.random() < 0.8:
        s += f":{port}"
    s += r.choice({"redis": ["/0", "/1", ""], "amqp": ["/%2F", "/vhost", ""],
                   "smtp": [""], "ftp": ["/pub/export/", "/"], "sftp": ["/upload"],
                   }.get(scheme, ["/app", "/orders?sslmode=require", "/analytics", "/",
                                  "/api/v2/export", "/admin?retryWrites=true&w=majority"]))
    return s, spans


def g_cred_url(r):
    return cred_url(r)


def g_db_url(r):
    return cred_url(r, scheme=r.choice(["postgres", "postgresql", "mysql", "mongodb"]))


def g_web_cred_url(r):
    return cred_url(r, scheme=r.choice(["https", "http", "ftp"]))


def key_openai(r):
    return f"sk-{rs(r, B62, 20)}T3BlbkFJ{rs(r, B62, 20)}" if r.random() < 0.6 \
        else f"sk-{rs(r, B62, 48)}"


def key_proj(r):
    return f"sk-proj-{rs(r, B64URL, r.choice([48, 74, 100, 132]))}"


def key_ghp(r):
    return f"ghp_{rs(r, B62, 36)}"


def key_ghpat(r):
    return f"github_pat_11{rs(r, UP + DIG, 20)}_{rs(r, B62, 59)}"


def key_xoxb(r):
    return f"xoxb-{rs(r, DIG, r.choice([11, 12, 13]))}-{rs(r, DIG, 13)}-{rs(r, B62, 24)}"


def key_xoxp(r):
    return (f"xoxp-{rs(r, DIG, 12)}-{rs(r, DIG, 12)}-{rs(r, DIG, 13)}-"
            f"{rs(r, HEXL, 32)}")


def key_aws(r):
    return "AKIA" + rs(r, UP + "234567", 16)


def aws_secret(r):
    return rs(r, B64, 40)


def key_sg(r):
    return f"SG.{rs(r, B64URL, 22)}.{rs(r, B64URL, 43)}"


def key_glpat(r):
    return f"glpat-{rs(r, B64URL, 20)}"


def key_stripe(r):
    return f"sk_live_{rs(r, B62, r.choice([24, 34, 99]))}"


def key_google(r):
    return f"AIza{rs(r, B64URL, 35)}"


KEYGENS = {"openai": key_openai, "proj": key_proj, "ghp": key_ghp, "ghpat": key_ghpat,
           "xoxb": key_xoxb, "xoxp": key_xoxp, "aws": key_aws, "sg": key_sg, "glpat": key_glpat,
           "stripe": key_stripe, "google": key_google}


def g_key(r):
    return L("api_key", KEYGENS[r.choice(list(KEYGENS))](r))


def kg(f):
    return lambda r: L("api_key", f(r))


def card_digits(r):
    x = r.randint(0, 9)
    if x <= 2:
        return luhn_fill(r, "4", 16)
    if x <= 4:
        return luhn_fill(r, r.choice(["51", "52", "53", "54", "55", str(r.randint(2221, 2720))]),
                         16)
    if x == 5:
        return luhn_fill(r, r.choice(["34", "37"]), 15)
    if x == 6:
        return luhn_fill(r, "6011", 16)
    if x == 7:
        return luhn_fill(r, str(r.randint(3528, 3589)), 16)
    if x == 8:
        return luhn_fill(r, "62", r.choice([16, 19]))
    return luhn_fill(r, "36", 14)


def fmt_card(r, d):
    sep = r.choice([" ", " ", "-", ""])
    if len(d) == 15:
        g = [d[:4], d[4:10], d[10:]]
    elif len(d) == 14:
        g = [d[:4], d[4:10], d[10:]]
    else:
        g = [d[i:i + 4] for i in range(0, len(d), 4)]
    return sep.join(g)


def g_card(r):
    return L("card", fmt_card(r, card_digits(r)))


def g_card_visa(r):
    return L("card", fmt_card(r, luhn_fill(r, "4", 16)))


def g_card_amex(r):
    return L("card", fmt_card(r, luhn_fill(r, r.choice(["34", "37"]), 15)))


IBAN_SPECS = {  # country: list of (kind, length), kind n=digit a=upper c=alnum upper
    "DE": [("n", 18)], "GB": [("a", 4), ("n", 14)], "FR": [("n", 23)], "ES": [("n", 20)],
    "IT": [("a", 1), ("n", 10), ("c", 12)], "NL": [("a", 4), ("n", 10)], "BE": [("n", 12)],
    "AT": [("n", 16)], "CH": [("n", 5), ("c", 12)], "PL": [("n", 24)], "SE": [("n", 20)],
    "IE": [("a", 4), ("n", 14)], "PT": [("n", 21)], "NO": [("n", 11)], "DK": [("n", 14)],
    "FI": [("n", 14)],
}
GB_BANKS = ["NWBK", "BARC", "LOYD", "HBUK", "MIDL"]
NL_BANKS = ["ABNA", "INGB", "RABO", "TRIO"]


def iban_check(country, bban):
    s = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in s)
    return 98 - int(num) % 97


def iban(r, country=None):
    country = country or r.choice(list(IBAN_SPECS))
    bban = ""
    for k, n in IBAN_SPECS[country]:
        if k == "n":
            bban += rs(r, DIG, n)
        elif k == "a":
            if country == "GB":
                bban += r.choice(GB_BANKS)
            elif country == "NL":
                bban += r.choice(NL_BANKS)
            elif country == "IE":
                bban += r.choice(["AIBK", "BOFI"])
            else:
                bban += rs(r, UP, n)
        else:
            bban += rs(r, UP + DIG, n) if r.random() < 0.3 else rs(r, DIG, n)
    v = f"{country}{iban_check(country, bban):02d}{bban}"
    return v


def fmt_iban(r, v):
    if r.random() < 0.6:
        return " ".join(v[i:i + 4] for i in range(0, len(v), 4))
    return v


def g_iban(r):
    return L("iban", fmt_iban(r, iban(r)))


def g_iban_de(r):
    return L("iban", fmt_iban(r, iban(r, r.choice(["DE", "DE", "FR", "NL", "GB"]))))


def rand_date(r, y0, y1):
    d0 = datetime.date(y0, 1, 1).toordinal()
    d1 = datetime.date(y1, 12, 31).toordinal()
    return datetime.date.fromordinal(r.randint(d0, d1))


def rrn_digits(r):
    d = rand_date(r, 1942, 2012)
    g = (1 if d.year < 2000 else 3) + r.randint(0, 1)
    body = f"{d.year % 100:02d}{d.month:02d}{d.day:02d}{g}{r.randint(0, 95):02d}{rs(r, DIG, 3)}"
    if r.random() < 0.8:
        w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
        c = (11 - sum(int(a) * b for a, b in zip(body, w)) % 11) % 10
        return body + str(c)
    return body + r.choice(DIG)


def g_rrn(r):
    d = rrn_digits(r)
    return L("rrn", f"{d[:6]}-{d[6:]}" if r.random() < 0.6 else d)


def g_rrn_h(r):
    d = rrn_digits(r)
    return L("rrn", f"{d[:6]}-{d[6:]}")


def g_ssn(r):
    while True:
        a = r.randint(1, 899)
        if a != 666:
            break
    g, s = r.randint(1, 99), r.randint(1, 9999)
    x = r.random()
    if x < 0.8:
        v = f"{a:03d}-{g:02d}-{s:04d}"
    elif x < 0.9:
        v = f"{a:03d} {g:02d} {s:04d}"
    else:
        v = f"{a:03d}{g:02d}{s:04d}"
    return L("ssn", v)


# ---------------------------------------------------------------------------------------------
# Unlabelled look-alikes
# ---------------------------------------------------------------------------------------------


def looks_rrn(d):
    if len(d) != 13 or d[6] not in "1234":
        return False
    try:
        datetime.date(2000 + int(d[:2]), int(d[2:4]), int(d[4:6]))
        return True
    except ValueError:
        return False


def long_digits(r, n):
    while True:
        d = str(r.randint(1, 9)) + rs(r, DIG, n - 1)
        if luhn_ok(d):
            d = d[:-1] + str((int(d[-1]) + 1) % 10)
        if not looks_rrn(d) and not d.startswith("01"):
            return d


def g_order_no(r):
    return U(long_digits(r, r.choice([10, 12, 13, 14, 15, 16, 17, 18, 19])))


def g_order_id(r):
    return U(r.choice([f"ORD-{r.randint(2021, 2025)}-{rs(r, DIG, 6)}",
                       f"#{long_digits(r, r.choice([7, 8, 9]))}",
                       f"A{rs(r, DIG, 2)}-{rs(r, DIG, 7)}-{rs(r, DIG, 7)}",
                       f"{r.randint(2023, 2025)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}-"
                       f"{rs(r, DIG, 7)}"]))


def g_tracking(r):
    return U(r.choice([f"1Z{rs(r, UP + DIG, 6)}{rs(r, DIG, 10)}",
                       long_digits(r, 12), long_digits(r, 12),
                       f"{rs(r, UP, 2)}{rs(r, DIG, 9)}{r.choice(['KR', 'DE', 'GB', 'US'])}",
                       long_digits(r, r.choice([20, 22]))]))


def g_invoice_no(r):
    return U(r.choice([f"INV-{r.randint(2022, 2025)}-{rs(r, DIG, 5)}",
                       f"{r.randint(2022, 2025)}/{rs(r, DIG, 4)}",
                       f"RE{rs(r, DIG, 8)}", long_digits(r, 14)]))


def g_pnr(r):
    return U(rs(r, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 6))


def g_flight(r):
    return U(f"{r.choice(['KE', 'OZ', 'LH', 'BA', 'AF', 'UA', '7C', 'TW'])}{r.randint(11, 999)}")


def g_eticket(r):
    return U(f"{r.choice(['180', '988', '220', '125', '057'])}-{long_digits(r, 10)}")


def isbn13(r):
    while True:
        body = r.choice(["978", "979"]) + rs(r, DIG, 9)
        c = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body)) % 10) % 10
        s = body + str(c)
        if not luhn_ok(s):
            return s


def g_isbn(r):
    s = isbn13(r)
    if r.random() < 0.6:
        a = r.randint(1, 2)
        b = r.randint(2, 4)
        s = f"{s[:3]}-{s[3:3 + a]}-{s[3 + a:3 + a + b]}-{s[3 + a + b:12]}-{s[12]}"
    return U(s)


def g_uuid(r):
    h = rs(r, HEXL, 32)
    return U(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{r.choice('89ab')}{h[17:20]}-{h[20:]}")


def g_sha(r):
    return U(rs(r, HEXL, 40))


def g_sha7(r):
    return U(rs(r, HEXL, 7))


def g_sha256(r):
    return U(rs(r, HEXL, 64))


def g_b64(r):
    n = r.choice([24, 44, 64, 88])
    s = rs(r, B64, n)
    return U(s[:-2] + r.choice(["==", "A=", "Qx"]))


def g_data_uri(r):
    return U(f"data:image/{r.choice(['png', 'gif', 'webp'])};base64,"
             f"{r.choice(['iVBORw0KGgoAAAANSUhEUgAA', 'R0lGODlhAQABAIAAAP', 'UklGRiQAAABXRUJQ'])}"
             f"{rs(r, B64, r.choice([40, 60, 80]))}=")


def g_digest(r):
    return U(f"sha256:{rs(r, HEXL, 64)}")


def g_ver3(r):
    return U(f"{r.randint(0, 24)}.{r.randint(0, 40)}.{r.randint(0, 30)}")


def g_ver4(r):
    x = r.random()
    if x < 0.5:
        return U(f"{r.randint(1, 130)}.0.{r.randint(1000, 6999)}.{r.randint(1, 250)}")
    return U(f"{r.randint(1, 12)}.{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(256, 99999)}")


def g_ver4s(r):
    return U(f"{r.randint(1, 9)}.{r.randint(0, 12)}.{r.randint(0, 9)}.{r.randint(0, 40)}")


def g_build(r):
    return U(r.choice([f"{r.randint(19041, 26100)}.{r.randint(1, 4999)}",
                       f"build {r.randint(1000, 99999)}",
                       f"{r.randint(2023, 2025)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}."
                       f"{r.randint(1, 9)}"]))


OIDS = ["1.2.840.113549.1.1.11", "1.3.6.1.4.1.311.21.8", "2.5.4.3", "2.5.29.17", "1.3.6.1.2.1.1.3.0",
        "1.2.840.10045.4.3.2", "1.3.6.1.5.5.7.3.1", "2.16.840.1.101.3.4.2.1", "1.3.6.1.2.1.2.2.1.10",
        "2.5.4.10", "1.2.410.200004.1.1"]


def g_oid(r):
    return U(r.choice(OIDS))


def g_section(r):
    return U(r.choice([f"{r.randint(1, 20)}.{r.randint(1, 9)}.{r.randint(1, 9)}",
                       f"{r.randint(1, 12)}.{r.randint(1, 9)}.{r.randint(1, 9)}.{r.randint(1, 9)}",
                       f"{r.randint(1, 30)}.{r.randint(1, 9)}"]))


def g_date(r):
    d = rand_date(r, 2019, 2025)
    f = r.choice(["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%B %d, %Y", "%d %b %Y"])
    return U(d.strftime(f))


def g_date_ko(r):
    d = rand_date(r, 2019, 2025)
    f = r.choice(["{y}년 {m}월 {d}일", "{y}.{m:02d}.{d:02d}", "{y}-{m:02d}-{d:02d}",
                  "{y}. {m}. {d}."])
    return U(f.format(y=d.year, m=d.month, d=d.day))


def g_time(r):
    return U(f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}")


def g_ts(r):
    d = rand_date(r, 2023, 2025)
    return U(f"{d.isoformat()}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:"
             f"{r.randint(0, 59):02d}.{rs(r, DIG, 3)}Z")


def g_ts_log(r):
    d = rand_date(r, 2023, 2025)
    return U(f"{d.isoformat()} {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:"
             f"{r.randint(0, 59):02d},{rs(r, DIG, 3)}")


def g_clf_time(r):
    d = rand_date(r, 2023, 2025)
    return U(d.strftime("%d/%b/%Y") + f":{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:"
             f"{r.randint(0, 59):02d} {r.choice(['+0000', '+0900', '+0100', '-0500'])}")


def g_syslog_time(r):
    d = rand_date(r, 2023, 2025)
    return U(d.strftime("%b %d") + f" {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:"
             f"{r.randint(0, 59):02d}")


def g_price(r):
    return U(r.choice([f"${r.randint(1, 4999):,}.{rs(r, DIG, 2)}", f"USD {r.randint(10, 99999):,}",
                       f"€{r.randint(1, 999)},{rs(r, DIG, 2)}", f"£{r.randint(1, 999)}.{rs(r, DIG, 2)}",
                       f"{r.randint(1, 9999):,}.00 EUR"]))


def g_price_krw(r):
    n = r.randint(1, 4000) * r.choice([10, 100, 1000])
    return U(r.choice([f"{n:,}원", f"₩{n:,}", f"{n:,} 원", f"KRW {n:,}"]))


def g_price_eur(r):
    return U(f"{r.randint(100, 99999):,}.{rs(r, DIG, 2)} EUR".replace(",", " "))


def g_num(r):
    return U(str(r.randint(2, 999)))


def g_small(r):
    return U(str(r.randint(1, 40)))


def g_eport(r):
    return U(str(r.randint(1024, 65535)))


def g_usd(r):
    return U(f"${r.randint(20000, 180000):,}.{rs(r, DIG, 2)}")


def g_big(r):
    return U(f"{r.randint(1000, 9999999):,}")


def g_pct(r):
    return U(f"{r.randint(0, 99)}.{r.randint(0, 9)}%")


def g_ms(r):
    return U(f"{r.randint(1, 2500)}ms")


def g_port(r):
    return U(str(r.choice([80, 443, 8080, 8443, 3000, 5432, 6379, 9090, 27017, 5672])))


def g_mac(r):
    sep = r.choice([":", "-"])
    v = sep.join(rs(r, HEXL, 2) for _ in range(6))
    return U(v.upper() if r.random() < 0.4 else v)


def g_hexaddr(r):
    return U("0x" + rs(r, HEXL, r.choice([8, 12, 16])))


def g_zip_ko(r):
    return U(f"{r.randint(1, 63)}{rs(r, DIG, 3)}".zfill(5))


def g_bizno(r):
    return U(f"{r.randint(101, 899)}-{r.randint(10, 99)}-{rs(r, DIG, 5)}")


def g_masked_phone(r):
    return U(r.choice([f"010-****-{rs(r, DIG, 4)}", f"010-{rs(r, DIG, 2)}**-{rs(r, DIG, 2)}**",
                       f"***-***-{rs(r, DIG, 4)}"]))


def g_masked_card(r):
    return U(r.choice([f"{rs(r, DIG, 4)}-{rs(r, DIG, 2)}**-****-{rs(r, DIG, 4)}",
                       f"**** **** **** {rs(r, DIG, 4)}", f"{r.choice('45')}{rs(r, DIG, 3)}********"
                       f"{rs(r, DIG, 4)}"]))


def g_ein(r):
    return U(f"{r.randint(10, 99)}-{r.randint(1000000, 9999999)}")


def g_approval(r):
    return U(rs(r, DIG, 8))


NPM = ["react", "lodash", "express", "@types/node", "@angular/core", "typescript", "vite", "zod",
       "@babel/preset-env", "next", "axios", "@nestjs/common", "left-pad", "@tanstack/react-query"]


def g_npm(r):
    return U(f"{r.choice(NPM)}@{r.choice(['', '^', '~'])}{r.randint(0, 19)}.{r.randint(0, 30)}."
             f"{r.randint(0, 20)}")


def g_placeholder(r):
    return U(r.choice(["sk-your-key-here", "sk-...", "sk-proj-xxxxxxxxxxxxxxxxxxxx",
                       "xoxb-your-token", "xoxb-xxxxxxxxxxxx-xxxxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx",
                       "ghp_" + "X" * 36, "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                       "<YOUR_API_KEY>", "${OPENAI_API_KEY}", "glpat-xxxxxxxxxxxxxxxxxxxx",
                       "sk_live_...", "AIza...", "SG.xxxxx.yyyyy", "your-secret-here",
                       "AKIA****************", "sk-..." + rs(r, B62, 4), "REPLACE_ME", "changeme"]))


PLACEHOLDERS = [g_placeholder]


def g_pw_placeholder(r):
    return U(r.choice(["<password>", "PASSWORD", "${DB_PASSWORD}", "****", "<secret>"]))


# ---------------------------------------------------------------------------------------------
# Template engine: «gen» inserts a value, «gen#tag» reuses one, «?a|b|c» picks a literal.
# ---------------------------------------------------------------------------------------------

GENS = {k[2:]: v for k, v in list(globals().items()) if k.startswith("g_")}
GENS.update({f"key_{k}": kg(f) for k, f in KEYGENS.items()})
GENS["aws_secret"] = kg(aws_secret)
GENS["ko_given"] = lambda r: U(r.choice(KO_GIVEN))
GENS["last"] = lambda r: U(r.choice(EN_LAST))
GENS["lastl"] = lambda r: U(r.choice(EN_LAST).lower())
GENS["host"] = lambda r: U(r.choice(HOSTS))
GENS["user"] = lambda r: U(r.choice(USERS))
GENS["repo"] = lambda r: U(f"{r.choice(['acme', 'globex', 'hanbit', 'daon'])}/"
                           f"{r.choice(['api', 'web', 'infra', 'billing-svc', 'etl', 'mobile'])}")

TOKEN = re.compile(r"«([^»]+)»")


def render(r, template):
    text = []
    spans = []
    pos = 0
    cache = {}
    last = 0
    for m in TOKEN.finditer(template):
        lit = template[last:m.start()]
        text.append(lit)
        pos += len(lit)
        last = m.end()
        tok = m.group(1)
        if tok.startswith("?"):
            v, sp = r.choice(tok[1:].split("|")), []
        else:
            name, _, tag = tok.partition("#")
            if tag and tag in cache:
                v, sp = cache[tag]
            else:
                v, sp = GENS[name](r)
                if tag:
                    cache[tag] = (v, sp)
        for a, b, k in sp:
            spans.append((pos + a, pos + b, k))
        text.append(v)
        pos += len(v)
    text.append(template[last:])
    return "".join(text), spans


DIGIT_RUN = re.compile(r"\d+(?:[ .\-]\d+)*")
EMAIL_SHAPE = re.compile(r"[\w.+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
SSN_SHAPE = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
RRN_SHAPE = re.compile(r"(?<!\d)\d{6}-[1-4]\d{6}(?!\d)")
MOBILE_SHAPE = re.compile(r"(?<!\d)01[016789][ .\-]?\d{3,4}[ .\-]?\d{4}(?!\d)")


def outside(spans, a, b):
    return all(b <= x or a >= y for x, y, _ in spans)


def acceptable(text, spans):
    """False when an unlabelled part of `text` could pass for PII by accident."""
    for m in DIGIT_RUN.finditer(text):
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", m.group())]
        base = m.start()
        for i in range(len(groups)):
            digits = ""
            for j in range(i, len(groups)):
                a, b = base + groups[i][0], base + groups[j][1]
                digits += text[base + groups[j][0]:base + groups[j][1]]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and outside(spans, a, b) and luhn_ok(digits):
                    return False
                if len(digits) == 13 and outside(spans, a, b) and looks_rrn(digits):
                    return False
    for rx in (SSN_SHAPE, RRN_SHAPE, MOBILE_SHAPE):
        for m in rx.finditer(text):
            if outside(spans, m.start(), m.end()):
                return False
    for m in EMAIL_SHAPE.finditer(text):
        if outside(spans, m.start(), m.end()):
            raise AssertionError(f"unlabelled email-shaped {m.group()!r} in {text!r}")
    return True


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------

EN_PII = [
    """Subject: Double charge on order «order_no»

Hi, I was billed twice for the same order. The card I used is «card», exp 09/27. Please refund one of the charges. You can reach me at «phone_us» or reply to «email».

Thanks, «name»""",
    """{"name": "«name»", "email": "«email_plain»", "phone": "«phone_any»", "newsletter": true, "source": "landing-v«ver3»"}""",
    """«name»
Senior Data Engineer · «city»
«email» | «phone_any» | linkedin.com/in/«last»-«num»

EXPERIENCE
«company» (2019–present) — migrated 40+ pipelines to Airflow «ver3», cut batch runtime by «pct».""",
    """INVOICE «invoice_no»
Issued: «date»    Due: «date»
Bill to: «company», attn. «name»

Consulting services (32 h)        «price»
VAT 19%                            «price»

Please pay by bank transfer to IBAN «iban» (BIC COBADEFFXXX), quoting the invoice number.""",
    """PATIENT INTAKE FORM
Name: «name»
DOB: «date»
SSN: «ssn»
Phone: «phone_us»
Emergency contact: «first», «phone_us»
Insurance group no.: GRP-«num»-«num»
Allergies: penicillin""",
    """«syslog_time» bastion sshd[«num»]: Failed password for invalid user «user» from «ip4_pub» port «eport» ssh2
«syslog_time» bastion sshd[«num»]: Failed password for invalid user oracle from «ip4_pub» port «eport» ssh2
«syslog_time» bastion sshd[«num»]: Accepted publickey for deploy from «ip4_priv» port «eport» ssh2

Is this a brute force attempt? Should I block the first two?""",
    """Why does this fail with 401?

```python
from openai import OpenAI
client = OpenAI(api_key="«key_openai»")
resp = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
```
I'm on openai «ver3» and Python 3.«num».""",
    """export AWS_ACCESS_KEY_ID=«key_aws»
export AWS_SECRET_ACCESS_KEY=«aws_secret»
export AWS_DEFAULT_REGION=eu-central-1
aws s3 ls s3://«repo»-artifacts/ --recursive | tail -n 5""",
    """My GitHub Action keeps failing at checkout. Log excerpt:

Run actions/checkout@v4
  with:
    repository: «repo»
    token: «key_ghp»
Error: fatal: could not read Username for 'https://github.com': terminal prompts disabled""",
    """hey it's «first», lost my phone so text me on «phone_any» for now. my old number is dead""",
    """Ring me on «phone_uk» after 6pm, or email «email» — whichever is easier.""",
    """Booking confirmation «pnr»

Passenger: «name»
Flight «flight» «city» → «city», «date» dep «time»
E-ticket: «eticket»
Contact: «phone_intl» / «email»
Total paid: «price» (card «masked_card»)""",
    """Dear Sir/Madam,
Please transfer «price_eur» to the following account before Friday:
Beneficiary: «company» GmbH
IBAN: «iban_de»
Reference: «invoice_no»
For questions call «phone_de».
Kind regards, «name»""",
    """Stripe webhook signature check keeps failing locally. My .env:

STRIPE_SECRET_KEY=«key_stripe»
STRIPE_WEBHOOK_SECRET=whsec_«sha7»... (redacted)
API_VERSION=2024-06-20

Using stripe-node «ver3».""",
    """# settings.py
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "smtp.sendgrid.net"
EMAIL_HOST_USER = "apikey"
EMAIL_HOST_PASSWORD = "«key_sg»"
DEFAULT_FROM_EMAIL = "«email_plain»"
ALLOWED_HOSTS = ["«ip4_pub»", "app.«lastl».dev"]""",
    """apiVersion: v1
kind: Service
metadata:
  name: payments
spec:
  type: LoadBalancer
  loadBalancerIP: «ip4_pub»
  clusterIP: «ip4_priv»
  ports:
    - port: 443
      targetPort: 8443""",
    """iptables -A INPUT -s «ip4_pub» -j DROP
iptables -A INPUT -s «ip4_pub» -j DROP
iptables -A INPUT -p tcp --dport 22 -s «ip4_priv»/32 -j ACCEPT
# added «date» after the incident (ticket «invoice_no»)""",
    """| Name | Role | Email | Phone |
|------|------|-------|-------|
| «name» | On-call lead | «email» | «phone_any» |
| «name» | DBA | «email» | «phone_any» |
| «name» | Security | «email» | «phone_any» |""",
    """Best regards,

«name»
Account Manager, «company»
M: «phone_eu»
E: «email»
«?www.acme-corp.com|globex.io|initech.co.uk»""",
    """New hire checklist for «name» (start «date»):
- SSN «ssn» verified against I-9
- Direct deposit IBAN: «iban»
- Laptop asset tag LT-«num»-«num»
- Badge photo: done""",
    """git remote -v shows my token in plain text, is that a problem?

origin  https://«key_ghp»@github.com/«repo».git (fetch)
origin  https://«key_ghp»@github.com/«repo».git (push)""",
    """The connection string from the Atlas dashboard is «cred_url» — I pasted it into .env but mongoose says "bad auth".""",
    """Uncaught (in promise) Error: Google Maps JavaScript API error: RefererNotAllowedMapError
https://maps.googleapis.com/maps/api/js?key=«key_google»&callback=initMap&v=weekly
Your site URL to be authorized: https://staging.«lastl».app/""",
    """Fraud team: these cards were used from the same device within 10 minutes:
1. «card»
2. «card»
3. «card»
All transactions originated from «ip» and «ip». Customer ID «order_id».""",
    """{
  "display_information": {"name": "standup-bot"},
  "oauth_config": {"scopes": {"bot": ["chat:write"]}},
  "tokens": {"bot": "«key_xoxb»", "user": "«key_xoxp»"}
}""",
    """id,full_name,email,phone,signup_ip
«num»,«name»,«email_plain»,«phone_us»,«ip»
«num»,«name»,«email_plain»,«phone_uk»,«ip»
«num»,«name»,«email_plain»,«phone_fr»,«ip»""",
    """«ip6» - - [«clf_time»] "GET /api/v1/users/me HTTP/2.0" 200 «num» "-" "Mozilla/5.0"
«ip4» - - [«clf_time»] "POST /login HTTP/1.1" 302 0 "-" "curl/«ver3»"
«ip6» - - [«clf_time»] "GET /favicon.ico HTTP/2.0" 404 «num» "-" "Mozilla/5.0\"""",
    """$ dig +short api.«lastl».io A
«ip4_pub»
«ip4_pub»
$ dig +short api.«lastl».io AAAA
«ip6»""",
    """Traceback (most recent call last):
  File "/srv/app/notify.py", line «num», in send
    smtp.sendmail(sender, [to], msg.as_string())
smtplib.SMTPRecipientsRefused: {'«email_plain»': (550, b'5.1.1 User unknown')}""",
    """commit «sha»
Author: «name» <«email_plain»>
Date:   Tue «date» 14:02:11 +0200

    fix: retry upload on 503 (closes #«num»)""",
    """<a href="mailto:«email»?subject=Support%20request">Contact support</a> or call <a href="tel:«phone_intl»">us</a>.""",
    """Can someone check why our GitLab runner can't clone? The job log shows
Cloning into '/builds/«repo»'...
remote: HTTP Basic: Access denied
url: «web_cred_url»
We rotated the password on «date».""",
    """Runner config:
[[runners]]
  url = "https://gitlab.«lastl».com/"
  token = "«key_glpat»"
  executor = "docker"
  [runners.docker]
    image = "alpine:«ver3»"
    dns = ["«ip4_priv»"]""",
    """Travel insurance claim «invoice_no»
Insured: «name», SSN «ssn»
Incident date: «date», «city»
Amount claimed: «price»
Reimburse to card «card» or IBAN «iban».""",
    """Please update my profile: new mobile «phone_any», new email «email». The old address («email») no longer works.""",
    """WireGuard config for the new office:
[Interface]
Address = «ip4_priv»/24, «ip6»/64
DNS = «ip4_pub»
[Peer]
Endpoint = «ip4_pub»:51820
AllowedIPs = «ip4_priv»/16""",
    """«key» — this is the key that leaked in yesterday's commit «sha7». Already rotated?""",
    """docker run -e DATABASE_URL=«db_url» -e REDIS_URL=«cred_url» -p 8080:8080 «repo»:«ver3»""",
    """Customer says their SSN was entered as «ssn» but the IRS letter shows «ssn». Which one is on file? Ticket «order_id».""",
    """Les coordonnées du client : «name», tél. «phone_fr», e-mail «email». Paiement par virement sur «iban».""",
    """Kontakt: «name», Tel. «phone_de», Fax «phone_de», E-Mail: «email»""",
    """curl https://api.openai.com/v1/models -H "Authorization: Bearer «key_proj»\"""",
    """Hi! Quick question about your API: is "«key»" the right format for a production key? It was given to me by our previous dev.""",
    """Server inventory:
- web-01  «ip4_priv»  «mac»  Ubuntu 22.04
- web-02  «ip4_priv»  «mac»  Ubuntu 22.04
- edge    «ip4_pub» / «ip6»""",
    """«email»""",
    """W-2 correction request
Employee: «name»
SSN: «ssn» (previously reported as «ssn»)
Employer EIN: «ein»
Box 1 wages: «usd»""",
    """Background check authorization — applicant «name», date of birth «date», SSN «ssn», current phone «phone_us». I authorize «company» to obtain consumer reports.""",
    """SEPA batch «invoice_no» (execution «date»):
creditor;iban;amount;reference
«company»;«iban»;«price_eur»;«invoice_no»
«company»;«iban»;«price_eur»;«invoice_no»
«company»;«iban»;«price_eur»;«invoice_no»""",
    """airflow connections add 'warehouse' --conn-uri '«db_url»'
airflow connections add 'queue' --conn-uri '«cred_url»'
Both show up in the UI but the DAG still can't connect (Airflow «ver3»).""",
    """[Pipeline] checkout
 > git fetch --tags --force --progress -- «web_cred_url» +refs/heads/*:refs/remotes/origin/*
ERROR: Error fetching remote repo 'origin'
Finished: FAILURE (build #«num», «date»)""",
    """Refund to IBAN «iban» please — the card «masked_card» was cancelled. Reference «order_id».""",
    """git clone https://oauth2:«key_glpat»@gitlab.«lastl».com/«repo».git works locally but not in CI. Is the token scope wrong?""",
    """My tax preparer asked for my SSN «ssn» and my spouse's «ssn» by email. Is it safe to send them this way?""",
    """Card «card_amex» declined at checkout, but «card_visa» went through. Both cards are in my name.""",
]

KO_PII = [
    """안녕하세요. 지난주에 주문한 상품(주문번호 «order_no»)이 아직 도착하지 않아 문의드립니다. 제 연락처는 «phone_kr»«?이고|이며|입니다.» 이메일은 «email_ko»입니다. 확인 후 회신 부탁드려요.""",
    """[회원가입 정보]
이름: «ko_name»
주민등록번호: «rrn»
휴대폰: «phone_kr»
이메일: «email_ko»
주소: «ko_city» «?강남구 테헤란로|해운대구 센텀중앙로|수성구 달구벌대로» «num»""",
    """해외송금 신청서
받는 분: «name»
은행: «?Deutsche Bank|BNP Paribas|ING Bank|Barclays»
IBAN: «iban»
금액: «price_eur»
보내는 분 연락처: «phone_kr»
송금 사유: 유학 생활비""",
    """nginx 로그에 이상한 요청이 계속 찍혀요. «ip4_pub#a»에서 초당 수백 건씩 들어오는데 차단하려면 어떻게 해야 하나요?
```
«ip4_pub#a» - - [«clf_time»] "GET /wp-login.php HTTP/1.1" 404 «num»
«ip4_pub#a» - - [«clf_time»] "GET /.env HTTP/1.1" 404 «num»
```""",
    """깃허브에 실수로 .env 파일을 올렸어요 ㅠㅠ 내용은 이거예요:
OPENAI_API_KEY=«key_openai»
DATABASE_URL=«db_url»
키 폐기하려면 뭐부터 해야 하나요?""",
    """결제하려는데 카드번호 «card»로 입력하면 계속 '유효하지 않은 카드'라고 떠요. 유효기간은 «?08/27|11/26|03/28»이고 본인 명의 카드입니다.""",
    """보험금 청구서
피보험자: «ko_name»
주민등록번호: «rrn_h»
진단명: 급성 기관지염 (J20.9)
진료일: «date_ko»
청구금액: «price_krw»
연락처: «phone_kr» / 자택 «phone_kr_land»""",
    """«ko_name» | 백엔드 개발자
«phone_kr» · «email_ko» · github.com/«?dev|code|hello»«num»

경력
- «ko_company» (2019.03 ~ 2023.08): 결제 시스템 개발, Spring Boot «ver3»
- «ko_company» (2023.09 ~ 현재): 데이터 파이프라인 구축""",
    """ㅇㅇ 내 번호 «phone_kr»야 카톡 안 되면 문자 줘""",
    """미국 회사에서 W-9 양식을 보내달라는데 SSN 칸에 «ssn» 이렇게 쓰면 되나요? 하이픈을 넣어야 하는지 궁금합니다.""",
    """서버 설정 파일 검토 부탁드립니다.
```yaml
server:
  bind: «ip4_priv»
  port: 8080
upstream:
  - «ip4_priv»:9000
  - «ip4_priv»:9000
allow_from: «ip4_pub»
```
버전은 «ver3»입니다.""",
    """슬랙 봇 토큰 «key_xoxb»을 환경변수에 넣었는데 invalid_auth 에러가 나요. 스코프는 chat:write만 줬습니다.""",
    """[예약 확인] «ko_name» 고객님, 예약번호 «pnr» 항공편 «flight» («date_ko» «time» 출발) 예약이 완료되었습니다. 문의: «email_ko», 비상연락처 «phone_intl»""",
    """운영 DB 접속 정보 공유드립니다.
호스트: «ip4_priv»
포트: 5432
접속 URL: «cred_url»
외부 반출 금지입니다.""",
    """IPv6 주소 «ip6»로 ping은 되는데 웹 접속이 안 됩니다. 방화벽에서 «ip6»도 허용해야 하나요?""",
    """안녕하세요, «ko_company» 인사팀입니다. 입사 서류 중 주민등록번호(«rrn»)와 비상연락처(«phone_kr»)를 확인했습니다. 급여 계좌는 추후 안내드리겠습니다.""",
    """고객센터 상담 기록
- 고객명: «ko_name»
- 연락처: «phone_kr» (주간), «phone_kr_land» (사무실)
- 문의: 환불 요청, 결제 금액 «price_krw»
- 처리: «date_ko» 환불 완료""",
    """| 이름 | 부서 | 이메일 | 내선/휴대폰 |
|---|---|---|---|
| «ko_name» | 개발팀 | «email_ko» | «phone_kr» |
| «ko_name» | 영업팀 | «email_ko» | «phone_kr_land» |
| «ko_name» | 재무팀 | «email_ko» | «phone_kr» |""",
    """docker-compose.yml 에서 환경변수 이렇게 넣었는데 컨테이너가 계속 재시작돼요
```
environment:
  - SENDGRID_API_KEY=«key_sg»
  - GITLAB_TOKEN=«key_glpat»
  - TZ=Asia/Seoul
```""",
    """카드 분실 신고합니다. 분실 카드번호는 «card»이고 마지막 사용은 «date_ko» «time»쯤 «ko_city»에서였습니다. 연락은 «phone_kr»로 주세요.""",
    """주민번호 «rrn» 로 조회하면 본인인증이 안 된다고 나와요. 통신사는 SKT고 번호는 «phone_kr»입니다.""",
    """독일 거래처 송금 정보입니다: «company» GmbH / IBAN «iban_de» / BIC DEUTDEFF / 금액 «price_eur». 담당자 연락처는 «phone_de»입니다.""",
    """접속 로그 확인해보니 «ip»에서 관리자 페이지로 로그인 시도가 «num»번 있었습니다. 같은 시간대에 «ip»도 보이는데 내부 IP 맞죠?""",
    """GitHub 토큰을 이렇게 쓰고 있어요: git clone https://«key_ghp»@github.com/«repo».git 보안상 문제 있나요?""",
    """파이썬 코드 질문입니다.
```python
import stripe
stripe.api_key = "«key_stripe»"
stripe.Customer.create(email="«email_plain»", phone="«phone_kr»")
```
실행하면 권한 에러가 나요.""",
    """[중고거래] 아이폰 «num»프로 팝니다. 직거래는 «ko_city», 연락은 «phone_kr» 문자 주세요~ 가격 «price_krw»""",
    """학생 정보 수정 요청
학번: «order_id»
이름: «ko_name»
변경 전 이메일: «email_ko»
변경 후 이메일: «email_ko»
변경 후 휴대폰: «phone_kr»""",
    """AWS 키가 외부에 노출됐다는 메일을 받았습니다. 노출된 키는 «key_aws»이고 시크릿은 «aws_secret»입니다. 지금 바로 비활성화해야 하나요?""",
    """가족관계 서류 제출: 본인 «ko_name» («rrn_h»), 배우자 «ko_name» («rrn_h»), 자녀 «ko_name» («rrn_h»)""",
    """회의실 예약 시스템 서버가 «ip4_priv»:3000 에서 떠 있고, DNS는 «ip4_pub», «ip6» 두 개 씁니다.""",
    """구글 지도 API 키 «key_google»가 리퍼러 제한 때문에 막혔어요. 콘솔에서 어디를 바꿔야 하나요?""",
    """«phone_kr»
«ko_name» 과장님 번호예요. 내일 미팅 전에 한번 연락해보세요.""",
    """이메일 주소가 «email_ko»인데 인증 메일이 안 와요. 스팸함도 확인했어요.""",
    """연말정산 부양가족 등록: «ko_name», 주민등록번호 «rrn», 관계: 부. 문의는 인사팀 «phone_kr_land»로.""",
    """FTP 자동 업로드 스크립트입니다. «web_cred_url» 이 주소로 매일 새벽 3시에 올라가요. 크론탭은 0 3 * * * 입니다.""",
    """OpenAI 프로젝트 키 «key_proj» 사용 중인데 429 에러가 자주 나요. 요금제는 Tier 2입니다.""",
    """미국 세금 신고용 정보: 이름 «name», SSN «ssn», 주소 «city», 전화 «phone_us»""",
    """GitHub fine-grained 토큰(«key_ghpat»)으로 API 호출하면 403이 뜹니다. repo 권한은 줬어요.""",
    """출장 경비 정산 - 법인카드 «card» 사용분 «price_krw», 개인카드 «card» 사용분 «price_krw». 영수증 첨부합니다.""",
    """사용자 슬랙 토큰(«key_xoxp»)을 로그에 그대로 찍고 있었네요. 마스킹 처리하려면 어떻게 할까요?""",
    """프랑스 호텔 예약 확인 메일에 연락처가 «phone_fr»로 되어 있던데 국제전화로 걸려면 앞에 뭘 붙여야 하나요?""",
    """부동산 임대차계약서
임대인: «ko_name» (주민등록번호 «rrn_h», 연락처 «phone_kr»)
임차인: «ko_name» (주민등록번호 «rrn_h», 연락처 «phone_kr»)
보증금: «price_krw» / 월세: «price_krw»
계약일: «date_ko»""",
    """병원 접수할 때 주민번호를 «rrn» 이렇게 입력했는데 조회가 안 된다고 하네요. 생년월일 확인 부탁드려요.""",
    """엄마 주민번호 «rrn_h»이고 아빠는 «rrn_h»야. 서류 낼 때 잘못 쓰지 마~""",
    """유럽 쇼핑몰에서 환불받을 계좌로 IBAN을 달라고 하는데, 제가 받은 번호가 «iban» 이게 맞나요? 한국 계좌에는 IBAN이 없다고 들어서요.""",
    """젠킨스에서 빌드할 때 콘솔에 «web_cred_url» 이렇게 비밀번호가 그대로 찍혀요. 마스킹 방법 있을까요?""",
    """사내 위키에 적혀 있던 Redis 주소가 «cred_url»인데 이거 외부에 노출돼도 괜찮은 건가요?""",
    """비자 신청서 작성 중입니다. 성명 «ko_name», 주민등록번호 «rrn», 여권 만료일 «date_ko», 연락처 «phone_kr», 이메일 «email_ko».""",
    """해외 법인 급여 지급 계좌 변경 안내: 기존 «iban» → 변경 «iban» («date_ko»부터 적용)""",
    """영국 지사 담당자 «name» 님 번호는 «phone_uk»이고 메일은 «email»입니다.""",
]

EN_CLEAN = [
    """Release notes — v«ver3» («date»)
- Bumped minimum Node to 18.«num»
- Windows build «ver4» now signed
- Fixed crash in parser when section «section» of the spec is empty
- Docker image: ghcr.io/«repo»@«digest»""",
    """{
  "name": "dashboard",
  "version": "«ver3»",
  "dependencies": {
    "react": "^18.3.1",
    "lodash": "4.17.21",
    "zod": "~3.23.8"
  }
}
Is it safe to upgrade to «npm» and «npm» at the same time?""",
    """```python
from dataclasses import dataclass
from functools import lru_cache

@dataclass(frozen=True)
class Point:
    x: float
    y: float

@lru_cache(maxsize=«num»)
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)

print(fib(90))  # «order_no»
```""",
    """@import url("https://fonts.googleapis.com/css2?family=Inter:wght@400;700&display=swap");
@media (max-width: 768px) {
  .card { padding: 12px 16px; margin: 0 auto; }
}
@font-face { font-family: "Mono"; src: url(data:font/woff2;base64,«b64») format("woff2"); }""",
    """$ docker pull postgres:16.«small#v»
16.«small#v»: Pulling from library/postgres
Digest: «digest»
Status: Downloaded newer image for postgres:16.«small#v»
$ docker inspect --format '{{.Id}}' postgres:16.«small#v»
«digest»""",
    """Order «order_no» — shipped «date»
Carrier tracking: «tracking»
Items: 2 × USB-C hub («price» each)
Subtotal «price», shipping «price»
Estimated delivery: «date» between «time» and «time».""",
    """INVOICE «invoice_no»
Supplier: «company» Ltd, VAT GB«approval»0
Customer reference: PO-«order_no»
Line 1: Annual licence (seats: «num»)   «price»
Line 2: Support tier B                   «price»
Payment terms: 30 days net. Late fees per clause «section».""",
    """snmpwalk -v2c -c public switch01 «oid»
«oid» = Timeticks: («order_no») 12 days, 3:04:55.21
Certificate signature algorithm OID «oid» (sha256WithRSAEncryption); subject CN OID «oid».""",
    """Section «section» (Termination). Either party may terminate under clause «section» with 30 days' notice. See also §«section» and Annex B, item «ver4s».""",
    """$ git log --oneline -5
«sha7» Merge pull request #«num» from feature/retry
«sha7» bump version to «ver3»
«sha7» docs: clarify section «section»
«sha7» ci: pin actions/setup-node@v4
«sha7» chore(deps): «npm»""",
    """«ts» INFO  request_id=«uuid» route=/api/orders status=200 latency=«ms»
«ts» WARN  request_id=«uuid» route=/api/cart status=429 latency=«ms» retry_after=30
«ts» INFO  request_id=«uuid» job=«uuid» processed=«big» rows""",
    """# .env.example — copy to .env and fill in
OPENAI_API_KEY=«placeholder»
SLACK_BOT_TOKEN=xoxb-your-token
GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX
DATABASE_URL=postgres://user:${DB_PASSWORD}@localhost:5432/app
STRIPE_SECRET_KEY=«placeholder»""",
    """Quick maths check: «num» × «num» = ? and is «order_no» divisible by 7? Also 2^32 = 4294967296 and 3.14159 × 2 = 6.28318.""",
    """References
[1] Kleppmann, M. Designing Data-Intensive Applications. ISBN «isbn».
[2] Nygard, M. Release It! 2nd ed. ISBN «isbn».
[3] RFC 9110, section «section».""",
    """Flight «flight» to «city» is delayed to «time» (gate B«small»). Connection «flight» departs «time». Booking class Y, fare basis YLOWKR.""",
    """thread 'main' panicked at src/main.rs:«num»:«num»:
called `Option::unwrap()` on a `None` value
stack backtrace:
   0: «hexaddr» - std::panicking::begin_panic
   1: «hexaddr» - app::run
note: run with `RUST_BACKTRACE=full` for a verbose backtrace (rustc «ver3»)""",
    """<img alt="pixel" src="«data_uri»">
<script src="https://cdn.example.com/lib.js" integrity="sha384-«b64»" crossorigin="anonymous"></script>""",
    """Semver question: does "^«ver3»" include «ver3»? And what about pre-releases like «ver3»-beta.«num»+build.«num»?""",
    """| Metric | Q1 | Q2 |
|---|---|---|
| Revenue | «price» | «price» |
| Churn | «pct» | «pct» |
| Orders | «big» | «big» |
| p95 latency | «ms» | «ms» |""",
    """Device inventory: switch SN FDO«approval», MAC «mac», firmware «ver4s», uplink port Gi1/0/«num». Replacement RMA «order_no».""",
    """$ sha256sum release.tar.gz
«sha256»  release.tar.gz
$ git rev-parse HEAD
«sha»""",
    """To authenticate, send `Authorization: Bearer <token>`. Keys look like «placeholder»; never paste a real one here. Rate limit: «num» requests per minute.""",
    """Chrome «ver4» crashes on startup after the update to Windows «build». Event ID 1000, faulting module ntdll.dll, version «ver4», offset «hexaddr».""",
    """Tracking numbers for today's shipments: «tracking», «tracking», «tracking». Invoice «invoice_no», total «price».""",
    """Meeting notes «date»: agreed on budget «price» for Q3; next review at «time» on «date». Action items §«section» and §«section».""",
    """pip freeze | grep -i requests
requests==2.«num».0
urllib3==«ver3»
@app.get("/health") returns {"status": "ok", "version": "«ver4s»"}""",
    """The UUID «uuid» maps to tenant «num»; shard key «order_no». Rebuild index «uuid» after «date».""",
    """Kubernetes:
NAME                       READY   STATUS    RESTARTS   AGE
api-«sha7»-x2k9d           1/1     Running   0          3d
worker-«sha7»-p8m4q        1/1     Running   2          12h
image: registry.example.com/api@«digest»""",
]

KO_CLEAN = [
    """배송 조회 부탁드립니다. 주문번호 «order_no», 운송장번호 «tracking»(CJ대한통운)입니다. 결제 금액은 «price_krw»이고 «date_ko»에 주문했어요.""",
    """[업데이트 안내] 앱 버전 «ver3»이 배포되었습니다. Windows 클라이언트는 «ver4», 서버는 빌드 «build»입니다. 변경 사항은 공지 «section»항을 참고하세요.""",
    """제3조(계약기간) ① 본 계약의 기간은 «date_ko»부터 1년으로 한다.
② 제«small»조 제2항에 따라 갱신할 수 있다.
제«small»조(대금) 계약 금액은 «price_krw»(부가세 별도)로 한다.""",
    """이번 달 가계부 정리
- 월세: «price_krw»
- 관리비: «price_krw»
- 식비: «price_krw»
- 교통비: «price_krw»
합계는 대충 «price_krw» 정도네요.""",
    """다음 주 일정: «date_ko» «time» 팀 회의, «date_ko» 오후 2시 고객사 미팅 (회의실 «num»호), 금요일 «time» 배포.""",
    """파이썬 데코레이터 질문이요.
```python
@app.route("/users/<int:user_id>")
@login_required
def profile(user_id):
    return render_template("profile.html", uid=user_id)
```
@login_required 순서가 바뀌면 어떻게 되나요?""",
    """추천 도서 목록
1. 클린 코드 — ISBN «isbn»
2. 객체지향의 사실과 오해 — ISBN «isbn»
3. 데이터 중심 애플리케이션 설계 — ISBN «isbn»""",
    """[영수증]
가맹점: «ko_company»
사업자등록번호: «bizno»
카드번호: «masked_card»
승인번호: «approval»
거래일시: «date_ko» «time»
합계: «price_krw»""",
    """수학 문제: «num» × «num»의 값을 구하고, «order_no»이 3의 배수인지 판별하시오. (단, 답은 «date_ko»까지 제출)""",
    """도커 이미지 digest가 «digest» 인데, 태그 «ver3»이랑 같은 이미지인지 어떻게 확인하나요? npm 패키지 «npm»도 같이 고정하고 싶어요.""",
    """.env.example 파일 예시입니다
OPENAI_API_KEY=«placeholder»
SLACK_BOT_TOKEN=«placeholder»
DB_PASSWORD=«pw_placeholder»
실제 키는 절대 커밋하지 마세요!""",
    """«flight»편 «ko_city» 출발 «time» → 도착 «time», 탑승구 «small»번. 수하물은 23kg까지 무료이며 초과 시 «price_krw» 부과됩니다.""",
    """2분기 실적 요약: 매출 «price_krw», 전년 대비 «pct» 증가, 영업이익률 «pct». 신규 가입자 «big»명.""",
    """회의록 («date_ko»)
- 참석: 개발팀, 기획팀
- 안건 1: 버전 «ver3» 출시 일정
- 안건 2: 결제 모듈 «ver4s» 호환성
- 결정: «date_ko» 배포""",
    """오늘 원/달러 환율 «?1,382.50|1,391.20|1,374.80»원, 코스피 «?2,612.12|2,587.40|2,701.95» 마감. 삼성전자 종가 «price_krw».""",
    """김치찌개 레시피 (4인분): 돼지고기 300g, 김치 1/4포기, 두부 1모, 물 600ml, 고춧가루 1.5큰술. 끓이는 시간 약 «num»분.""",
    """아파트 매물: 전용 84.97㎡, 매매가 «price_krw», 관리비 월 «price_krw», «num»층/25층, 입주 가능일 «date_ko».""",
    """에러 로그 보시면 request_id=«uuid», trace_id=«sha» 인데 원인을 모르겠어요. 처리 시간은 «ms»였습니다.""",
    """인증서 확장 필드 OID «oid», 서명 알고리즘 «oid». KISA 인증서 정책 OID는 1.2.410.200004.5.2.1.2 입니다.""",
    """주문 내역: 주문번호 «order_no» / «order_id», 상품 2건, 결제 «price_krw», 포인트 사용 «big»점. 고객님 연락처 «masked_phone»로 알림톡 발송 완료.""",
    """CSS 질문: @media (max-width: 600px) 안에서 @supports (display: grid) 를 쓰면 적용이 안 돼요. 색상은 #«sha7» 말고 #1a2b3c로 했어요.""",
    """git 커밋 «sha7»에서 버전을 «ver3»으로 올렸는데 CI가 실패합니다. 해시 전체는 «sha»입니다.""",
    """택배 3건 운송장번호: «tracking», «tracking», «tracking» (우체국). 우편번호 «zip_ko».""",
    """base64 인코딩 결과가 «b64» 인데 디코딩하면 깨져요. data URI는 «data_uri» 이렇게 넣었습니다.""",
    """스위치 펌웨어 «ver4s» → «ver4s» 업그레이드 후 포트 Gi1/0/«num» 링크가 안 올라옵니다. MAC은 «mac»입니다.""",
    """호텔 예약번호 «pnr»«num», 체크인 «date_ko» 15:00, 체크아웃 «date_ko» 11:00, 총 «price_krw» 결제 완료.""",
]


POOLS = {("en", True): EN_PII, ("ko", True): KO_PII, ("en", False): EN_CLEAN,
         ("ko", False): KO_CLEAN}


def build(seed, n):
    r = random.Random(seed)
    queues = {k: [] for k in POOLS}
    records = []
    for i in range(n):
        lang = "en" if i % 2 == 0 else "ko"
        pii = (i // 2) % 25 >= 11  # 11 of every 25 per language clean: 44%
        key = (lang, pii)
        if not queues[key]:
            queues[key] = list(range(len(POOLS[key])))
            r.shuffle(queues[key])
        t = POOLS[key][queues[key].pop()]
        for _ in range(200):
            text, spans = render(r, t)
            if acceptable(text, spans):
                break
        else:
            raise AssertionError(f"no acceptable rendering of {t[:60]!r}")
        assert bool(spans) == pii, (t[:60], spans)
        records.append({"text": text,
                        "spans": [{"start": a, "end": b, "kind": k} for a, b, k in spans]})
    return records


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20250917)
    ap.add_argument("--n", type=int, default=700)
    ap.add_argument("--out", default=os.path.join(ROOT, "garden-core/tests/data/pii/blind2.jsonl"))
    a = ap.parse_args()
    recs = build(a.seed, a.n)
    with open(a.out, "w", encoding="utf-8") as f:
        for rec in recs:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"wrote {len(recs)} records to {a.out}")


if __name__ == "__main__":
    main()
