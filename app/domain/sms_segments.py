"""How many billed parts (segments) an SMS takes, as a carrier counts them.

Carriers bill per segment, and a text that spills over by one character costs twice, so the
campaign wizard shows the count beside every SMS preview and prices the estimate with it.

- A text of GSM 03.38 characters only is sent in GSM-7: 160 septets fit one segment. The
  extension characters (`^ { } \\ [ ~ ] | €` and form feed) are sent as an escape plus the
  character, so each takes two septets.
- Anything else (an emoji, a curly quote, most non-Latin letters) sends the whole text in
  UCS-2: 70 UTF-16 code units fit one segment, and a character outside the Basic Multilingual
  Plane (most emoji) takes two units.
- A longer text is split into parts that each carry a 6-byte header, leaving 153 septets or 67
  units per part. Phones never split an escape pair or a surrogate pair across parts, so a part
  that would end on the first half of one closes one short and the pair starts the next part.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7 = "GSM-7"
UCS2 = "UCS-2"
SINGLE = {GSM7: 160, UCS2: 70}
PER_PART = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True)
class SmsSegments:
    """A text's encoding, its length in that encoding's units (septets or UTF-16 units), and its parts."""

    encoding: str
    units: int
    segments: int

    @property
    def limit(self) -> int:
        """Units that fit this many segments (what the counter under a text box shows as `units / limit`)."""
        if self.segments <= 1:
            return SINGLE[self.encoding]
        return PER_PART[self.encoding] * self.segments


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _widths(text: str, encoding: str) -> list[int]:
    """Each character's width in units: 1 or 2 (an escape pair, a surrogate pair)."""
    if encoding == GSM7:
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def count_segments(text: str) -> SmsSegments:
    """The segments `text` is billed as (an empty text: 0)."""
    encoding = GSM7 if is_gsm7(text) else UCS2
    widths = _widths(text, encoding)
    units = sum(widths)
    if units == 0:
        return SmsSegments(encoding, 0, 0)
    if units <= SINGLE[encoding]:
        return SmsSegments(encoding, units, 1)
    part, used, parts = PER_PART[encoding], 0, 1
    for width in widths:
        if used + width > part:
            parts, used = parts + 1, 0
        used += width
    return SmsSegments(encoding, units, parts)


# Typographic characters editors and models like, each with the GSM character that means the same.
# One curly apostrophe sends the whole text in UCS-2 (70 a segment, not 160).
TO_GSM = str.maketrans(
    {
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",  # ‚
        "\u2032": "'",  # ′
        "\u0060": "'",  # `
        "\u00b4": "'",  # ´
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u2033": '"',  # ″
        "\u2010": "-",  # ‐
        "\u2011": "-",  # ‑
        "\u2012": "-",  # ‒
        "\u2013": "-",  # –
        "\u2014": "-",  # —
        "\u2212": "-",  # −
        "\u2026": "...",  # …
        "\u00a0": " ",  # no-break space
        "\u2007": " ",
        "\u2009": " ",  # thin space
        "\u202f": " ",
    }
)


def to_gsm(text: str) -> str:
    """`text` with typographic quotes, dashes, ellipses and odd spaces replaced by their GSM twins.

    Only characters whose meaning survives are replaced; anything else outside GSM-7 (an
    accent, an emoji) is left for the counter to price honestly.
    """
    return text.translate(TO_GSM)
