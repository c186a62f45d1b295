"""SMS segments, each case counted by hand: 160 septets or 70 UTF-16 units fit one segment,
153 or 67 fit each part of a longer text, extension characters take two septets, an emoji two
units, and no pair is split across parts."""

from __future__ import annotations

from app.domain.sms_segments import GSM7, UCS2, count_segments, is_gsm7, to_gsm


def test_an_empty_text_takes_no_segment() -> None:
    assert (count_segments("").units, count_segments("").segments) == (0, 0)


def test_160_plain_characters_fit_one_segment_and_161_take_two() -> None:
    assert (count_segments("a" * 160).encoding, count_segments("a" * 160).units) == (GSM7, 160)
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2  # 153 + 8
    assert count_segments("a" * 306).segments == 2  # 153 + 153
    assert count_segments("a" * 307).segments == 3  # 153 + 153 + 1


def test_extension_characters_count_twice() -> None:
    assert count_segments("€" * 80).units == 160
    assert count_segments("€" * 80).segments == 1
    # 81 euros are 162 septets: 76 of them (152) fill part one, the 77th would make 154 > 153.
    assert count_segments("€" * 81).segments == 2
    assert count_segments("{x}").units == 5


def test_an_escape_pair_is_never_split_across_parts() -> None:
    text = "a" * 152 + "€" + "a" * 152  # 306 septets: 153 + 153 if it could split the euro
    # Part one: 152 a (the euro would make 154); part two: € + 151 a = 153; part three: 1 a.
    assert count_segments(text).units == 306
    assert count_segments(text).segments == 3


def test_one_character_outside_gsm_sends_the_whole_text_in_ucs2() -> None:
    assert not is_gsm7("It’s me")  # a curly apostrophe
    assert is_gsm7("Ça va? Reply STOP to opt out.")  # Ç is in the basic set
    assert count_segments("ç" * 70).encoding == UCS2  # the lower-case ç is not
    assert count_segments("ç" * 70).segments == 1
    assert count_segments("ç" * 71).segments == 2  # 67 + 4
    assert count_segments("a" * 159 + "’").segments == 3  # 160 units in UCS-2: 67 + 67 + 26


def test_an_emoji_takes_two_units_and_is_never_split() -> None:
    assert count_segments("Hi 😀").units == 5
    assert count_segments("a" * 66 + "😀").segments == 1  # 68 units
    text = "a" * 66 + "😀" + "a" * 66  # 134 units = 2 × 67 if the emoji could split
    # Part one: 66 a (the emoji would make 68); part two: 😀 + 65 a = 67; part three: 1 a.
    assert count_segments(text).segments == 3


def test_the_limit_is_what_fits_the_segments_taken() -> None:
    assert count_segments("hello").limit == 160
    assert count_segments("a" * 161).limit == 306
    assert count_segments("ç").limit == 70
    assert count_segments("ç" * 71).limit == 134


# --- Twilio's documented examples (twilio.com/docs/glossary/what-sms-character-limit and
# what-is-ucs-2-character-encoding), each worked out by hand -------------------------------------


def test_twilio_a_161_character_message_is_two_segments_of_153_and_8() -> None:
    text = "x" * 161
    assert (count_segments(text).encoding, count_segments(text).segments) == (GSM7, 2)


def test_twilio_a_curly_quote_turns_160_into_70() -> None:
    straight = 'He said "yes" ' + "a" * 146  # 160 GSM characters: one segment
    curly = straight.replace('"', "“", 1).replace('"', "”", 1)
    assert count_segments(straight).segments == 1
    assert count_segments(curly).encoding == UCS2
    assert count_segments(curly).segments == 3  # 160 units: 67 + 67 + 26


def test_twilio_140_characters_with_one_ucs2_character_take_3_segments_and_1_without() -> None:
    text = "a" * 139 + "ç"  # 140 characters, one of them outside GSM-7
    assert count_segments(text).segments == 3  # 67 + 67 + 6
    assert count_segments("a" * 140).segments == 1


def test_twilio_ucs2_messages_over_70_characters_split_into_67() -> None:
    assert count_segments("Ж" * 70).segments == 1
    assert count_segments("Ж" * 134).segments == 2
    assert count_segments("Ж" * 135).segments == 3


def test_every_extension_character_counts_as_two() -> None:
    for char in "^{}\\[~]|€":
        assert count_segments(char).units == 2, char
    assert count_segments("a" * 158 + "|").segments == 1  # 160 septets
    assert count_segments("a" * 159 + "|").segments == 2  # 161 septets


def test_typographic_quotes_and_dashes_become_gsm_without_changing_the_words() -> None:
    assert to_gsm("It’s “done” — nearly… ok") == 'It\'s "done" - nearly... ok'
    assert to_gsm("Zoë, ça va? 😀") == "Zoë, ça va? 😀"  # no GSM twin: left for the counter to price
    text = "Hi Ana, it’s Maya from Bright Homes. " + "a" * 100 + " Reply STOP to opt out."
    assert count_segments(text).segments == 3
    assert count_segments(to_gsm(text)).segments == 1
