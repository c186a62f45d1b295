"""What of an inbound email is the lead's own words, and which of our messages it answers.

A reply carries the whole conversation below it (Gmail's "On … wrote:", Outlook's
"-----Original Message-----" or "From: … Sent: …" block, "> " quoted lines) and usually a
signature ("-- "). Triage and the rep want the new words only: keeping the quote would make
every reply look like our own pitch, and a reply's size is then bounded by what the lead typed.
Stdlib only, so the route and any later re-parse agree.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

MAX_REPLY_CHARS = 5_000
"""Kept of the lead's own words; a longer reply is cut (a reply is rarely over a few hundred)."""

_GMAIL = re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL)
_OUTLOOK = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)
_FORWARD_HEADER = re.compile(r"^\s*(From|De|Von):\s+.+$", re.IGNORECASE)
_SENT_HEADER = re.compile(r"^\s*(Sent|Date|Envoyé|Gesendet):\s+.+$", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = re.compile(r"^-- ?$")
_MOBILE = re.compile(r"^\s*Sent from my \w+", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


def strip_reply(text: str, *, limit: int = MAX_REPLY_CHARS) -> str:
    """The lead's new words: everything above the first quote marker or signature, capped at `limit`."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _ends_reply(lines, index):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    reply = "\n".join(kept).strip()
    reply = re.sub(r"\n{3,}", "\n\n", reply)
    return reply[:limit].rstrip()


def _ends_reply(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _SIGNATURE.match(line) or _OUTLOOK.match(line) or _UNDERSCORES.match(line) or _MOBILE.match(line):
        return True
    # Gmail wraps a long "On <date>, <name> <address> wrote:" over two lines
    if line.strip().lower().startswith("on ") and (
        _GMAIL.match(line) or _GMAIL.match(" ".join(lines[index : index + 2]).strip())
    ):
        return True
    return bool(_FORWARD_HEADER.match(line) and index + 1 < len(lines) and _SENT_HEADER.match(lines[index + 1]))


def message_ids(*headers: str) -> list[str]:
    """The ids in In-Reply-To/References values (`<id@host>` each), newest reference first, no repeats."""
    found: list[str] = []
    for header in headers:
        found.extend(_MESSAGE_ID.findall(header or ""))
    newest_first = list(reversed(found))
    return list(dict.fromkeys(newest_first))


def header_value(raw_headers: str, name: str) -> str:
    """One header of SendGrid's `headers` field (the raw header block), unfolded; '' when absent."""
    unfolded = re.sub(r"\r?\n[ \t]+", " ", raw_headers or "")
    prefix = name.lower() + ":"
    for line in unfolded.splitlines():
        if line.lower().startswith(prefix):
            return line[len(prefix) :].strip()
    return ""


def addresses(value: str) -> list[str]:
    """The bare addresses in an address header (`Name <a@b>, c@d`), lower-cased."""
    bracketed = re.findall(r"<([^<>\s]+@[^<>\s]+)>", value or "")
    if bracketed:
        return [a.lower() for a in bracketed]
    return [a.lower().strip(",;") for a in re.findall(r"[^\s<>,;\"]+@[^\s<>,;\"]+", value or "")]


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"style", "script", "head"}:
            self._skip += 1
        elif tag in {"br", "p", "div", "tr", "li"}:
            self.parts.append("\n")
        elif tag == "blockquote":
            self.parts.append("\n> ")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"style", "script", "head"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text of an HTML-only email (some clients send no text part), blockquotes marked as quotes."""
    parser = _TextOnly()
    parser.feed(html or "")
    parser.close()
    return "".join(parser.parts)
