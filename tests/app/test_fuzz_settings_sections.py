"""The Settings page's other forms through AppTest with generated values, on real PostgreSQL: the
prices, the messages, the retention, the API-key name and the erasure of a lead (its id typed
again). No exception and no traceback on the page; a rejection is one error that starts with the
name of the field that is wrong, and nothing is written (the tenant's row, its API keys, its leads
and the audit log read in SQL); a value that is valid by the form's help is saved exactly (the
expected stored value worked out here, not by the page).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from tests.app import factories
from tests.app.driver import open_page, signed_in, truncate, value
from tests.fuzz_tally import examples, tried

SNAPSHOT_SQL = (
    "SELECT (SELECT t::text FROM tenants t WHERE t.id = :t), (SELECT count(*) FROM api_keys WHERE tenant_id = :t), "
    "(SELECT count(*) FROM audit_log)"
)
FUZZ = settings(max_examples=examples(12), derandomize=True, suppress_health_check=list(HealthCheck), database=None)
ODD = ("", " ", "\x00", "a\x00b", "$", "-0", "NaN", "sNaN", "Infinity", "1e999999", "1e-99999999999", "１２", "😀")
ODD_TEXT = st.sampled_from([*ODD, "5.000000000000000000000000000000000001", "1E+999999999999999999"])
LOOSE_TEXT = st.one_of(ODD_TEXT, st.text(max_size=40))


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


@pytest.fixture
def page(world: factories.World) -> AppTest:
    """The Settings page of acme, as an operator every one of its forms lets save."""
    return open_page(signed_in("boss@acme.example", factories.ADMIN_PASSWORD), "pages/tenant_settings.py")


def snapshot(engine: Engine, tenant_id: int) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(SNAPSHOT_SQL), {"t": tenant_id}).one())


def submit(at: AppTest, form: str, label: str) -> None:
    at.button(key=f"FormSubmitter:{form}-{label}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Traceback" in m.value for m in [*at.markdown, *at.error, *at.text]), "a traceback shown"


def refused_by(at: AppTest, label: str, engine: Engine, tenant_id: int, before: tuple[Any, ...]) -> None:
    """One error, naming the field, and nothing of the form written."""
    assert [e.value.split(":")[0] + ":" for e in at.error] == [label], ([e.value for e in at.error], label)
    assert not at.success
    assert snapshot(engine, tenant_id) == before


def saved(at: AppTest) -> None:
    assert not at.error, [e.value for e in at.error]
    assert len(at.success) == 1


def decimal_of(text: str, *, most: int, places: int, commas: bool) -> str | None:
    """The stored decimal string of a valid amount by the form's help (dollars, a leading `$`, at
    least 0, at most `most`, at most `places` decimals), else None."""
    cleaned = text.strip().removeprefix("$").strip()
    cleaned = cleaned.replace(",", "") if commas else cleaned
    if commas and not cleaned:
        return "0"
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or not 0 <= amount <= most:
        return None
    _, digits, exponent = amount.as_tuple()  # exact: digits × 10^exponent, trailing zeros counted apart
    fraction = int(exponent) + len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if any(digits) and fraction < -places:
        return None
    return "0" if amount == 0 else format(amount.normalize(), "f")


def price_text(places: int, most: int) -> st.SearchStrategy[str]:
    cents = st.integers(0, most * 10**places).map(lambda n: str(Decimal(n).scaleb(-places)))
    return st.one_of(
        cents, cents.map(lambda s: f" ${s} "), st.sampled_from(["10.0000001", "-1", "1e2", "2,500"]), LOOSE_TEXT
    )


def test_generated_prices_are_saved_exactly_or_refused_by_name(
    world: factories.World, page: AppTest, engine: Engine
) -> None:
    acme = world.tenants["acme"]
    seen = {"saved": 0, "refused": 0}
    form = f"roi.{acme}.prices"

    @given(email=price_text(6, 10), sms=price_text(6, 10), fixed=price_text(2, 1_000_000))
    @example(email="0.001", sms="1e-99999999999", fixed="0").via("found: read as $0 and saved")
    @example(email="0.001", sms="0.01", fixed="100.0000000000000000000000000000000001").via("found: read as $100")
    @FUZZ
    def fuzz(email: str, sms: str, fixed: str) -> None:
        tried("settings_forms")
        before = snapshot(engine, acme)
        for field, typed in (("email", email), ("sms", sms), ("fixed", fixed)):
            page.text_input(key=f"roi.{acme}.{field}").set_value(typed)
        submit(page, form, "Save prices")
        expected = (
            decimal_of(email, most=10, places=6, commas=False),
            decimal_of(sms, most=10, places=6, commas=False),
            decimal_of(fixed, most=1_000_000, places=2, commas=True),
        )
        if None in expected:
            label = ("Email price:", "SMS price:", "Fixed cost:")[expected.index(None)]
            refused_by(page, label, engine, acme, before)
            seen["refused"] += 1
            return
        saved(page)
        stored = (
            "SELECT settings->'unit_prices'->>'email', settings->'unit_prices'->>'sms', "
            "settings->>'fixed_monthly_cost' FROM tenants WHERE id = :t"
        )
        with engine.connect() as conn:
            assert tuple(conn.execute(sa.text(stored), {"t": acme}).one()) == expected
        seen["saved"] += 1

    fuzz()
    assert min(seen.values()) > 0, seen


GOOD_DOMAINS = [  # as typed, as stored: worked out by hand from the help ("e.g. brighthomes.com")
    ("brighthomes.com", "brighthomes.com"),
    ("BrightHomes.COM", "brighthomes.com"),
    ("https://www.roof-co.example.org/offer", "roof-co.example.org"),
    ("a1.io", "a1.io"),
]
BAD_DOMAINS = ["localhost", "-bad.com", "ex_ample.com", "a..b.com", "http://", "1.2.3.4", "bad-.com", "\x00.com"]


def test_generated_message_settings_are_saved_exactly_or_refused_by_name(
    world: factories.World, page: AppTest, engine: Engine
) -> None:
    acme = world.tenants["acme"]
    seen = {"saved": 0, "refused": 0}

    @given(
        offer=st.one_of(st.text(max_size=60), ODD_TEXT, st.integers(495, 505).map(lambda n: "x" * n)),
        domains=st.lists(st.sampled_from(GOOD_DOMAINS), max_size=3, unique=True),
        bad=st.one_of(st.none(), st.sampled_from(BAD_DOMAINS)),
        segments=st.sampled_from([1, 2]),
    )
    @example(offer="10% off\x00", domains=[], bad=None, segments=1).via("found: jsonb refused it, a traceback")
    @FUZZ
    def fuzz(offer: str, domains: list[tuple[str, str]], bad: str | None, segments: int) -> None:
        tried("settings_forms")
        before = snapshot(engine, acme)
        typed = [d for d, _ in domains] + ([bad] if bad is not None else [])
        page.text_area(key=f"settings.{acme}.messages.offer").set_value(offer)
        page.text_input(key=f"settings.{acme}.messages.domains").set_value(", ".join(typed))
        page.radio(key=f"settings.{acme}.messages.segments").set_value(segments)
        submit(page, f"settings.{acme}.messages.form", "Save")
        offer = offer[:500]  # the widget's max_chars: a longer text is cut by Streamlit, as the browser would
        if "\x00" in offer:
            refused_by(page, "Offer:", engine, acme, before)
        elif bad is not None:
            refused_by(page, "Domains:", engine, acme, before)
        else:
            saved(page)
            stored = value(engine, "SELECT settings->'messages' FROM tenants WHERE id = :t", t=acme)
            assert stored == {"offer": offer.strip(), "domains": [d for _, d in domains], "sms_max_segments": segments}
            seen["saved"] += 1
            return
        seen["refused"] += 1

    fuzz()
    assert min(seen.values()) > 0, seen


def test_generated_retention_is_saved_exactly_or_dropped_by_its_widget(
    world: factories.World, page: AppTest, engine: Engine
) -> None:
    acme = world.tenants["acme"]
    widget = f"settings.{acme}.privacy.retention_days"

    @given(days=st.one_of(st.integers(-5, 40), st.integers(-(2**40), 2**40), st.sampled_from([36_500, 36_501, 10**15])))
    @FUZZ
    def fuzz(days: int) -> None:
        tried("settings_forms")
        page.number_input(key=widget).set_value(days)
        submit(page, f"settings.{acme}.privacy.retention", "Save retention")
        taken = page.number_input(key=widget).value
        # what the browser would not let through (0 to 36,500) is dropped by the widget, never saved
        assert 0 <= taken <= 36_500, taken
        assert taken == days or not 0 <= days <= 36_500, (days, taken)
        saved(page)
        assert value(engine, "SELECT retention_days FROM tenants WHERE id = :t", t=acme) == (taken or None)

    fuzz()


def key_names(engine: Engine, tenant_id: int) -> list[str]:
    with engine.connect() as conn:
        sql = "SELECT name FROM api_keys WHERE tenant_id = :t ORDER BY id"
        return list(conn.execute(sa.text(sql), {"t": tenant_id}).scalars())


def test_generated_api_key_names_are_saved_exactly_or_refused_by_name(
    world: factories.World, page: AppTest, engine: Engine
) -> None:
    acme = world.tenants["acme"]
    seen = {"saved": 0, "refused": 0}
    one_spaced: Callable[[str], str] = lambda text: " ".join(text.split())  # noqa: E731 - the help's rule

    @given(name=st.one_of(LOOSE_TEXT, st.integers(78, 82).map(lambda n: "k" * n), st.just("  CRM \t sync  ")))
    @example(name="CRM\x00sync").via("found: text refused it, a traceback")
    @FUZZ
    def fuzz(name: str) -> None:
        tried("settings_forms")
        before, names = snapshot(engine, acme), key_names(engine, acme)
        page.text_input(key=f"settings.{acme}.api_keys.name").set_value(name)
        submit(page, f"settings.{acme}.api_keys.create", "Create key")
        cleaned = one_spaced(name[:80])  # the widget's max_chars cuts a longer name, as the browser would
        if not cleaned or "\x00" in cleaned:
            refused_by(page, "Key name:", engine, acme, before)
            seen["refused"] += 1
            return
        assert not page.error, [e.value for e in page.error]
        assert key_names(engine, acme) == [*names, cleaned]
        seen["saved"] += 1

    fuzz()
    assert min(seen.values()) > 0, seen


ERASE_SQL = (
    "SELECT (SELECT md5(string_agg(l::text, ',' ORDER BY l.id)) FROM leads l), (SELECT count(*) FROM audit_log), "
    "(SELECT count(*) FROM suppressions)"
)


def test_generated_erasures_need_the_lead_id_typed_again_and_a_lead_of_this_tenant(
    world: factories.World, page: AppTest, engine: Engine
) -> None:
    acme, birch = world.tenants["acme"], world.tenants["birch"]
    sql = "SELECT id FROM leads WHERE tenant_id = :t ORDER BY id LIMIT 3"
    ours, theirs = (list(value_rows(engine, sql, t)) for t in (acme, birch))
    seen = {"erased": 0, "refused": 0}
    widget = f"settings.{acme}.privacy.lead_id"

    @given(
        lead_id=st.one_of(st.sampled_from([*ours, *theirs, 10**9, 0, -3, 2**63]), st.integers(-(2**40), 2**40)),
        confirm=st.one_of(st.just("same"), st.just(" same "), LOOSE_TEXT),
    )
    @FUZZ
    def fuzz(lead_id: int, confirm: str) -> None:
        tried("settings_forms")
        with engine.connect() as conn:
            before = tuple(conn.execute(sa.text(ERASE_SQL)).one())
        page.number_input(key=widget).set_value(lead_id)
        typed = confirm.replace("same", str(lead_id))
        page.text_input(key=f"settings.{acme}.privacy.confirm").set_value(typed)
        page.button(key=f"settings.{acme}.privacy.erase").click().run()
        assert not page.exception, [e.value for e in page.exception]
        taken = page.number_input(key=widget).value
        # what the browser would not let through (below 1, beyond 2^53 - 1) is dropped by the widget
        assert taken == lead_id or not 1 <= lead_id < 2**53, (lead_id, taken)
        typed = typed[:20].strip()  # the confirmation's max_chars, as the browser would cut it
        if taken is None or typed != str(taken) or taken not in ours:
            label = "confirm:" if taken is not None and typed != str(taken) else "lead id:"
            assert [e.value.split(":")[0] + ":" for e in page.error] == [label], [e.value for e in page.error]
            with engine.connect() as conn:
                assert tuple(conn.execute(sa.text(ERASE_SQL)).one()) == before
            seen["refused"] += 1
            return
        assert not page.error, [e.value for e in page.error]
        audit = "SELECT count(*) FROM audit_log WHERE action = 'erase' AND subject = :s"
        assert value(engine, audit, s=f"lead {taken}") >= 1
        assert value(engine, "SELECT erased_at IS NOT NULL FROM leads WHERE id = :l", l=taken)
        seen["erased"] += 1

    fuzz()
    assert min(seen.values()) > 0, seen


def value_rows(engine: Engine, sql: str, tenant_id: int) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), {"t": tenant_id}).scalars())
