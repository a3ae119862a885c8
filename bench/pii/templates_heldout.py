"""Held-out set: written before the scrubber was tuned, and only measured on.

Own prose (more Korean, chat-like), partly different value formats (other countries' IBANs and
phone layouts, other card issuers, other key shapes, other email locals) and other hard
negatives (user agents, assembly versions, PEM certificates, JPEG/GIF base64, other order ids).
"""

import base64
import string

SEED = 977_331

GIVEN = ["seoyeon", "dohyun", "emma", "liam", "yuna", "taeyang", "chloe", "noah", "sora", "ethan"]
FAMILY = ["han", "yoon", "o'connor", "brown", "kang", "jang", "d'souza", "wilson", "song", "lim"]
LOCAL_NONASCII = ["김철수", "이영희", "박지민", "테스트", "고객센터", "josé.garcía", "müller", "björn"]
DOMAINS = ["example.net", "hanmail.net", "kakao.com", "outlook.com", "mail.example.de",
           "company.co.kr", "student.example.edu", "example.fr"]


def generators():
    from make_corpus import (group, iban_value, ipv4_value, ipv6_value, luhn_complete, rand,
                             rrn_value, ssn_value, B62, B64)

    def span(kind, v):
        return v, [(0, len(v), kind)]

    def email(r):
        k = r.random()
        if k < 0.25:
            local = r.choice(LOCAL_NONASCII)
        elif k < 0.35:
            local = f"{r.choice(GIVEN)}.{r.choice(['o', 'd'])}'{r.choice(['hara', 'arcy', 'leary'])}"
        elif k < 0.6:
            local = f"{r.choice(GIVEN)}_{r.choice(FAMILY).replace(chr(39), '')}"
        elif k < 0.8:
            local = f"{r.choice(GIVEN).capitalize()}.{r.choice(FAMILY).replace(chr(39), '').capitalize()}"
        else:
            local = f"{r.choice(GIVEN)}{r.randrange(70, 99)}"
        return span("email", f"{local}@{r.choice(DOMAINS)}")

    def phone(r):
        d = lambda n: rand(r, string.digits, n)  # noqa: E731
        v = r.choice([
            lambda: f"010 {d(4)} {d(4)}",
            lambda: f"010.{d(4)}.{d(4)}",
            lambda: f"+82-10-{d(4)}-{d(4)}",
            lambda: f"+82 2 {r.randrange(200, 999)} {d(4)}",
            lambda: f"051-{r.randrange(200, 999)}-{d(4)}",
            lambda: f"07700 {d(6)}",
            lambda: f"020 {r.randrange(7000, 8999)} {d(4)}",
            lambda: f"0171 {d(7)}",
            lambda: f"089 {d(8)}",
            lambda: "06 " + " ".join(d(2) for _ in range(4)),
            lambda: "01 " + " ".join(d(2) for _ in range(4)),
            lambda: f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}",
            lambda: f"+49 171 {d(7)}",
            lambda: f"{r.randrange(201, 989)}.{r.randrange(200, 999)}.{d(4)}",
            lambda: f"1-{r.randrange(201, 989)}-{r.randrange(200, 999)}-{d(4)}",
        ])()
        return span("phone", v)

    def ip(r):
        return span("ip", ipv4_value(r) if r.random() < 0.7 else ipv6_value(r))

    def url_cred(r):
        pre = r.choice(["mongodb://", "https://", "ftp://", "postgresql://"])
        ui = f"{r.choice(['svc', 'backup', 'ci-bot', 'yuna'])}:{rand(r, B62 + '!$', r.randrange(10, 20))}"
        host = r.choice(["mongo.prod.example", "files.example.net", "pg.example.io:5432"])
        return f"{pre}{ui}@{host}/db", [(len(pre), len(pre) + len(ui), "url_credentials")]

    def api_key(r):
        k = r.randrange(12)
        v = [
            lambda: "sk-ant-api03-" + rand(r, B62 + "_-", 93) + "AA",
            lambda: "github_pat_11" + rand(r, B62, 20) + "_" + rand(r, B62, 59),
            lambda: "SG." + rand(r, B62 + "_-", 22) + "." + rand(r, B62 + "_-", 43),
            lambda: f"xoxp-{rand(r, string.digits, 11)}-{rand(r, string.digits, 11)}-{rand(r, string.digits, 13)}-{rand(r, '0123456789abcdef', 32)}",
            lambda: "ASIA" + rand(r, string.ascii_uppercase + string.digits, 16),
            lambda: "rk_live_" + rand(r, B62, 40),
            lambda: "npm_" + rand(r, B62, 36),
            lambda: "ghs_" + rand(r, B62, 36),
            lambda: rand(r, B62, 32),
            lambda: rand(r, B64, 40),
            lambda: "hf_" + rand(r, B62, 37),
            lambda: "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(rand(r, B64, 70) for _ in range(3)) + "\n-----END OPENSSH PRIVATE KEY-----",
        ][k]()
        return span("api_key", v)

    def card(r):
        k = r.randrange(6)
        if k == 0:
            v = group(luhn_complete(r, "4", 16), [4, 4, 4, 4], " ")
        elif k == 1:
            v = group(luhn_complete(r, r.choice(["2720", "2500", "5105"]), 16), [4, 4, 4, 4], "-")
        elif k == 2:
            v = group(luhn_complete(r, "37", 15), [4, 6, 5], "-")
        elif k == 3:
            v = luhn_complete(r, r.choice(["3528", "3589"]), 16)
        elif k == 4:
            v = group(luhn_complete(r, "62", 16), [4, 4, 4, 4], " ")
        else:
            v = luhn_complete(r, "4", 16)
        return span("card", v)

    def rrn(r):
        return span("rrn", rrn_value(r))

    def ssn(r):
        return span("ssn", ssn_value(r))

    def iban(r):
        return span("iban", iban_value(r, ["BE", "CH", "AT", "PL", "SE", "IE", "NO", "PT", "DE"], 0.5))

    def plain(f):
        return lambda r: (f(r), [])

    def version(r):
        a, b, c, e = (r.randrange(0, 30) for _ in range(4))
        return r.choice([
            f"Edg/{r.randrange(100, 130)}.0.0.0",
            f"HeadlessChrome/{r.randrange(100, 130)}.0.0.0",
            f"AssemblyVersion(\"{a+1}.{b}.{c}.{e}\")",
            f"pip install torch=={a+1}.{b}.{c}.{e}",
            f"TensorRT {r.randrange(7, 10)}.{b}.{c}.{e}",
            f"firmware {a+1}.{b}.{c}.{r.randrange(1, 200)}",
            f"clause {a+1}.{b+1}.{c+1}.{e+1}",
            f"OID 2.5.4.{r.randrange(3, 12)}",
            f"1.2.840.113549.1.1.{r.randrange(1, 14)}",
            f"Release {a+1}.{b}.{c}.{e}",
            f"ver. {a+1}.{b}.{c}.{e}",
            f"드라이버 {a+1}.{b}.{c}.{e} 버전",
            f"{a}.{b}.{c}-beta",
        ])

    def placeholder(r):
        return r.choice([
            "xoxp-your-token-here", "xoxb-YOUR-BOT-TOKEN", "sk-ant-your-key", "hf_YOUR_TOKEN_HERE",
            "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "AIza" + "X" * 35,
            "sk-proj-" + "x" * 40, "SG.your-sendgrid-key", "<your-token>", "${GITHUB_TOKEN}",
            "npm_" + "x" * 36, "sk_test_" + "x" * 24, "glpat-XXXXXXXXXXXXXXXXXXXX",
        ])

    def b64(r):
        head = r.choice([b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"GIF89a\x01\x00\x01\x00", b"%PDF-1.4\n"])
        raw = head + bytes(r.randrange(256) for _ in range(r.randrange(40, 260)))
        data = base64.b64encode(raw).decode()
        k = r.randrange(4)
        if k == 0:
            return f"data:image/jpeg;base64,{data}"
        if k == 1:
            return f"\"thumbnail\": \"{data}\""
        if k == 2:
            return "-----BEGIN CERTIFICATE-----\n" + "\n".join(data[i:i + 64] for i in range(0, len(data), 64)) + "\n-----END CERTIFICATE-----"
        return "\n".join(data[i:i + 76] for i in range(0, len(data), 76))

    def order(r):
        d = lambda n: rand(r, string.digits, n)  # noqa: E731
        return r.choice([
            lambda: "invoice no. " + luhn_complete(r, r.choice(["4", "5", "6"]), 19),
            lambda: "운송장번호 " + luhn_complete(r, "5", 18),
            lambda: "shipment id " + luhn_complete(r, "3", 17),
            lambda: f"coupon GIFT-{r.randrange(200, 999)}-{r.randrange(200, 999)}-{d(4)}",
            lambda: f"reservation {r.randrange(2000, 2030)}-{d(4)}-{d(4)}",
            lambda: f"ticket #{r.randrange(200, 999)}-{r.randrange(200, 999)}-{d(4)}-{d(2)}",
            lambda: f"serial {d(4)}-{d(4)}-{d(4)}-{d(4)}",
        ])()

    def misc(r):
        d = lambda n: rand(r, string.digits, n)  # noqa: E731
        return r.choice([
            f"{r.randrange(2019, 2026)}.{r.randrange(1, 13):02d}.{r.randrange(1, 29):02d}",
            f"{r.randrange(1, 28)}일 {r.randrange(1, 12)}시",
            f"{r.randrange(1, 999)},{d(3)}원",
            f"€{r.randrange(1, 999)},{d(2)}",
            f"sha256:{rand(r, '0123456789abcdef', 64)}",
            f"MAC {':'.join(rand(r, '0123456789ABCDEF', 2) for _ in range(6))}",
            "impl<T: Clone> From<Vec<T>> for Stack<T>",
            "for i in range(0, 10): print(i ** 2)",
            f"port {r.randrange(1024, 65535)}",
            f"PID {r.randrange(1000, 99999)}",
            f"v{r.randrange(1, 5)}.{r.randrange(0, 20)}",
            f"{d(3)}-{d(3)}",
            f"latitude 37.{d(6)}, longitude 126.{d(6)}",
            f"file_{d(8)}_{d(6)}.jpg",
            f"우편번호 {d(5)}",
        ])

    return {
        "email": email, "phone": phone, "ip": ip, "url_cred": url_cred, "api_key": api_key,
        "card": card, "rrn": rrn, "ssn": ssn, "iban": iban,
        "version": plain(version), "placeholder": plain(placeholder), "b64": plain(b64),
        "order": plain(order), "misc": plain(misc),
    }


PII_TEMPLATES = [
    "혹시 {email}로 보낸 메일 받으셨나요? 안 되면 {phone}로 전화 주세요.",
    "고객님 연락처 {phone}, 주소는 서울시 강남구입니다.",
    "주민등록번호가 {rrn}인데 인증이 계속 실패해요 ㅠㅠ",
    "{rrn} 이게 제 주민번호예요",
    "가입할 때 주민번호 {rrn}랑 {email} 넣었어요.",
    "SSN: {ssn}, DOB 1987-04-12",
    "my social is {ssn} if you need it for the form",
    "IBAN {iban}으로 보내 주시면 됩니다.",
    "Kontonummer (IBAN): {iban}",
    "transfer to {iban} by {misc} please",
    "Our VPN endpoint is {ip}, fallback {ip}.",
    "접속 로그: {ip} - - [{misc}] \"GET / HTTP/1.1\" 200",
    "mongo connection: {url_cred}",
    "clone from {url_cred} using {version}",
    "환경변수에 {api_key} 넣었더니 됩니다!",
    "ANTHROPIC_API_KEY=\"{api_key}\"",
    "headers = {\"Authorization\": \"Bearer {api_key}\"}",
    "token = '{api_key}'  # TODO move to vault, not {placeholder}",
    "결제한 카드는 {card}이고 {order} 확인 부탁드립니다.",
    "card: {card} exp 09/27 cvc 123",
    "Reach out: {email} / {phone}",
    "Mon numéro est le {phone}, mon mail {email}.",
    "Meine Nummer: {phone}, IBAN {iban}",
    "Call {phone} or text {phone}.",
    "{email} 계정 비밀번호를 잊어버렸어요",
    "Emails: {email}, {email}",
    "요청 IP {ip}에서 {version} 클라이언트로 접속",
    "Please refund {card} and reply to {email}.",
    "My details — phone {phone}, SSN {ssn}, card {card}.",
]

CLEAN_TEMPLATES = [
    "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 {version}",
    "We pinned {version} because {version} broke the tests.",
    "The spec says see {version}.",
    "config 예시: TOKEN={placeholder}",
    "Replace {placeholder} with your own key.",
    "Attached: {b64}",
    "{b64}",
    "Your {order} is confirmed.",
    "{order}로 조회해 보세요.",
    "{misc} / {misc}",
    "오늘 {misc} 기준으로 {misc}입니다.",
    "Listening on {misc} ({misc})",
    "Error: {misc} at {version}",
    "{version} 설치 후 {misc}",
    "Look up {order} and {order}.",
]
