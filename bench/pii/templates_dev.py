"""Development set: templates and value generators looked at while tuning the scrubber."""

import base64
import string


SEED = 20240601

FIRST = ["jane", "john", "alice", "bob", "minsu", "jiwoo", "sean", "maria", "olivia", "hyunwoo"]
LAST = ["doe", "smith", "kim", "lee", "park", "o'brien", "garcia", "choi", "nguyen", "jung"]
HANGUL_LOCAL = ["홍길동", "김민수", "이지은", "박서준", "최유나", "정하늘"]
DOMAINS = ["example.com", "mail.example.co.uk", "naver.com", "gmail.com", "corp.example.kr",
           "daum.net", "example.org", "uni.example.ac.kr"]


def generators():
    from make_corpus import (api_keys_common, group, iban_value, ipv4_value, ipv6_value,
                             luhn_complete, rand, rrn_value, ssn_value, B62, B64)

    def span(kind, v):
        return v, [(0, len(v), kind)]

    def email(r):
        k = r.random()
        if k < 0.2:
            local = r.choice(HANGUL_LOCAL)
        elif k < 0.3:
            local = r.choice(["o'brien", "d'angelo", "o'neil"])
        elif k < 0.6:
            local = f"{r.choice(FIRST)}.{r.choice(LAST).replace(chr(39), '')}"
        elif k < 0.8:
            local = f"{r.choice(FIRST)}{r.randrange(1, 999)}"
        else:
            local = f"{r.choice(FIRST)}+{r.choice(['news', 'dev', 'shop'])}"
        return span("email", f"{local}@{r.choice(DOMAINS)}")

    def phone(r):
        d = lambda n: rand(r, string.digits, n)  # noqa: E731
        k = r.randrange(12)
        v = [
            lambda: f"010-{d(4)}-{d(4)}",
            lambda: f"02-{r.randrange(200, 999)}-{d(4)}",
            lambda: f"+82 10 {d(4)} {d(4)}",
            lambda: f"+1 ({r.randrange(201, 989)}) {r.randrange(200, 999)}-{d(4)}",
            lambda: f"({r.randrange(201, 989)}) {r.randrange(200, 999)}-{d(4)}",
            lambda: f"{r.randrange(201, 989)}-{r.randrange(200, 999)}-{d(4)}",
            lambda: f"07{r.randrange(100, 999)} {d(6)}",
            lambda: f"030 {r.randrange(1000000, 9999999)}",
            lambda: "0" + str(r.randrange(1, 6)) + " " + " ".join(d(2) for _ in range(4)),
            lambda: f"+44 20 {d(4)} {d(4)}",
            lambda: f"+49 30 {d(7)}",
            lambda: f"031-{r.randrange(200, 999)}-{d(4)}",
        ][k]()
        return span("phone", v)

    def ip(r):
        return span("ip", ipv4_value(r) if r.random() < 0.75 else ipv6_value(r))

    def url_cred(r):
        user = r.choice(["admin", "app", "deploy", "root", "minsu"])
        pw = rand(r, B62, r.randrange(8, 16))
        scheme = r.choice(["https", "postgres", "mysql", "redis", "amqp"])
        host = r.choice(["db.internal", "git.example.com", "api.example.net", "cache.local"])
        pre = f"{scheme}://"
        ui = f"{user}:{pw}"
        return f"{pre}{ui}@{host}/x", [(len(pre), len(pre) + len(ui), "url_credentials")]

    def api_key(r):
        return span("api_key", api_keys_common(r))

    def card(r):
        k = r.randrange(6)
        if k == 0:
            n = mc_luhn(luhn_complete, r, "4", 16)
            v = group(n, [4, 4, 4, 4], r.choice([" ", "-"]))
        elif k == 1:
            n = mc_luhn(luhn_complete, r, r.choice(["51", "52", "53", "54", "55"]), 16)
            v = n
        elif k == 2:
            n = mc_luhn(luhn_complete, r, r.choice(["34", "37"]), 15)
            v = group(n, [4, 6, 5], " ")
        elif k == 3:
            n = mc_luhn(luhn_complete, r, "6011", 16)
            v = group(n, [4, 4, 4, 4], " ")
        elif k == 4:
            v = mc_luhn(luhn_complete, r, "4", 16)
        else:
            v = group(mc_luhn(luhn_complete, r, "2221", 16), [4, 4, 4, 4], "-")
        return span("card", v)

    def rrn(r):
        return span("rrn", rrn_value(r))

    def ssn(r):
        return span("ssn", ssn_value(r))

    def iban(r):
        return span("iban", iban_value(r, ["DE", "GB", "FR", "NL", "ES", "IT"]))

    # ---- hard negatives (no spans) ----
    def plain(f):
        return lambda r: (f(r), [])

    def version(r):
        a, b, c, e = (r.randrange(0, 20) for _ in range(4))
        return r.choice([
            f"version {a+1}.{b}.{c}.{e}",
            f"tensorflow=={r.randrange(1, 20)}.{b}.{c}.{e}",
            f"Chrome/{r.randrange(90, 130)}.0.0.0",
            f"cuDNN {r.randrange(7, 10)}.{b}.0.{r.randrange(10, 99)}",
            f"section {a+1}.{b}.{c+1}.{e+1}",
            f"OID 1.3.6.1.4.1.{r.randrange(100, 60000)}",
            f"1.3.6.1.2.1.{r.randrange(1, 30)}.{r.randrange(1, 9)}",
            f"v{a}.{b}.{c}.{e}",
            f"{a}.{b}.{c}",
            f"버전 {a+1}.{b}.{c}.{e}",
            f"build {a+1}.{b}.{c}.{r.randrange(100, 255)}",
        ])

    def placeholder(r):
        return r.choice([
            "xoxb-your-token", "xoxb-your-bot-token-here", "sk-your-api-key-here",
            "ghp_" + "x" * 36, "hf_" + "x" * 34, "AKIA" + "X" * 16, "<YOUR_API_KEY>",
            "sk_live_" + "x" * 24, "YOUR_OPENAI_API_KEY", "glpat-" + "x" * 20,
            "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "sk-" + "x" * 48, "xoxp-your-slack-token",
        ])

    def b64img(r):
        raw = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(r.randrange(256) for _ in range(r.randrange(60, 300)))
        data = base64.b64encode(raw).decode()
        k = r.randrange(3)
        if k == 0:
            return f"data:image/png;base64,{data}"
        if k == 1:
            return data
        return "\n".join(data[i:i + 76] for i in range(0, len(data), 76))

    def order(r):
        k = r.randrange(5)
        if k == 0:
            return "order " + luhn_complete(r, r.choice(["4", "5", "3"]), 19)
        if k == 1:
            return "tracking number " + luhn_complete(r, r.choice(["4", "6"]), 19)
        if k == 2:
            return f"주문번호 {luhn_complete(r, '2', 19)}"
        if k == 3:
            return f"voucher {r.randrange(1000, 9999)}-{r.randrange(200, 999)}-{r.randrange(200, 999)}-{r.randrange(1000, 9999)}"
        return f"VCH-{r.randrange(200, 999)}-{r.randrange(200, 999)}-{r.randrange(1000, 9999)}"

    def misc(r):
        d = lambda n: rand(r, string.digits, n)  # noqa: E731
        return r.choice([
            f"2024-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}",
            f"{r.randrange(1, 13):02d}/{r.randrange(1, 29):02d}/2025",
            f"₩{r.randrange(1, 999)},{d(3)},000",
            f"${r.randrange(1, 9999)}.{d(2)}",
            f"commit {rand(r, '0123456789abcdef', 40)}",
            f"{rand(r, '0123456789abcdef', 8)}-{rand(r, '0123456789abcdef', 4)}-4{rand(r, '0123456789abcdef', 3)}-a{rand(r, '0123456789abcdef', 3)}-{rand(r, '0123456789abcdef', 12)}",
            "std::collections::HashMap<String, Vec<u8>>",
            "let x = a[3..10].iter().map(|v| v * 2).sum::<u32>();",
            f"timestamp {r.randrange(1600000000000, 1800000000000)}",
            f"room {r.randrange(100, 2000)}, ext. {r.randrange(10, 99)}",
            f"12:{r.randrange(10, 59)}:{r.randrange(10, 59)}",
            "getUserProfileByIdAndCacheResultForThirtyDays()",
            f"사업자등록번호 {d(3)}-{d(2)}-{d(5)}",
            f"ISBN 978-{d(1)}-{d(2)}-{d(6)}-{d(1)}",
            f"score {r.randrange(1, 99)}.{d(1)} and {r.randrange(1000, 99999)} users",
        ])

    return {
        "email": email, "phone": phone, "ip": ip, "url_cred": url_cred, "api_key": api_key,
        "card": card, "rrn": rrn, "ssn": ssn, "iban": iban,
        "version": plain(version), "placeholder": plain(placeholder), "b64": plain(b64img),
        "order": plain(order), "misc": plain(misc),
    }


def mc_luhn(f, r, prefix, n):
    return f(r, prefix, n)


PII_TEMPLATES = [
    "Hi, I'm Jane. You can reach me at {email} or {phone}.",
    "제 이메일은 {email}이고 전화번호는 {phone}입니다.",
    "Please send the invoice to {email}; the {order} shipped yesterday.",
    "연락처: {phone} (평일 9시~6시)",
    "The server at {ip} keeps timing out since {misc}.",
    "서버 IP가 {ip}인데 {version} 업데이트 후 접속이 안 돼요.",
    "My connection string is {url_cred} and it fails with {version}.",
    "DATABASE_URL={url_cred}",
    "Here is my key: {api_key} — why does it say unauthorized?",
    "export OPENAI_API_KEY={api_key}\npython train.py --lr 3e-4",
    "API 키 {api_key} 넣었는데 401이 떠요. 예시에는 {placeholder}라고 되어 있었어요.",
    "I paid with {card} on {misc}, but the {order} never arrived.",
    "카드번호 {card}로 결제했는데 승인이 안 났어요.",
    "주민등록번호 {rrn} 입력하니까 오류가 나요.",
    "제 주민번호는 {rrn}이고 {phone}로 연락 주세요.",
    "본인확인: 이름 홍길동, 주민등록번호: {rrn}",
    "My SSN is {ssn} and my phone is {phone}.",
    "Fill in SSN {ssn} on line 3 of form W-4 ({misc}).",
    "Please wire it to IBAN {iban} (BIC DEUTDEFFXXX).",
    "송금 계좌 IBAN: {iban}, 금액 {misc}",
    "Bank details: {iban}, reference {order}.",
    "ping {ip} works but curl to {ip} hangs; {version} installed.",
    "Logs show login from {ip} for user {email}.",
    "Contact {email} or call {phone}; card on file {card}.",
    "Can you check why {api_key} leaks in this image? {b64}",
    "git remote set-url origin {url_cred}",
    "전화 {phone}, 메일 {email}, 서버 {ip}",
    "UK office: {phone}. Berlin: {phone}.",
    "Appelez-moi au {phone} s'il vous plaît.",
    "Slack bot token {api_key} (not {placeholder}).",
    "SendGrid: {api_key}",
    "email me at {email}, thanks!",
    "이메일 주소는 {email}입니다.",
    "Call me on {phone} after {misc}.",
]

CLEAN_TEMPLATES = [
    "I upgraded to {version} and now the build fails.",
    "Running {version} with {version} on the cluster.",
    "The user agent was Mozilla/5.0 (X11; Linux x86_64) {version} Safari/537.36.",
    "Set the token to {placeholder} in your .env file.",
    "예시: SLACK_TOKEN={placeholder}",
    "Here is the image: {b64}",
    "<img src=\"{b64}\">",
    "Your {order} has shipped.",
    "{order} 배송이 시작되었습니다.",
    "Use the code {order} at checkout.",
    "It was {misc} and {misc}.",
    "fn main() -> println!(\"{misc}\");",
    "See {version} of the spec and {misc}.",
    "OID 목록: {version}, {version}",
    "결제 금액은 {misc}이고 {misc}에 결제했어요.",
    "Please use {placeholder} as a placeholder and {misc}.",
    "{misc}",
    "Error after {version}: {misc}",
]
