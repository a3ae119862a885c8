#!/usr/bin/env python3
"""Writes an independent ("blind") labelled PII corpus: garden-core/tests/data/pii/blind.jsonl.

Written without looking at the scrubber or at the templates of make_corpus.py; only the record
shape is shared:
    {"text": "...", "spans": [{"start": 3, "end": 19, "kind": "email"}, ...]}
with `start`/`end` in Unicode code points (Python string indices). Kinds: email, phone, ip,
url_credentials (only the `user:pass` part of a URL), api_key, card, rrn, ssn, iban.

Labelling decisions (made up front, not tuned to any scrubber):
- Every syntactically real e-mail address is labelled, documentation ones (user@example.com)
  included. `@` look-alikes (npm `pkg@1.2.3`, `image@sha256:...`, `@decorators`, `@mentions`,
  CSS `@media`) are not e-mails.
- Every IPv4/IPv6 address that is used as an address in a PII text is labelled, private ranges
  included; ports, `/prefix` and `%zone` suffixes are outside the span. Clean texts contain no IP
  addresses, but do contain four-part version numbers (some of them IPv4-shaped, e.g. "release
  2.4.0.1"), OIDs, MAC addresses and times.
- Phone numbers are labelled as a whole, including a leading `+`, `(0)` and parentheses around an
  area code; Korean service numbers (1588-xxxx) and fax numbers are phone numbers too.
- Placeholder secrets (sk-your-key-here, xoxb-your-token, ghp_XXXX...) are not keys. Cloud secrets
  without a prefix (AWS secret access keys) are labelled api_key when they appear next to their
  key id (a handful of texts; they are listed in the stats printed at the end).
- Unlabelled digit runs of 13-19 digits (order numbers, EANs, tracking numbers) are kept
  Luhn-invalid so that no unlabelled text contains a number a card checker would accept.
- Korean business registration numbers (123-45-67890), OTP codes, conference PINs, AWS account
  ids in ARNs are not labelled.

Python 3 standard library only; deterministic (SEED below).
Usage: bench/pii/make_blind_corpus.py [--out FILE] [--n N]
"""

import argparse
import base64
import datetime
import json
import os
import random
import re
import string
import sys
import uuid

SEED = 7_340_211
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "garden-core", "tests", "data", "pii", "blind.jsonl")

ALNUM = string.ascii_letters + string.digits
UPPER_NUM = string.ascii_uppercase + string.digits
HEXD = "0123456789abcdef"
B64URL = ALNUM + "-_"


def rs(r, alphabet, n):
    return "".join(r.choice(alphabet) for _ in range(n))


def digits(r, n):
    return rs(r, string.digits, n)


# ------------------------------------------------------------------------------------------
# Checksums
# ------------------------------------------------------------------------------------------
def luhn_ok(num):
    total = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_fill(r, prefix, length):
    body = prefix + digits(r, length - len(prefix) - 1)
    for c in "0123456789":
        if luhn_ok(body + c):
            return body + c
    raise AssertionError


def luhn_bad(r, n, first=None):
    while True:
        s = (first or str(r.randint(1, 9))) + digits(r, n - 1 if first is None else n - len(first))
        if not luhn_ok(s):
            return s


def iban_check(country, bban):
    s = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in s)
    return "%02d" % (98 - int(num) % 97)


def iban_valid(iban):
    s = iban.replace(" ", "")
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


# ------------------------------------------------------------------------------------------
# Names and filler
# ------------------------------------------------------------------------------------------
FIRST = ["James", "Maria", "Olivia", "Liam", "Noah", "Emma", "Ava", "Lucas", "Sofia", "Ethan",
         "Priya", "Arjun", "Chen", "Wei", "Fatima", "Omar", "Hannah", "Jonas", "Claire", "Mateo",
         "Aisha", "Daniel", "Grace", "Tomasz", "Ingrid", "Kenji", "Yuki", "Sean", "Niamh", "Pierre"]
LAST = ["Smith", "Johnson", "Garcia", "Nguyen", "Patel", "Müller", "Rossi", "Kowalski", "Brown",
        "O'Connor", "Dubois", "Andersson", "Tanaka", "Okafor", "Silva", "Cohen", "Fischer",
        "Murphy", "Lopez", "Walker", "Khan", "Schmidt", "Moreau", "Ivanova", "Reyes"]
K_SUR = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권"]
K_GIVEN = ["민준", "서연", "지호", "하은", "도윤", "수빈", "예준", "지우", "현우", "서윤", "지민",
           "은지", "태현", "유나", "승민", "다은", "준서", "채원", "성호", "영희", "철수", "미경"]
K_ROMAN = {"김": "kim", "이": "lee", "박": "park", "최": "choi", "정": "jung", "강": "kang",
           "조": "cho", "윤": "yoon", "장": "jang", "임": "lim", "한": "han", "오": "oh",
           "서": "seo", "신": "shin", "권": "kwon"}
G_ROMAN = ["minjun", "seoyeon", "jiho", "haeun", "doyun", "subin", "yejun", "jiwoo", "hyunwoo",
           "seoyun", "jimin", "eunji", "taehyun", "yuna", "seungmin", "daeun", "junseo", "chaewon"]
COMPANY = ["Acme Corp", "Northwind Traders", "Globex", "Initech", "Umbrella Labs", "Hooli",
           "Vandelay Industries", "Stark Logistics", "Bluebird Health", "Pied Piper"]
COMPANY_KR = ["(주)한빛소프트웨어", "주식회사 누리테크", "다온물산", "(주)새벽로지스", "푸른바다식품",
              "한결컨설팅", "(주)모아페이", "별빛에듀"]
CITY = ["Austin, TX", "Leeds, UK", "Berlin", "Lyon", "Toronto, ON", "Dublin", "Melbourne",
        "Seattle, WA", "Manchester", "Munich"]


def name(r):
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def kname(r):
    return r.choice(K_SUR) + r.choice(K_GIVEN)


# ------------------------------------------------------------------------------------------
# PII value generators: return (value, [(start, end, kind), ...]) relative to the value
# ------------------------------------------------------------------------------------------
def whole(kind, v):
    return v, [(0, len(v), kind)]


def email_value(r, korean=False):
    f = r.choice(FIRST).lower()
    l = r.choice(LAST).lower().replace("ü", "u")
    k_s = r.choice(list(K_ROMAN.values()))
    k_g = r.choice(G_ROMAN)
    style = r.randrange(15)
    if korean and style < 8:
        style = 100 + r.randrange(8)
    if style == 0:
        v = f"{f}.{l.replace(chr(39), '')}@{r.choice(['gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com'])}"
    elif style == 1:
        v = f"{f}+{r.choice(['invoices', 'newsletter', 'github', 'shop2024', 'spam'])}@gmail.com"
    elif style == 2:
        v = f"{f[0]}.{l.replace(chr(39), '')}@{r.choice(['mail.', 'eu.', 'corp.', ''])}{r.choice(['acme-corp.com', 'globex.co.uk', 'initech.io', 'bluebird-health.org'])}"
    elif style == 3:
        v = f"{f}.o'{r.choice(['brien', 'neill', 'connor', 'hara'])}@{r.choice(['hotmail.co.uk', 'eircom.net', 'proton.me'])}"
    elif style == 4:
        v = f"{r.choice(['user', 'alice', 'bob', 'jane.doe', 'test.user'])}@{r.choice(['example.com', 'example.org', 'example.net'])}"
    elif style == 5:
        v = f"{f}_{l.replace(chr(39), '')}{r.randint(1, 99)}@{r.choice(['students.uni-leeds.ac.uk', 'cs.stanford.edu', 'tum.de', 'mail.utoronto.ca'])}"
    elif style == 6:
        v = f"{f.capitalize()}.{l.replace(chr(39), '').capitalize()}@{r.choice(['Contoso.com', 'NorthWind.COM', 'Fabrikam.net'])}"
    elif style == 7:
        v = f"{r.choice(['support', 'billing', 'hr', 'noreply', 'it-helpdesk', 'security'])}@{r.choice(['acme-corp.com', 'hooli.xyz', 'piedpiper.dev', 'vandelay.biz', 'status.globex.com'])}"
    elif style == 8:
        v = f"{f}{l[:1]}{r.randint(1970, 2005)}@{r.choice(['gmx.de', 'web.de', 'orange.fr', 'laposte.net', 'libero.it'])}"
    elif style == 9:
        v = f"{f}-{l.replace(chr(39), '')}@{r.choice(['sub.mail.example.co.uk', 'dept.research.uni.edu.au', 'eng.team.hooli.xyz'])}"
    elif style == 10:
        v = f"{k_s}.{k_g}@{r.choice(['gmail.com', 'naver.com', 'kakao.com'])}"
    elif style == 11:
        v = f"{f}.{l.replace(chr(39), '')}+{r.choice(['a', 'jira', 'ci'])}@{r.choice(['fastmail.com', 'hey.com'])}"
    elif style == 12:
        v = f"{r.choice(['josé', 'zoë', 'françois', 'müller', 'søren'])}@{r.choice(['gmail.com', 'correo.es', 'posteo.de'])}"
    elif style == 13:
        v = f"{f[0]}{l.replace(chr(39), '')[:6]}{digits(r, 3)}@{r.choice(['aol.com', 'msn.com', 'comcast.net'])}"
    elif style == 14:
        v = f"{f}@{l.replace(chr(39), '')}.family"
    # Korean styles
    elif style == 100:
        v = f"{k_s}{k_g}{r.randint(1, 99)}@{r.choice(['naver.com', 'daum.net', 'hanmail.net', 'nate.com'])}"
    elif style == 101:
        v = f"{k_g}.{k_s}@{r.choice(['hanbit-soft.co.kr', 'nuritech.kr', 'moapay.com', 'snu.ac.kr', 'kaist.ac.kr'])}"
    elif style == 102:
        v = f"{kname(r)}@{r.choice(['회사.한국', '누리.kr', 'naver.com', '한빛.com'])}"
    elif style == 103:
        v = f"{r.choice(['담당자', '고객센터', '인사팀', '홍길동'])}@{r.choice(['예시.한국', '모아페이.kr', 'daum.net'])}"
    elif style == 104:
        v = f"{k_s}_{k_g}@{r.choice(['kakao.com', 'gmail.com'])}"
    elif style == 105:
        v = f"{k_s}.{k_g}+{r.choice(['shop', 'work', 'bank'])}@gmail.com"
    elif style == 106:
        v = f"{k_g[0]}{k_s}{digits(r, 2)}@{r.choice(['korea.kr', 'seoul.go.kr', 'mail.yonsei.ac.kr'])}"
    else:
        v = f"{k_s}.{k_g}@{r.choice(['example.com', 'example.co.kr'])}"
    return whole("email", v)


def email_kr(r):
    return email_value(r, korean=True)


def email_hangul(r):
    v = f"{kname(r)}@{r.choice(['회사.한국', '예시.한국', 'naver.com', 'gmail.com'])}"
    return whole("email", v)


def _us_num(r):
    area = r.choice(["212", "415", "646", "312", "617", "206", "512", "305", "202", "718", "555"])
    ex = str(r.randint(2, 9)) + digits(r, 2)
    return area, ex, digits(r, 4)


def phone_us(r):
    a, e, n = _us_num(r)
    fmt = r.randrange(6)
    v = [f"({a}) {e}-{n}", f"{a}-{e}-{n}", f"{a}.{e}.{n}", f"+1 ({a}) {e}-{n}",
         f"+1 {a} {e} {n}", f"1-{a}-{e}-{n}"][fmt]
    return whole("phone", v)


def phone_uk(r):
    fmt = r.randrange(5)
    mob = "7" + str(r.choice([4, 5, 7, 8, 9])) + digits(r, 2)
    if fmt == 0:
        v = f"0{mob} {digits(r, 6)}"
    elif fmt == 1:
        v = f"+44 {mob} {digits(r, 6)}"
    elif fmt == 2:
        v = f"020 {r.choice('378')}{digits(r, 3)} {digits(r, 4)}"
    elif fmt == 3:
        v = f"+44 (0)20 {r.choice('378')}{digits(r, 3)} {digits(r, 4)}"
    else:
        v = f"0{r.choice(['113', '161', '131', '117'])} {digits(r, 3)} {digits(r, 4)}"
    return whole("phone", v)


def phone_de(r):
    fmt = r.randrange(6)
    if fmt == 0:
        v = f"030 {digits(r, 7)}"
    elif fmt == 1:
        v = f"089 {digits(r, 8)}"
    elif fmt == 2:
        v = f"+49 30 {digits(r, 8)}"
    elif fmt == 3:
        v = f"+49 (0)40 {digits(r, 3)} {digits(r, 4)}"
    elif fmt == 4:
        v = f"0{r.choice(['151', '160', '171', '176'])} {digits(r, 7)}"
    else:
        v = f"+49 {r.choice(['151', '172'])} {digits(r, 8)}"
    return whole("phone", v)


def phone_fr(r):
    pairs = lambda: " ".join(digits(r, 2) for _ in range(4))
    fmt = r.randrange(5)
    first = r.choice("123456789")
    if fmt == 0:
        v = f"0{first} {pairs()}"
    elif fmt == 1:
        v = f"+33 {first} {pairs()}"
    elif fmt == 2:
        v = "0" + first + "." + ".".join(digits(r, 2) for _ in range(4))
    elif fmt == 3:
        v = f"+33 (0){first} {pairs()}"
    else:
        v = f"0{r.choice('67')}{digits(r, 8)}"
    return whole("phone", v)


def phone_kr(r):
    fmt = r.randrange(10)
    mid, last = digits(r, 4), digits(r, 4)
    if fmt <= 3:
        v = f"010-{mid}-{last}"
    elif fmt == 4:
        v = f"010 {mid} {last}"
    elif fmt == 5:
        v = f"010{mid}{last}"
    elif fmt == 6:
        v = f"+82 10-{mid}-{last}"
    elif fmt == 7:
        v = f"+82-10-{mid}-{last}"
    elif fmt == 8:
        v = f"010.{mid}.{last}"
    else:
        v = f"+8210{mid}{last}"
    return whole("phone", v)


def phone_kr_land(r):
    fmt = r.randrange(7)
    if fmt == 0:
        v = f"02-{digits(r, 3)}-{digits(r, 4)}"
    elif fmt == 1:
        v = f"02-{digits(r, 4)}-{digits(r, 4)}"
    elif fmt == 2:
        v = f"{r.choice(['031', '032', '051', '053', '042', '062', '064'])}-{digits(r, 3)}-{digits(r, 4)}"
    elif fmt == 3:
        v = f"{r.choice(['1588', '1544', '1577', '1661', '1600'])}-{digits(r, 4)}"
    elif fmt == 4:
        v = f"(02) {digits(r, 3)}-{digits(r, 4)}"
    elif fmt == 5:
        v = f"+82 2 {digits(r, 4)} {digits(r, 4)}"
    else:
        v = f"070-{digits(r, 4)}-{digits(r, 4)}"
    return whole("phone", v)


def phone_intl(r):
    fmt = r.randrange(10)
    if fmt == 0:
        v = f"+81 3-{digits(r, 4)}-{digits(r, 4)}"
    elif fmt == 1:
        v = f"+61 2 {digits(r, 4)} {digits(r, 4)}"
    elif fmt == 2:
        v = f"+91 {r.choice('6789')}{digits(r, 4)} {digits(r, 5)}"
    elif fmt == 3:
        v = f"+86 1{r.choice('3589')}{digits(r, 1)} {digits(r, 4)} {digits(r, 4)}"
    elif fmt == 4:
        v = f"+34 6{digits(r, 2)} {digits(r, 3)} {digits(r, 3)}"
    elif fmt == 5:
        v = f"+31 6 {digits(r, 8)}"
    elif fmt == 6:
        v = f"+353 8{r.choice('3567')} {digits(r, 3)} {digits(r, 4)}"
    elif fmt == 7:
        v = f"+1-{r.choice(['416', '604', '514'])}-{digits(r, 3)}-{digits(r, 4)}"
    elif fmt == 8:
        v = f"+55 11 9{digits(r, 4)}-{digits(r, 4)}"
    else:
        v = f"+{r.choice(['44', '49', '33', '61'])}{r.choice('1234567')}{digits(r, 8)}"
    return whole("phone", v)


def phone_any(r):
    return r.choice([phone_us, phone_us, phone_uk, phone_de, phone_fr, phone_kr, phone_kr_land,
                     phone_intl, phone_intl])(r)


def ipv4_str(r, private_share=0.3):
    x = r.random()
    if x < private_share / 3:
        return f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    if x < 2 * private_share / 3:
        return f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"
    if x < private_share:
        return f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    if x < private_share + 0.1:
        return r.choice(["192.0.2.", "198.51.100.", "203.0.113."]) + str(r.randint(1, 254))
    first = r.choice([i for i in range(1, 224) if i not in (10, 127, 172, 192, 169, 100)])
    return f"{first}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"


def ipv4(r):
    return whole("ip", ipv4_str(r))


def ipv6_str(r):
    groups = [format(r.getrandbits(16), "x") for _ in range(8)]
    style = r.randrange(6)
    if style == 0:
        groups[0], groups[1] = "2001", "db8"
    elif style == 1:
        groups[:4] = ["fe80", "0", "0", "0"]
    else:
        groups[0] = r.choice(["2a02", "2600", "2404", "2001", "2406", "2a01", "2003", "2604", "240e"])
    if style == 3:
        v = ":".join(g.zfill(4) for g in groups)  # full form
    elif style == 5:
        return "::ffff:" + ipv4_str(r, 0.0)
    else:
        # compress a zero run
        i = r.randint(2, 5)
        n = r.randint(1, 8 - i - 1)
        for k in range(i, i + n):
            groups[k] = "0"
        if style == 1:
            v = "fe80::" + ":".join(format(r.getrandbits(16), "x") for _ in range(4))
        else:
            v = ":".join(groups[:i]) + "::" + ":".join(groups[i + n:])
    if r.random() < 0.2:
        v = v.upper()
    return v


def ipv6(r):
    return whole("ip", ipv6_str(r))


def ip_any(r):
    return ipv6(r) if r.random() < 0.3 else ipv4(r)


def password(r):
    n = r.randint(8, 20)
    pw = rs(r, ALNUM, n)
    if r.random() < 0.6:
        pos = r.randrange(n)
        pw = pw[:pos] + r.choice("!$*-_.~") + pw[pos:]
    if r.random() < 0.2:
        pw += r.choice(["%21", "%40", "%23"])
    return pw


def url_cred(r, schemes=None):
    user = r.choice(["admin", "deploy", "svc_backup", "app", "root", "postgres", "ci-bot",
                     r.choice(G_ROMAN), r.choice(FIRST).lower(), "user%40acme-corp.com"])
    pw = password(r)
    scheme = r.choice(schemes or ["https", "https", "http", "postgres", "postgresql", "mysql",
                                  "mongodb+srv", "redis", "amqp", "ftp", "sftp", "smtp"])
    cred = f"{user}:{pw}"
    host_kind = r.random()
    spans = [(len(scheme) + 3, len(scheme) + 3 + len(cred), "url_credentials")]
    prefix = f"{scheme}://{cred}@"
    if host_kind < 0.2:
        ip = ipv4_str(r)
        spans.append((len(prefix), len(prefix) + len(ip), "ip"))
        host = ip
    else:
        host = r.choice({
            "postgres": ["db.internal", "prod-db-01.c9akciq32.us-east-1.rds.amazonaws.com"],
            "postgresql": ["pg.staging.acme-corp.com", "db.internal"],
            "mysql": ["mysql-primary.prod.local", "shop-db.cluster-ro-c1x2.ap-northeast-2.rds.amazonaws.com"],
            "mongodb+srv": ["cluster0.x7kq2.mongodb.net", "prod.ab12c.mongodb.net"],
            "redis": ["cache.prod.local", "redis-12345.c1.eu-west-1-2.ec2.cloud.redislabs.com"],
            "amqp": ["mq.acme-corp.com", "rabbit.internal"],
            "ftp": ["files.example.com", "ftp.hooli.xyz"], "sftp": ["sftp.vandelay.biz"],
            "smtp": ["smtp.mailgun.org", "smtp.office365.com"],
        }.get(scheme, ["gitlab.com", "registry.hooli.xyz", "files.example.com", "proxy.corp.local",
                       "nexus.acme-corp.com", "github.com"]))
    port = {"postgres": ":5432", "postgresql": ":5432", "mysql": ":3306", "redis": ":6379",
            "amqp": ":5672", "ftp": ":21", "smtp": ":587"}.get(scheme, "")
    path = r.choice(["/", "/app", "/orders?sslmode=require", "/0", "/group/project.git",
                     "/backups/2024/", "", "/v2/"]) if scheme != "smtp" else ""
    return prefix + host + port + path, spans


def key_openai(r):
    if r.random() < 0.5:
        return whole("api_key", "sk-" + rs(r, ALNUM, 48))
    return whole("api_key", "sk-proj-" + rs(r, B64URL, r.choice([48, 64, 100])))


def key_gh(r):
    x = r.random()
    if x < 0.6:
        return whole("api_key", "ghp_" + rs(r, ALNUM, 36))
    if x < 0.8:
        return whole("api_key", r.choice(["gho_", "ghs_", "ghu_"]) + rs(r, ALNUM, 36))
    return whole("api_key", "github_pat_11" + rs(r, UPPER_NUM, 20) + "_" + rs(r, ALNUM, 59))


def key_slack(r):
    p = r.choice(["xoxb", "xoxb", "xoxp", "xoxa"])
    return whole("api_key", f"{p}-{digits(r, r.choice([11, 12, 13]))}-{digits(r, 13)}-{rs(r, ALNUM, 24)}")


def key_aws(r):
    return whole("api_key", r.choice(["AKIA", "AKIA", "ASIA"]) + rs(r, string.ascii_uppercase + "234567", 16))


def aws_secret(r):
    return whole("api_key", rs(r, ALNUM + "+/", 40))


def key_sg(r):
    return whole("api_key", "SG." + rs(r, B64URL, 22) + "." + rs(r, B64URL, 43))


def key_gl(r):
    return whole("api_key", "glpat-" + rs(r, B64URL, 20))


def key_stripe(r):
    return whole("api_key", r.choice(["sk_live_", "rk_live_", "sk_test_"]) + rs(r, ALNUM, r.choice([24, 99])))


def key_google(r):
    return whole("api_key", "AIza" + rs(r, B64URL, 35))


def key_anthropic(r):
    return whole("api_key", "sk-ant-api03-" + rs(r, B64URL, 93) + "AA")


def key_hf(r):
    return whole("api_key", "hf_" + rs(r, string.ascii_letters, 34))


def key_npm(r):
    return whole("api_key", "npm_" + rs(r, ALNUM, 36))


def key_any(r):
    return r.choice([key_openai, key_openai, key_gh, key_gh, key_slack, key_aws, key_sg, key_gl,
                     key_stripe, key_google, key_anthropic, key_hf, key_npm])(r)


def card(r):
    issuer = r.randrange(9)
    if issuer <= 2:
        num, groups = luhn_fill(r, "4", 16), [4, 4, 4, 4]
    elif issuer == 3:
        num, groups = luhn_fill(r, str(r.randint(51, 55)), 16), [4, 4, 4, 4]
    elif issuer == 4:
        num, groups = luhn_fill(r, str(r.randint(2221, 2720)), 16), [4, 4, 4, 4]
    elif issuer == 5:
        num, groups = luhn_fill(r, r.choice(["34", "37"]), 15), [4, 6, 5]
    elif issuer == 6:
        num, groups = luhn_fill(r, r.choice(["6011", "65"]), 16), [4, 4, 4, 4]
    elif issuer == 7:
        num, groups = luhn_fill(r, str(r.randint(3528, 3589)), 16), [4, 4, 4, 4]
    else:
        if r.random() < 0.5:
            num, groups = luhn_fill(r, "36", 14), [4, 6, 4]
        else:
            num, groups = luhn_fill(r, "62", 19), [4, 4, 4, 4, 3]
    sep = r.choice(["", " ", " ", "-"])
    out, i = [], 0
    for g in groups:
        out.append(num[i:i + g])
        i += g
    return whole("card", sep.join(out))


IBAN_SPECS = {  # country: bban pattern (n digits, a letters, c alnum)
    "DE": "18n", "GB": "4a14n", "FR": "10n11c2n", "ES": "20n", "IT": "1a10n12c", "NL": "4a10n",
    "BE": "12n", "CH": "5n12c", "AT": "16n", "PL": "24n", "SE": "20n", "IE": "4a14n",
}


def iban(r, country=None):
    country = country or r.choice(list(IBAN_SPECS))
    bban = []
    for n, t in re.findall(r"(\d+)([nac])", IBAN_SPECS[country]):
        alpha = {"n": string.digits, "a": string.ascii_uppercase, "c": UPPER_NUM}[t]
        bban.append(rs(r, alpha, int(n)))
    bban = "".join(bban)
    v = country + iban_check(country, bban) + bban
    if r.random() < 0.6:
        v = " ".join(v[i:i + 4] for i in range(0, len(v), 4))
    return whole("iban", v)


def iban_de(r):
    return iban(r, "DE")


def rrn(r):
    year = r.randint(1945, 2021)
    d = datetime.date(year, 1, 1) + datetime.timedelta(days=r.randrange(365))
    foreign = r.random() < 0.07
    male = r.random() < 0.5
    if year < 2000:
        g = (5 if male else 6) if foreign else (1 if male else 2)
    else:
        g = (7 if male else 8) if foreign else (3 if male else 4)
    body = d.strftime("%y%m%d") + str(g) + digits(r, 5)
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    check = (11 - sum(int(c) * k for c, k in zip(body, w)) % 11) % 10
    full = body + str(check)
    v = full[:6] + "-" + full[6:] if r.random() < 0.85 else full
    return whole("rrn", v)


def ssn(r):
    area = r.randint(1, 899)
    while area == 666:
        area = r.randint(1, 899)
    v = (f"{area:03d}", f"{r.randint(1, 99):02d}", f"{r.randint(1, 9999):04d}")
    x = r.random()
    sep = "-" if x < 0.8 else (" " if x < 0.9 else "")
    return whole("ssn", sep.join(v))


PII_GENS = {
    "EMAIL": email_value, "EMAIL_KR": email_kr, "EMAIL_HANGUL": email_hangul,
    "PHONE": phone_any, "PHONE_US": phone_us, "PHONE_UK": phone_uk, "PHONE_DE": phone_de,
    "PHONE_FR": phone_fr, "PHONE_KR": phone_kr, "PHONE_KR_LAND": phone_kr_land,
    "PHONE_INTL": phone_intl,
    "IP": ip_any, "IP4": ipv4, "IP6": ipv6, "URLCRED": url_cred,
    "URLCRED_WEB": lambda r: url_cred(r, ["https", "https", "http"]),
    "KEY": key_any, "KEY_OPENAI": key_openai, "KEY_GH": key_gh, "KEY_SLACK": key_slack,
    "KEY_AWS": key_aws, "AWS_SECRET": aws_secret, "KEY_SG": key_sg, "KEY_GL": key_gl,
    "KEY_STRIPE": key_stripe, "KEY_GOOGLE": key_google, "KEY_ANTHROPIC": key_anthropic,
    "KEY_HF": key_hf, "KEY_NPM": key_npm,
    "CARD": card, "IBAN": iban, "IBAN_DE": iban_de, "RRN": rrn, "SSN": ssn,
}


# ------------------------------------------------------------------------------------------
# Look-alike (unlabelled) generators: return plain strings
# ------------------------------------------------------------------------------------------
def rand_date(r):
    return datetime.date(2019, 1, 1) + datetime.timedelta(days=r.randrange(2200))


def isbn13(r):
    body = "978" + digits(r, 9)
    s = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body))
    full = body + str((10 - s % 10) % 10)
    return f"{full[:3]}-{full[3]}-{full[4:8]}-{full[8:12]}-{full[12]}"


def isbn10(r):
    body = digits(r, 9)
    s = sum(int(c) * (10 - i) for i, c in enumerate(body))
    c = (11 - s % 11) % 11
    full = body + ("X" if c == 10 else str(c))
    return f"{full[0]}-{full[1:4]}-{full[4:9]}-{full[9]}"


def b64(r, nbytes):
    return base64.b64encode(bytes(r.getrandbits(8) for _ in range(nbytes))).decode()


def krw(r):
    return f"{r.randint(1, 9_999_999):,}"


def price(r):
    return f"{r.randint(1, 4999):,}.{r.randint(0, 99):02d}"


LOOK = {
    "name": name, "kname": kname,
    "company": lambda r: r.choice(COMPANY), "company_kr": lambda r: r.choice(COMPANY_KR),
    "city": lambda r: r.choice(CITY),
    "date": lambda r: rand_date(r).isoformat(),
    "date_us": lambda r: rand_date(r).strftime("%m/%d/%Y"),
    "date_long": lambda r: rand_date(r).strftime("%B %d, %Y").replace(" 0", " "),
    "kdate": lambda r: (lambda d: f"{d.year}년 {d.month}월 {d.day}일")(rand_date(r)),
    "kdate_dot": lambda r: (lambda d: f"{d.year}. {d.month}. {d.day}.")(rand_date(r)),
    "ts": lambda r: f"{rand_date(r).isoformat()}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{digits(r, 3)}Z",
    "logts": lambda r: f"{rand_date(r).isoformat()} {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d},{digits(r, 3)}",
    "clf": lambda r: rand_date(r).strftime("%d/%b/%Y") + f":{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d} +0000",
    "time": lambda r: f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}",
    "h": lambda r: str(r.randint(1, 11)), "m": lambda r: str(r.choice([10, 15, 20, 30, 40, 45])),
    "mm": lambda r: "%02d" % r.randint(0, 59),
    "price": price, "krw": krw,
    "int": lambda r: str(r.randint(1, 99999)), "int3": lambda r: str(r.randint(100, 999)),
    "int2": lambda r: str(r.randint(2, 40)), "pid": lambda r: str(r.randint(300, 65000)),
    "port": lambda r: str(r.randint(1025, 65535)), "ms": lambda r: str(r.randint(3, 30000)),
    "year": lambda r: str(r.randint(2019, 2025)), "int6": lambda r: digits(r, 6),
    "semver": lambda r: f"{r.randint(0, 12)}.{r.randint(0, 30)}.{r.randint(0, 20)}",
    "ver4": lambda r: f"{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}.{r.randint(0, 40)}",
    "winver": lambda r: f"10.0.{r.choice([19045, 22621, 22631, 26100])}.{r.randint(1000, 4999)}",
    "chrome": lambda r: f"Chrome/{r.randint(110, 131)}.0.{r.randint(5000, 6999)}.{r.randint(10, 250)}",
    "isbn13": isbn13, "isbn10": isbn10,
    "uuid": lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "sha": lambda r: rs(r, HEXD, 40), "sha7": lambda r: rs(r, HEXD, 7),
    "hex64": lambda r: rs(r, HEXD, 64), "hex32": lambda r: rs(r, HEXD, 32),
    "hex16": lambda r: rs(r, HEXD, 16),
    "b64": lambda r: b64(r, r.randint(40, 120)), "b64short": lambda r: b64(r, 32).rstrip("="),
    "b64long": lambda r: b64(r, r.randint(150, 300)),
    "amazon_order": lambda r: f"{digits(r, 3)}-{digits(r, 7)}-{digits(r, 7)}",
    "ups": lambda r: "1Z" + rs(r, UPPER_NUM, 16),
    "usps": lambda r: "9400 " + " ".join(digits(r, 4) for _ in range(4)) + " " + digits(r, 2),
    "fedex": lambda r: f"{digits(r, 4)} {digits(r, 4)} {digits(r, 4)}",
    "order_kr": lambda r: f"{rand_date(r).strftime('%Y%m%d')}-{digits(r, 7)}",
    "longorder": lambda r: luhn_bad(r, r.choice([13, 14, 15, 16, 17, 18, 19])),
    "ean": lambda r: luhn_bad(r, 13, "880"),
    "track_kr": lambda r: digits(r, 12),
    "bizno": lambda r: f"{digits(r, 3)}-{digits(r, 2)}-{digits(r, 5)}",
    "zip5": lambda r: digits(r, 5),
    "invoice": lambda r: f"INV-{r.randint(2019, 2025)}-{digits(r, 5)}",
    "txn": lambda r: "ch_" + rs(r, ALNUM, 24),
    "conf": lambda r: rs(r, string.ascii_uppercase + "23456789", 6),
    "bic": lambda r: rs(r, string.ascii_uppercase, 4) + r.choice(["DE", "GB", "FR", "NL", "ES", "IT"]) + rs(r, UPPER_NUM, 2) + r.choice(["", "XXX"]),
    "mac": lambda r: ":".join(rs(r, "0123456789ABCDEF", 2) for _ in range(6)),
    "sect": lambda r: ".".join(str(r.randint(1, 12)) for _ in range(r.randint(2, 5))),
    "otp": lambda r: digits(r, 6), "auth": lambda r: digits(r, 8),
    "slug": lambda r: f"{r.choice(FIRST).lower()}-{r.choice(['dev', 'pm', 'eng', 'ux'])}-{rs(r, HEXD, 6)}",
    "salary": lambda r: f"{r.randint(55, 240)},000",
    "exp": lambda r: f"{r.randint(1, 12):02d}/{r.randint(25, 31)}",
    "arn_acct": lambda r: digits(r, 12),
    "pct": lambda r: f"{r.randint(0, 99)}.{r.randint(0, 9)}",
    "placeholder_key": lambda r: r.choice([
        "sk-your-key-here", "sk-...", "sk-xxxxxxxxxxxxxxxxxxxxxxxx", "<YOUR_OPENAI_API_KEY>",
        "xoxb-your-token", "xoxb-xxxxxxxxxxxx-xxxxxxxxxxxxx", "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "ghp_xxxxxxxx", "glpat-xxxxxxxxxxxxxxxxxxxx", "SG.xxxxx.yyyyy", "YOUR_API_KEY",
        "sk-proj-REPLACE_ME", "AKIA................", "${OPENAI_API_KEY}", "<token>",
        "sk_live_...", "hf_********************************"]),
}


# ------------------------------------------------------------------------------------------
# Templates. ⟦NAME⟧ is a slot; upper-case names are labelled PII, lower-case names are
# unlabelled look-alikes. ⟦NAME#k⟧ repeats the k-th value of that slot name in the same text.
# ------------------------------------------------------------------------------------------
EN_PII = [
    "Hi, I can't log in to my account. The email on file is ⟦EMAIL⟧ and my phone is ⟦PHONE⟧. Order ⟦amazon_order⟧ was charged twice ($⟦price⟧). Could someone call me back?",
    "Name: ⟦name⟧\nEmail: ⟦EMAIL⟧\nPhone: ⟦PHONE_US⟧\nDate of birth: ⟦date_us⟧\nSSN: ⟦SSN⟧\nEmployer: ⟦company⟧",
    "Thanks,\n⟦name⟧\nSenior Account Manager | ⟦company⟧\nM: ⟦PHONE⟧\nE: ⟦EMAIL⟧",
    "⟦logts⟧ WARN  auth.LoginService - failed login for user=⟦EMAIL⟧ from ⟦IP4⟧ (attempt 3/5)",
    "⟦IP4⟧ - - [⟦clf⟧] \"GET /api/v2/orders/⟦int⟧ HTTP/1.1\" 200 ⟦int⟧ \"-\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ⟦chrome⟧ Safari/537.36\"",
    "Mar  5 ⟦time⟧:11 web-01 sshd[⟦pid⟧]: Accepted publickey for deploy from ⟦IP6⟧ port ⟦port⟧ ssh2: ED25519 SHA256:⟦b64short⟧",
    "# .env (staging)\nDATABASE_URL=⟦URLCRED⟧\nREDIS_URL=redis://localhost:6379/0\nOPENAI_API_KEY=⟦KEY_OPENAI⟧\nDEBUG=false\nMAX_WORKERS=8",
    "why does this return 401??\n\n```python\nfrom openai import OpenAI\nclient = OpenAI(api_key=\"⟦KEY_OPENAI⟧\")\nresp = client.chat.completions.create(model=\"gpt-4o\", temperature=0.2, max_tokens=512, messages=msgs)\n```",
    "curl -s -H 'Authorization: token ⟦KEY_GH⟧' 'https://api.github.com/repos/acme/widgets/commits?per_page=100&page=2'",
    "slack:\n  bot_token: \"⟦KEY_SLACK⟧\"\n  channel: \"#deploys\"\n  retry: 3\n  timeout_s: 2.5",
    "[default]\naws_access_key_id = ⟦KEY_AWS⟧\naws_secret_access_key = ⟦AWS_SECRET⟧\nregion = us-east-1\noutput = json",
    "import sendgrid\nsg = sendgrid.SendGridAPIClient('⟦KEY_SG⟧')\nmsg = Mail(from_email='⟦EMAIL⟧', to_emails='⟦EMAIL⟧', subject='Your receipt #⟦int⟧')",
    "variables:\n  GITLAB_TOKEN: ⟦KEY_GL⟧\n  DOCKER_TLS_CERTDIR: \"/certs\"\nstages: [build, test, deploy]",
    "Payment details for the booking on ⟦date_long⟧: card ⟦CARD⟧, exp ⟦exp⟧, name on card ⟦name⟧.",
    "Please wire the outstanding balance of €⟦price⟧ to IBAN ⟦IBAN⟧ (BIC ⟦bic⟧), reference ⟦invoice⟧.",
    "⟦name⟧\n⟦city⟧ · ⟦PHONE⟧ · ⟦EMAIL⟧ · linkedin.com/in/⟦slug⟧\n\nEXPERIENCE\nSenior Engineer, ⟦company⟧ (2019–2024)\n- Cut p99 latency by 38% across ⟦int2⟧ services\n- Led migration to Kubernetes 1.27",
    "lol my new number is ⟦PHONE⟧ text me there, old one's dead",
    "{\"user\": {\"id\": ⟦int⟧, \"email\": \"⟦EMAIL⟧\", \"phone\": \"⟦PHONE⟧\", \"last_ip\": \"⟦IP⟧\", \"plan\": \"pro\", \"seats\": ⟦int2⟧}}",
    "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server failed: timeout expired\n(Background on this error at: https://sqlalche.me/e/20/e3q8)\nengine url: ⟦URLCRED⟧",
    "Employee ⟦name⟧, SSN ⟦SSN⟧, start date ⟦date⟧, base salary $⟦salary⟧, manager ⟦name⟧.",
    "stripe.api_key = \"⟦KEY_STRIPE⟧\"\ncharge = stripe.Charge.create(amount=⟦int⟧, currency=\"usd\", source=\"tok_visa\")",
    "services:\n  api:\n    image: ghcr.io/acme/api:⟦semver⟧\n    environment:\n      - MONGO_URL=⟦URLCRED⟧\n      - ADMIN_EMAIL=⟦EMAIL⟧\n    ports:\n      - \"8080:8080\"",
    "ufw allow from ⟦IP4⟧ to any port 22 proto tcp\nufw allow from ⟦IP6⟧ to any port 443\nufw deny 3306",
    "From: ⟦name⟧ <⟦EMAIL⟧>\nTo: ⟦EMAIL⟧\nCc: ⟦EMAIL⟧\nSubject: Re: Q3 invoice ⟦invoice⟧\nDate: ⟦date_long⟧\n\nHi, attached is the corrected invoice. Total is $⟦price⟧, due in 30 days.",
    "| Name | Email | Phone |\n|------|-------|-------|\n| ⟦name⟧ | ⟦EMAIL⟧ | ⟦PHONE⟧ |\n| ⟦name⟧ | ⟦EMAIL⟧ | ⟦PHONE⟧ |",
    "Guest: ⟦name⟧ | Card on file: ⟦CARD⟧ | Confirmation #⟦conf⟧ | Check-in ⟦date⟧ 15:00",
    "I was charged twice on ⟦date_long⟧. The card is ⟦CARD⟧ and the transaction IDs are ⟦txn⟧ and ⟦txn⟧. Please refund one of them.",
    "[remote \"origin\"]\n\turl = ⟦URLCRED⟧\n\tfetch = +refs/heads/*:refs/remotes/origin/*",
    "$ huggingface-cli login --token ⟦KEY_HF⟧\nToken is valid (permission: write).",
    "const MAPS_KEY = '⟦KEY_GOOGLE⟧';\nconst map = new google.maps.Map(el, { zoom: 12, center: { lat: 51.5072, lng: -0.1276 } });",
    "//registry.npmjs.org/:_authToken=⟦KEY_NPM⟧\n@acme:registry=https://npm.pkg.github.com",
    "export ANTHROPIC_API_KEY=⟦KEY_ANTHROPIC⟧\npython run_eval.py --model claude-3-5-sonnet --n 200 --temperature 0.0",
    "W-9 summary: ⟦name⟧, TIN (SSN) ⟦SSN⟧, federal tax classification: individual/sole proprietor.",
    "Ring me on ⟦PHONE_UK⟧ after 6pm, or try the office on ⟦PHONE_UK⟧.",
    "Kontakt für Rückfragen: Tel. ⟦PHONE_DE⟧, E-Mail ⟦EMAIL⟧. Bankverbindung: IBAN ⟦IBAN_DE⟧",
    "Pour toute question, appelez le ⟦PHONE_FR⟧ ou écrivez à ⟦EMAIL⟧.",
    "psql: error: connection to server at \"⟦IP4⟧\", port 5432 failed: FATAL:  password authentication failed for user \"app\"",
    "users = [\n    (\"⟦name⟧\", \"⟦EMAIL⟧\", \"⟦PHONE⟧\"),\n    (\"⟦name⟧\", \"⟦EMAIL⟧\", \"⟦PHONE⟧\"),\n]",
    "⟦EMAIL⟧",
    "⟦PHONE⟧",
    "Contact: [⟦EMAIL#1⟧](mailto:⟦EMAIL#1⟧)",
    "Reach me at <⟦EMAIL⟧>, or (⟦PHONE_US⟧).",
    "Server `⟦IP4⟧` keeps dropping; secondary is `⟦IP4⟧`; v6 `⟦IP6⟧`.",
    "upstream backend {\n    server ⟦IP4⟧:8080 weight=3;\n    server ⟦IP4⟧:8080;\n    server [⟦IP6⟧]:8080 backup;\n}",
    "Our US office is ⟦PHONE_US⟧; Tokyo is ⟦PHONE_INTL⟧; Sydney is ⟦PHONE_INTL⟧.",
    "Tax refund: please deposit to ⟦IBAN⟧. My phone is ⟦PHONE_INTL⟧ if anything is unclear.",
    "Can you check why my card ⟦CARD⟧ was declined? Amount was $⟦price⟧ at ⟦time⟧ today.",
    "SSN: ⟦SSN⟧",
    "Applicant SSN is ⟦SSN⟧; co-applicant ⟦SSN⟧.",
    "Here is the full config, just redact what's sensitive:\n```yaml\ndatabase:\n  url: ⟦URLCRED⟧\n  pool: 20\napi_keys:\n  openai: ⟦KEY_OPENAI⟧\n  github: ⟦KEY_GH⟧\n```",
    "The webhook posts from ⟦IP4⟧ and ⟦IP4⟧ only; requests from anywhere else get 403.",
    "GITHUB_TOKEN=\"⟦KEY_GH⟧\" gh release create v⟦semver⟧ --notes-file CHANGELOG.md",
    "ERROR 2025 [⟦ts⟧] smtp: 535 5.7.8 authentication failed for ⟦EMAIL⟧ via ⟦URLCRED⟧",
    "Please update my details — new email: ⟦EMAIL⟧; new mobile: ⟦PHONE⟧.",
    "Reimbursement form\nPayee: ⟦name⟧\nIBAN: ⟦IBAN⟧\nAmount: €⟦price⟧\nExpense date: ⟦date⟧",
    "keys I found in the old repo, are these still live? ⟦KEY⟧ and ⟦KEY⟧",
    "Billing profile updated: ⟦CARD⟧ (exp ⟦exp⟧) replaces the card ending in 4417.",
    "card_number,exp,zip\n⟦CARD⟧,⟦exp⟧,⟦zip5⟧\n⟦CARD⟧,⟦exp⟧,⟦zip5⟧",
    "{\"payment_method\": {\"type\": \"card\", \"number\": \"⟦CARD⟧\", \"exp_month\": 8, \"exp_year\": 2027}, \"amount\": ⟦int⟧}",
    "SEPA direct debit mandate\nDebtor: ⟦name⟧\nIBAN: ⟦IBAN⟧\nMandate ref: MR-⟦int6⟧, signed ⟦date⟧",
    "payout:\n  iban: ⟦IBAN⟧\n  bic: ⟦bic⟧\n  currency: EUR",
    "Rent goes to ⟦IBAN⟧ on the 1st of each month (€⟦price⟧).",
    "GET /verify?ssn=⟦SSN⟧&dob=⟦date_us⟧&zip=⟦zip5⟧ HTTP/1.1",
    "My social is ⟦SSN⟧ — is it safe to type that into this form?",
    "id,name,ssn,hired\n⟦int⟧,⟦name⟧,⟦SSN⟧,⟦date⟧\n⟦int⟧,⟦name⟧,⟦SSN⟧,⟦date⟧",
    "pip install --index-url ⟦URLCRED_WEB⟧ internal-utils==⟦semver⟧",
    "git clone ⟦URLCRED_WEB⟧ && cd project && make",
    "app.conf.broker_url = '⟦URLCRED⟧'\napp.conf.result_backend = 'rpc://'",
    "tcpdump: ⟦time⟧:07.512 IP ⟦IP4⟧.443 > ⟦IP4⟧.51234: Flags [P.], seq 1:518, ack 1, win 501, length 517",
]

EN_CLEAN = [
    "Running Windows ⟦winver⟧ with Chrome ⟦semver⟧; the extension v⟦semver⟧ crashes on startup.\nUA: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ⟦chrome⟧ Safari/537.36",
    "The certificate uses signature algorithm OID 1.2.840.113549.1.1.11 (sha256WithRSAEncryption); the subject CN is OID 2.5.4.3 and the EKU is 1.3.6.1.5.5.7.3.1.",
    "See section ⟦sect⟧ and §⟦sect⟧ of the spec; RFC 5321 section 4.5.3.1.1 limits the local part to 64 octets.",
    "Your order #⟦amazon_order⟧ shipped on ⟦date_long⟧. Tracking: ⟦ups⟧. Total: $⟦price⟧ (incl. $⟦price⟧ tax).",
    "Reading list: 'Designing Data-Intensive Applications', ISBN ⟦isbn13⟧; 'The Pragmatic Programmer', ISBN ⟦isbn10⟧.",
    "commit ⟦sha⟧\nMerge: ⟦sha7⟧ ⟦sha7⟧\nDate:   ⟦date⟧ ⟦time⟧:42 +0200\n\n    Bump version to ⟦semver⟧ (#⟦int⟧)",
    "OPENAI_API_KEY=⟦placeholder_key⟧\nSLACK_BOT_TOKEN=xoxb-your-token\nGITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n# replace the values above before running",
    "Set `api_key` to your own key (it starts with `sk-`). Never commit keys; use `export OPENAI_API_KEY=⟦placeholder_key⟧` instead.",
    "<img src=\"data:image/png;base64,⟦b64⟧\" alt=\"logo\" width=\"64\" height=\"64\">",
    "Request ⟦uuid⟧ failed after ⟦ms⟧ ms (trace_id=⟦hex32⟧ span_id=⟦hex16⟧, retry 2/3).",
    "If x = 3.14159 and y = 2.71828 then x*y ≈ 8.5397. Also 2^32 = 4294967296, 10! = 3628800 and 0.1 + 0.2 = 0.30000000000000004.",
    "const MAX_U32 = 4294967295;\nconst MASK = 0xFFFF_FFFF;\nlet timeoutMs = 30_000;\nfn main() { let v = vec![1, 22, 333, 4444, 55555]; println!(\"{:?}\", v); }",
    "Invoice ⟦invoice⟧\nDate: ⟦date⟧\nDue: ⟦date⟧\n\nItem            Qty   Unit       Total\nConsulting       12   $150.00    $1,800.00\nHosting           1   $⟦price⟧    $⟦price⟧\nTax (8.875%)                     $⟦price⟧\nTotal                            $⟦price⟧",
    "Backup started ⟦ts⟧, finished ⟦time⟧:13; 1,284,113 files, 412.7 GiB, exit code 0.",
    "image: nginx@sha256:⟦hex64⟧\nimagePullPolicy: IfNotPresent",
    "npm install react@18.2.0 @types/node@20.11.5 lodash@^4.17.21 --save-exact",
    "@dataclass(frozen=True)\nclass Point:\n    x: float = 0.0\n    y: float = 0.0\n\n    @property\n    def norm(self) -> float:\n        return (self.x ** 2 + self.y ** 2) ** 0.5",
    "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: web\n          image: registry.example.com/web:⟦semver⟧\n          ports:\n            - containerPort: 8080\n          resources:\n            limits: {cpu: \"500m\", memory: \"512Mi\"}",
    "Device info: MAC ⟦mac⟧, serial SN-⟦int6⟧, firmware ⟦ver4⟧, uptime 12d 04:17:55.",
    "Final score 3–2 after extra time; attendance 61,245; possession 54.3% vs 45.7%.",
    "USPS tracking number: ⟦usps⟧ — expected delivery ⟦date_long⟧.",
    "Requires Python >=3.8,<3.13; tested on 3.11.7 and 3.12.1. Node 20.11.1 for the frontend.",
    "Here's the encoded payload:\n⟦b64long⟧\nIt should decode to a protobuf message of about 200 bytes.",
    "Meet at 40.7484, -73.9857 around 18:30, table for 6.",
    "sort([5, 3, 8, 1, 9, 2]) -> [1, 2, 3, 5, 8, 9] in 0.000012 s; n=1000000 took 0.84 s.",
    "AAPL closed at $189.84 (+1.23%), volume 52,164,327; NVDA at $⟦price⟧.",
    "Flight UA 1549 departs 15:24 from gate C32, confirmation ⟦conf⟧, seat 14F.",
    "SKU ⟦ean⟧ (EAN-13), lot 2024-11, qty 240, unit price $⟦price⟧.",
    "SHA-256: ⟦hex64⟧\nMD5:     ⟦hex32⟧",
    "Event ID 4625, Logon Type 3, Status 0xC000006D, Sub Status 0xC0000064, Process ID 0x3e8.",
    "@media (max-width: 768px) {\n  .grid { grid-template-columns: 1fr 1fr; gap: 12px; }\n}",
    "PROJ-1234 is blocked by PROJ-1198; estimate 3d; sprint 24.3; story points 5.",
    "Arn: arn:aws:iam::⟦arn_acct⟧:role/deploy-⟦int⟧ (created ⟦date⟧)",
    "Due 03/05/2024, or 5.3.2024 in the German format, or 2024/03/05 in ISO-ish.",
    "Upgrading the agent from release ⟦ver4⟧ to ⟦ver4⟧ (build 20240305.3) fixed the memory leak.",
    "Use @here sparingly in #general; ping @dana-ops for on-call. Coffee @ $4.99 each.",
    "meeting moved to 3:30pm, room 4B. dial-in code 845 221 907#",
    "Order reference ⟦longorder⟧ — keep it for returns. Total ⟦price⟧ EUR.",
    "FedEx tracking ⟦fedex⟧; the box weighs 12.4 kg and measures 60×40×40 cm.",
    "Lemma 3.2.1: for all n ≥ 1, sum_{k=1}^{n} k = n(n+1)/2. Proof by induction on n (see 2.4.7).",
    "Chrome ⟦chrome⟧ on macOS 14.4.1; WebGL renderer ANGLE (Apple, ANGLE Metal Renderer: Apple M2, Unspecified Version).",
    "Transaction ⟦txn⟧ succeeded: $⟦price⟧ on ⟦date⟧ at ⟦time⟧ UTC.",
    "dependencies:\n  flutter_bloc: ^8.1.3\n  dio: 5.4.0\n  intl: 0.19.0",
    "The run took 1:23:45.6; loss went from 2.3026 to 0.0412 over 45,000 steps (lr 3e-4, batch 256).",
    "Git says: HEAD detached at ⟦sha7⟧. `git reset --hard ⟦sha⟧` then rebase onto origin/main.",
    "Room 1204, Building 3, 12th floor; the lab phone extension is on the door.",
    "Here's my product key placeholder: XXXXX-XXXXX-XXXXX-XXXXX-XXXXX (the real one is on the box).",
    "GET /api/v1/users/⟦uuid⟧/orders?limit=50&offset=100 → 200 OK in ⟦ms⟧ms",
    "Total: 1,234,567.89 USD; FX rate 1.0876; fee 0.35%.",
    "Matrix A = [[1, 2], [3, 4]], det(A) = -2, A^-1 = [[-2, 1], [1.5, -0.5]].",
]

KO_PII = [
    "안녕하세요, 주문 관련 문의드립니다. 제 연락처는 ⟦PHONE_KR⟧이고 이메일은 ⟦EMAIL_KR⟧입니다. 주문번호 ⟦order_kr⟧ 배송이 ⟦kdate⟧ 이후로 멈춰 있어요.",
    "이름: ⟦kname⟧\n주민등록번호: ⟦RRN⟧\n휴대폰: ⟦PHONE_KR⟧\n이메일: ⟦EMAIL_KR⟧\n주소: 서울특별시 마포구 월드컵북로 ⟦int3⟧",
    "⟦kname⟧ | ⟦PHONE_KR⟧ | ⟦EMAIL_KR⟧\n\n경력\n- ⟦company_kr⟧ 백엔드 개발자 (2020.03 ~ 현재)\n- 트래픽 ⟦int2⟧배 증가 대응, 응답시간 40% 단축",
    "[오후 ⟦h⟧:⟦mm⟧] ⟦kname⟧: 나 번호 바뀜 ⟦PHONE_KR⟧로 연락해~",
    "해외 거래처에 ⟦IBAN⟧ 계좌로 €⟦price⟧ 송금 부탁드립니다 (BIC ⟦bic⟧).",
    "결제할 때 카드번호 ⟦CARD⟧ 입력하면 '유효하지 않은 카드'라고 떠요. 승인번호 ⟦auth⟧, 금액 ⟦krw⟧원입니다.",
    "[⟦logts⟧] 로그인 실패: ⟦EMAIL_KR⟧ (IP: ⟦IP4⟧) - 비밀번호 5회 오류로 계정 잠김",
    "# 운영 DB 접속 정보 (절대 커밋 금지)\nmongo.uri=⟦URLCRED⟧\nmongo.pool.max=50",
    "병원 예약 확인\n예약자: ⟦kname⟧ (⟦RRN⟧)\n연락처: ⟦PHONE_KR⟧\n예약일시: ⟦kdate⟧ 오전 ⟦h⟧시",
    "사무실 ⟦PHONE_KR_LAND⟧, 팩스 ⟦PHONE_KR_LAND⟧, 담당자 휴대폰 ⟦PHONE_KR⟧",
    "이 코드에서 왜 401이 나는지 모르겠어요\n```python\nheaders = {\"Authorization\": \"Bearer ⟦KEY_OPENAI⟧\"}\nr = requests.post(url, headers=headers, json=payload, timeout=30)\n```",
    "GH_TOKEN=⟦KEY_GH⟧ 로 설정했는데 push가 안 됩니다. 권한 문제일까요?",
    "슬랙 봇 토큰(⟦KEY_SLACK⟧)을 넣었는데 not_authed 에러가 나요.",
    "aws configure 할 때 Access Key ID에 ⟦KEY_AWS⟧ 넣고 Secret에 ⟦AWS_SECRET⟧ 넣었는데 InvalidClientTokenId가 떠요.",
    "미국 고객 ⟦name⟧님 SSN ⟦SSN⟧ 확인 부탁드립니다. 서류 마감은 ⟦kdate⟧입니다.",
    "세금계산서 발행 요청\n상호: ⟦company_kr⟧\n사업자등록번호: ⟦bizno⟧\n담당자: ⟦kname⟧ (⟦EMAIL_KR⟧, ⟦PHONE_KR⟧)\n합계금액: ⟦krw⟧원",
    "미국 지사 ⟦PHONE_US⟧, 독일 지사 ⟦PHONE_DE⟧, 해외 지사 ⟦PHONE_INTL⟧로 연락 주세요.",
    "집 공유기 IPv6 주소가 ⟦IP6⟧인데 외부에서 접속이 안 돼요. IPv4는 ⟦IP4⟧입니다.",
    "{\"이름\": \"⟦kname⟧\", \"전화\": \"⟦PHONE_KR⟧\", \"이메일\": \"⟦EMAIL_KR⟧\", \"포인트\": ⟦int⟧}",
    "받는 분: ⟦kname⟧ / ⟦PHONE_KR⟧ / 송장번호 ⟦track_kr⟧ / 부재 시 경비실",
    "연말정산 부양가족 등록: ⟦kname⟧ ⟦RRN⟧, ⟦kname⟧ ⟦RRN⟧",
    "[Web발신] ⟦kname⟧님, 인증번호는 [⟦otp⟧]입니다. 문의 ⟦PHONE_KR_LAND⟧",
    "자료는 담당자 메일 ⟦EMAIL_HANGUL⟧로 보내주세요.",
    "⟦IP4⟧ - - [⟦clf⟧] \"POST /login HTTP/1.1\" 401 ⟦int3⟧ — 이 IP에서 1분에 300번씩 들어와요. 차단해야 할까요?",
    "SendGrid 키 ⟦KEY_SG⟧ 로 메일 발송하면 403 Forbidden이 나옵니다.",
    "GitLab 러너 등록할 때 ⟦KEY_GL⟧ 토큰을 썼어요.",
    "법인카드 ⟦CARD⟧ / 개인카드 ⟦CARD⟧ 중 어느 걸로 결제했는지 확인 부탁해요.",
    "프리랜서 정산 요청\n성명: ⟦kname⟧\n주민등록번호: ⟦RRN⟧\n지급액: ⟦krw⟧원 (3.3% 원천징수 후)\n지급일: ⟦kdate⟧",
    "크롤러가 ⟦URLCRED⟧ 로 접속하도록 해놨는데 가끔 타임아웃이 나요.",
    "주민번호 ⟦RRN⟧, 전화 ⟦PHONE_KR⟧, 메일 ⟦EMAIL_KR⟧ 입니다.",
    "⟦PHONE_KR⟧",
    "⟦EMAIL_KR⟧",
    "연락처: ⟦PHONE_KR⟧.",
    "메일(⟦EMAIL_KR⟧)로 회신 부탁드립니다.",
    "고객센터 ⟦PHONE_KR_LAND⟧ (평일 09:00~18:00)",
    "nginx 설정입니다\n```\nupstream app {\n    server ⟦IP4⟧:3000;\n    server ⟦IP4⟧:3000;\n}\n```\n502가 계속 떠요.",
    "카드 ⟦CARD⟧로 ⟦krw⟧원 결제했는데 두 번 빠져나갔어요. ⟦kdate⟧ 오후 ⟦h⟧시쯤입니다.",
    "유럽 송금용 계좌: ⟦IBAN⟧\n예금주: ⟦name⟧",
    "Hugging Face 토큰 ⟦KEY_HF⟧ 넣었는데 gated model 다운로드가 안 돼요.",
    "Stripe 라이브 키 ⟦KEY_STRIPE⟧ 를 실수로 깃허브에 올렸어요 ㅠㅠ 어떻게 하죠?",
    "구글 지도 API 키가 ⟦KEY_GOOGLE⟧인데 RefererNotAllowedMapError가 나요.",
    "서버 접속 로그\n⟦logts⟧ sshd: Failed password for root from ⟦IP⟧ port ⟦port⟧\n⟦logts⟧ sshd: Failed password for root from ⟦IP⟧ port ⟦port⟧",
    "영국 친구 번호 ⟦PHONE_UK⟧, 프랑스 ⟦PHONE_FR⟧ 저장해 둬.",
    "지원서\n성명: ⟦kname⟧\n생년월일: ⟦kdate⟧\n연락처: ⟦PHONE_KR⟧\n이메일: ⟦EMAIL_KR⟧\n희망연봉: ⟦krw⟧만원",
    "환불 계좌 대신 카드 취소로 해주세요. 카드번호: ⟦CARD⟧",
    "키 두 개 중에 뭐가 맞는 건지 모르겠어요: ⟦KEY⟧ 아니면 ⟦KEY⟧",
    "가족관계증명서 발급 신청: 본인 ⟦kname⟧(⟦RRN⟧), 배우자 ⟦kname⟧(⟦RRN⟧)",
    "INSERT INTO members (name, jumin, phone) VALUES ('⟦kname⟧', '⟦RRN⟧', '⟦PHONE_KR⟧');",
    "주민등록번호 ⟦RRN⟧ 로 본인인증을 하면 '정보 불일치'가 떠요.",
    "카드번호 ⟦CARD⟧ 유효기간 ⟦exp⟧ 인데 해외결제가 막혀 있어요.",
    "독일 유학 중인데 집주인이 월세를 ⟦IBAN_DE⟧ 로 보내라고 하네요. 해외송금 수수료 얼마나 나와요?",
    "사내 프록시 설정: export https_proxy=⟦URLCRED_WEB⟧",
    "미국 세금 신고용 SSN: ⟦SSN⟧ (배우자 ⟦SSN⟧)",
    "결제 실패 로그\n⟦logts⟧ ERROR PG 응답 코드 1001, card=⟦CARD⟧, amount=⟦krw⟧",
    "임대차 계약서\n임차인: ⟦kname⟧ (주민등록번호 ⟦RRN⟧, 연락처 ⟦PHONE_KR⟧)\n보증금: 금 ⟦krw⟧원정",
]

KO_CLEAN = [
    "결제 금액 ⟦krw⟧원이 ⟦kdate⟧에 두 번 청구됐어요. 주문번호는 ⟦order_kr⟧입니다.",
    "회의는 ⟦kdate⟧ 오후 ⟦h⟧시 ⟦m⟧분, 3층 대회의실에서 진행합니다. 참석 인원 12명.",
    "제3조(목적) 이 약관은 회사가 제공하는 서비스의 이용조건을 정한다. 제12조 제2항 제3호에 따라 해지할 수 있다.",
    "버전 ⟦semver⟧에서 ⟦semver⟧로 업데이트한 후 앱이 종료됩니다. 기기: 갤럭시 S23, Android 14, One UI 6.1",
    "사업자등록번호 ⟦bizno⟧, 공급가액 ⟦krw⟧원, 세액 ⟦krw⟧원, 합계 ⟦krw⟧원",
    "우편번호 ⟦zip5⟧, 서울특별시 강남구 테헤란로 ⟦int3⟧, ⟦int2⟧층",
    "API 키는 `⟦placeholder_key⟧` 자리에 본인 키를 넣으세요. 예시: OPENAI_API_KEY=sk-your-key-here",
    "송장번호 ⟦track_kr⟧ (CJ대한통운), 예상 도착일 ⟦kdate⟧",
    "```python\n# 합계 계산\nprices = [12000, 8500, 43000]\ntotal = sum(prices) * 1.1  # 부가세 10%\nprint(f\"{total:,.0f}원\")\n```",
    "2023년 출생아 수는 23만 28명으로 전년 대비 7.7% 감소했다. 합계출산율은 0.72명.",
    "행사일: ⟦kdate_dot⟧(화) 14:00~17:30, 장소: 코엑스 그랜드볼룸 B",
    "1달러 = 1,338.50원, 1유로 = 1,452.31원 (⟦kdate⟧ 기준, 매매기준율)",
    "커밋 ⟦sha7⟧에서 회귀가 생겼습니다. 요청 ID ⟦uuid⟧ 로그 확인 부탁드려요.",
    "시간표: 09:00~10:30 1교시, 10:40~12:10 2교시, 13:00~14:30 3교시",
    "밀가루 250g, 설탕 1.5컵, 버터 113g. 오븐 180도에서 25~30분 구워 주세요.",
    "전용면적 84.97㎡, 매매가 12억 3,500만원, 관리비 월 25만원, 2019년 준공",
    "삼성전자(005930) 종가 73,400원, 거래량 12,345,678주, 시가총액 438조원",
    "주문번호 ⟦longorder⟧ 건 교환 요청합니다. 사이즈를 M에서 L로 바꾸고 싶어요.",
    "도서 정보: ISBN ⟦isbn13⟧, 정가 ⟦krw⟧원, 2024년 2월 15일 발행",
    "레벨 99, 경험치 1,234,567/2,000,000, 공격력 +15%, 치명타 확률 32.5%",
    "[⟦logts⟧] INFO 배치 작업 완료: 처리 ⟦int⟧건, 실패 0건, 소요 ⟦ms⟧ms",
    "윈도우 빌드 ⟦winver⟧에서 드라이버 버전 ⟦ver4⟧ 설치 후 블루스크린이 떠요.",
    "금액 1,234,567원을 ⟦kdate⟧까지 입금해 주세요. 미납 시 연체료 연 12%가 부과됩니다.",
    "이미지를 base64로 바꿨더니 이렇게 나와요: data:image/jpeg;base64,⟦b64⟧",
    "설정 예시입니다.\n```yaml\nserver:\n  port: 8080\n  timeout: 30s\nopenai:\n  api_key: ⟦placeholder_key⟧\n  model: gpt-4o-mini\n```",
    "상품코드 ⟦ean⟧, 재고 240개, 단가 ⟦krw⟧원",
    "오후 3시 30분에 회의, 4시 15분에 보고서 마감. 내일 오전 9시 출근.",
    "제품 시리얼 SN-⟦int6⟧, 펌웨어 v⟦semver⟧, MAC 주소 ⟦mac⟧",
    "수식: (3 + 4) × 5 = 35, 2의 10제곱 = 1024, π ≈ 3.14159",
    "npm i @nestjs/core@10.3.0 class-validator@0.14.1 로 설치했는데 에러가 나요.",
    "법 제47조의2 제1항 및 시행령 제5조 제3항 참조",
    "배송 조회: 주문일 ⟦kdate⟧, 주문번호 ⟦order_kr⟧, 결제 ⟦krw⟧원 (카드 일시불)",
    "GitHub Actions에서 `secrets.GITHUB_TOKEN`을 쓰면 되고 ghp_ 로 시작하는 개인 토큰은 필요 없어요.",
    "v⟦semver⟧ 릴리스 노트: 로그인 속도 35% 개선, 메모리 사용량 120MB → 85MB",
    "요청 ID: ⟦uuid⟧\n처리 시간: ⟦ms⟧ms\n상태: 200",
    "인증서 OID 1.2.410.200004.1.100.4.3 확인했습니다. 만료일 ⟦kdate⟧.",
    "택배 무게 2.5kg, 크기 40×30×20cm, 운임 4,000원",
    "KTX 101열차 서울 05:30 출발, 부산 08:15 도착, 6호차 12A석",
    "이번 달 전기요금 48,730원, 사용량 312kWh, 전월 대비 8.2% 증가",
    "실험 결과 정확도 94.7%, F1 0.913, 학습 시간 3시간 12분 (배치 64, 학습률 3e-4)",
]


SLOT = re.compile(r"⟦([A-Za-z0-9_]+)(?:#(\d+))?⟧")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def fill(r, template):
    text, spans, pos, last = [], [], 0, 0
    memo = {}
    for m in SLOT.finditer(template):
        lit = template[last:m.start()]
        text.append(lit)
        pos += len(lit)
        slot, ref = m.group(1), m.group(2)
        key = (slot, ref)
        if ref is not None and key in memo:
            value, vspans = memo[key]
        elif slot in PII_GENS:
            value, vspans = PII_GENS[slot](r)
            # An e-mail with a Hangul domain directly followed by a Hangul particle has no
            # visible end even for a human reader ("...@회사.한국입니다"): avoid that one case.
            nxt = template[m.end():m.end() + 1]
            while slot.startswith("EMAIL") and HANGUL.match(nxt) and HANGUL.search(value.split("@")[1]):
                value, vspans = PII_GENS[slot](r)
        else:
            value, vspans = LOOK[slot](r), []
        if ref is not None:
            memo[key] = (value, vspans)
        for s, e, kind in vspans:
            spans.append({"start": pos + s, "end": pos + e, "kind": kind})
        text.append(value)
        pos += len(value)
        last = m.end()
    text.append(template[last:])
    return {"text": "".join(text), "spans": spans}


DIGIT_RUN = re.compile(r"\d(?:[ -]?\d)+")


def unlabelled_luhn_hit(rec):
    """True if a run of 13-19 digits (optionally space/dash separated) outside the labelled
    spans passes the Luhn check."""
    text = list(rec["text"])
    for sp in rec["spans"]:
        for i in range(sp["start"], sp["end"]):
            text[i] = "\0"
    for m in DIGIT_RUN.finditer("".join(text)):
        d = re.sub(r"\D", "", m.group())
        if 13 <= len(d) <= 19 and luhn_ok(d):
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--n", type=int, default=700)
    a = ap.parse_args()
    r = random.Random(SEED)
    pools = {(False, False): EN_PII, (False, True): EN_CLEAN, (True, False): KO_PII,
             (True, True): KO_CLEAN}
    decks = {k: [] for k in pools}
    records = []
    for i in range(a.n):
        korean = i % 2 == 1
        clean = r.random() < 0.42
        deck = decks[(korean, clean)]
        if not deck:  # every template once per round, in a shuffled order
            deck.extend(pools[(korean, clean)])
            r.shuffle(deck)
        tpl = deck.pop()
        for _ in range(100):
            rec = fill(r, tpl)
            if not unlabelled_luhn_hit(rec):
                break
        else:
            raise AssertionError(f"template always yields a Luhn-valid unlabelled run: {tpl!r}")
        assert bool(rec["spans"]) != clean, tpl
        records.append(rec)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    kinds = {}
    for rec in records:
        for sp in rec["spans"]:
            kinds[sp["kind"]] = kinds.get(sp["kind"], 0) + 1
    n_clean = sum(1 for rec in records if not rec["spans"])
    print(f"{len(records)} texts, {len(records) - n_clean} with PII, {n_clean} without; "
          f"spans per kind: {dict(sorted(kinds.items()))}", file=sys.stderr)


if __name__ == "__main__":
    main()
