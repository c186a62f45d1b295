"""The claims a message can make that a reader acts on: links, phone numbers, prices, percentages,
dates, offers and scarcity ("only 2 left", "today only", "Friday at 3pm").

A model that invents one of these, or copies one a stranger planted in a form, makes the
business promise something it never offered. So each kind has a detector here, and a draft may
carry a claim only when the tenant's own facts carry it too (`messages.check` decides). The same
detectors tell the writer which lead-typed values may never fill a template slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|twenty-five|"
    "thirty|forty|fifty|sixty|seventy|eighty|ninety|a hundred|hundred|a few|few|a couple of|a handful of"
)
COUNT = rf"(?:\d+|{NUMBER_WORDS})"
WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thur?s?|fri|sat(?:ur)?|sun)(?:day)?"
CLOCK = r"\d{1,2}(?::\d{2})?\s?(?:a\.?m\.?|p\.?m\.?)(?![a-z])|\b\d{1,2}:\d{2}\b|\bnoon\b|\bmidnight\b"

URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"']+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|net|org|io|co|us|uk|ca|au|de|fr|biz|info|ly|me|app|dev|xyz|shop|site|online|link|ai|gl|to|cc|ru|cn)"
    r"\b(?:/[^\s<>\"']*)?",
    re.I,
)
EMAIL_ADDRESS = re.compile(r"\b[\w.+-]+@(?:[a-z0-9-]+\.)+[a-z]{2,}\b", re.I)
PHONE = re.compile(r"(?<![\w$€£])\+?\(?\d[\d\s().-]{5,}\d(?![\w%])")
MIN_PHONE_DIGITS = 7
MONEY = re.compile(
    rf"[$€£]\s?\d[\d,]*(?:\.\d+)?k?|\b\d[\d,]*(?:\.\d+)?\s?(?:usd|eur|gbp|dollars?|bucks|euros?|pounds?|quid)\b"
    rf"|\b(?:{NUMBER_WORDS})\s(?:dollars?|euros?|pounds?|bucks)\b",
    re.I,
)
PERCENT = re.compile(
    rf"\b(?:\d+(?:\.\d+)?|{NUMBER_WORDS})(?:\s?%|\s?(?:percent|per\s?cent|pct)\b)",
    re.I,
)
DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)? (?:of )?(?:jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b"
    r"|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b",
    re.I,
)
OFFER = re.compile(
    r"\bhalf[- ](?:price|off)\b|\bbuy one,? get one\b|\bbogo\b|\bfree of charge\b|\b\d+\s?off\b"
    r"|\b(?:discount(?:s|ed)?|coupon|promo(?:tion)?(?: code)?|voucher|rebate|cashback)\b"
    r"|\bfree\s+(?:\w+\s+)?(?:installation|install|consultation|quote|trial|delivery|shipping|survey|upgrade|"
    r"month|months|gift|session|service|inspection|estimate)s?\b",
    re.I,
)
SCARCITY = re.compile(
    rf"\bonly\s+{COUNT}\s+(?:[a-z]+\s+){{0,2}}(?:left|remaining|available|open|spots?|slots?|places?|seats?)\b"
    rf"|\b{COUNT}\s+(?:[a-z]+\s+){{0,2}}(?:left|remaining)\b"
    r"|\b(?:today|tonight|tomorrow|this week(?:end)?|this month|24 hours|48 hours)\s+only\b"
    r"|\b(?:last|final) chance\b|\blimited[- ](?:time|offer|spots?|slots?|places?|availability|stock)\b"
    r"|\bwhile (?:stocks?|supplies) lasts?\b|\b(?:ends|expires|closes)\s+(?:today|tonight|tomorrow|soon|at|on)\b"
    r"|\bbefore it'?s gone\b|\bselling (?:out )?fast\b|\bhurry(?: up| now|,)|\bact now\b|\bdon'?t miss out\b",
    re.I,
)
TIME_CLAIM = re.compile(
    rf"\b{WEEKDAY}\b[^.?!\n]{{0,30}}?(?:{CLOCK})|(?:{CLOCK})[^.?!\n]{{0,30}}?\b{WEEKDAY}\b|(?:\bat\s+)(?:{CLOCK})",
    re.I,
)


@dataclass(frozen=True)
class Claim:
    """One claim found in a text: its kind ('link', 'phone', ...) and the words that make it."""

    kind: str
    text: str


def links(text: str) -> list[str]:
    """URLs, bare domains and e-mail addresses."""
    return [m.group(0).rstrip(".,;:!?)") for m in URL.finditer(text)] + EMAIL_ADDRESS.findall(text)


def phones(text: str) -> list[str]:
    """Runs of digits long enough to be dialled (seven or more digits, separators allowed)."""
    found = (m.group(0).strip() for m in PHONE.finditer(text))
    return [number for number in found if len(digits(number)) >= MIN_PHONE_DIGITS]


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def claims(text: str) -> list[Claim]:
    """Every claim in `text`, by kind, in the order of the kinds below."""
    found = [Claim("link", token) for token in links(text)]
    found += [Claim("phone", token) for token in phones(text)]
    for kind, pattern in (
        ("price", MONEY),
        ("percentage", PERCENT),
        ("date", DATE),
        ("offer", OFFER),
        ("scarcity", SCARCITY),
        ("time", TIME_CLAIM),
    ):
        found += [Claim(kind, m.group(0).strip().rstrip(".,;:!?")) for m in pattern.finditer(text)]
    return found


def host_of(link: str) -> str:
    """The host a link or e-mail address points at, lower case, without `www.`."""
    if "@" in link and "://" not in link:
        return link.rsplit("@", 1)[-1].lower()
    host = re.sub(r"^[a-z]+://", "", link, flags=re.I).split("/", 1)[0].split(":", 1)[0].lower()
    return host.removeprefix("www.")


def on_domains(link: str, domains: tuple[str, ...]) -> bool:
    """True when `link` points at one of `domains` or a subdomain of one."""
    host = host_of(link)
    return any(host == d or host.endswith(f".{d}") for d in (d.lower().removeprefix("www.") for d in domains) if d)
