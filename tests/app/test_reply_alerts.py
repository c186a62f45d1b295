"""The owner alert through AppTest on real PostgreSQL: a rep who opens the console gets one toast per
new interested or question reply of the leads they own (or nobody owns), once; the inbox puts those
replies first. What was shown, to whom and when, is read back in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from pages import session
from tests.app import factories
from tests.app.driver import APP, TIMEOUT, open_page, rows, truncate, value


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def add_reply(
    engine: Engine,
    world: factories.World,
    name: str,
    *,
    owner: str | None,
    intent: str,
    priority: str,
    minutes_ago: int,
    alert: bool,
) -> int:
    """A lead called `name` in Acme, owned by `owner` (an operator's email), with one triaged SMS reply."""
    owner_id = world.operators[owner] if owner else None
    first, last = name.split()
    lead = insert(
        engine,
        """INSERT INTO leads (tenant_id, external_id, first_name, last_name, owner_id, recovery_state,
                              last_activity_at)
           VALUES (:t, :x, :f, :l, :o, 'replied', :at) RETURNING id""",
        t=world.tenants["acme"],
        x=f"alert-{name}",
        f=first,
        l=last,
        o=owner_id,
        at=world.now,
    )
    return int(
        insert(
            engine,
            """INSERT INTO inbound_messages (tenant_id, lead_id, channel, from_address, body, intent, sentiment,
                                             priority, alert, received_at)
               VALUES (:t, :lead, 'sms', '+15550001111', 'words', :intent, 'positive', :p, :alert, :at) RETURNING id""",
            t=world.tenants["acme"],
            lead=lead,
            intent=intent,
            p=priority,
            alert=alert,
            at=world.now - dt.timedelta(minutes=minutes_ago),
        )
    )


def insert(engine: Engine, statement: str, **params: object) -> int:
    with engine.begin() as conn:
        return int(conn.execute(text(statement), params).scalar_one())


def commit(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def sign_in(email: str, password: str, now: dt.datetime) -> AppTest:
    """Open the console and sign in with the clock pinned: the run after the form is the first one signed in."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[session.CLOCK] = now
    at.run()
    at.text_input(key="signin.email").input(email)
    at.text_input(key="signin.password").input(password)
    at.form_submit_button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def toasts(at: AppTest) -> list[str]:
    return [t.value for t in at.toast]


@pytest.fixture
def replies(world: factories.World, engine: Engine) -> dict[str, int]:
    return {
        "owned": add_reply(
            engine,
            world,
            "Olivia Owned",
            owner="demo@acme.example",
            intent="interested",
            priority="high",
            minutes_ago=3,
            alert=True,
        ),
        "unowned": add_reply(
            engine, world, "Una Unowned", owner=None, intent="question", priority="high", minutes_ago=2, alert=True
        ),
        "boss": add_reply(
            engine,
            world,
            "Oscar Other",
            owner="boss@acme.example",
            intent="interested",
            priority="high",
            minutes_ago=1,
            alert=True,
        ),
        "not_now": add_reply(
            engine,
            world,
            "Nora Notnow",
            owner="demo@acme.example",
            intent="not_now",
            priority="high",
            minutes_ago=0,
            alert=False,
        ),
    }


def test_the_owner_gets_one_toast_per_new_alert_and_only_once(
    world: factories.World, engine: Engine, replies: dict[str, int]
) -> None:
    rep = world.operators["demo@acme.example"]
    at = sign_in("demo@acme.example", factories.DEMO_PASSWORD, world.now)

    assert toasts(at) == [
        "Olivia Owned is interested (SMS). It is at the top of the Replies inbox.",
        "Una Unowned asked a question (SMS). It is at the top of the Replies inbox.",
    ]
    shown = rows(engine, "SELECT id, alerted_at, alerted_to FROM inbound_messages WHERE alerted_at IS NOT NULL")
    assert sorted((r.id, r.alerted_at, r.alerted_to) for r in shown) == sorted(
        [(replies["owned"], world.now, rep), (replies["unowned"], world.now, rep)]
    )

    at.run()  # a refresh: nothing new
    assert toasts(at) == []
    assert value(engine, "SELECT count(*) FROM inbound_messages WHERE alerted_at IS NOT NULL") == 2


def test_another_reps_lead_and_a_handled_reply_are_not_toasted(
    world: factories.World, engine: Engine, replies: dict[str, int]
) -> None:
    commit(engine, "UPDATE inbound_messages SET handled_at = now() WHERE id = :id", id=replies["unowned"])
    at = sign_in("boss@acme.example", factories.ADMIN_PASSWORD, world.now)

    # Olivia's lead is the demo rep's; Una's reply is handled; Oscar's lead is the boss's own.
    assert toasts(at) == ["Oscar Other is interested (SMS). It is at the top of the Replies inbox."]
    assert (
        value(engine, "SELECT alerted_to FROM inbound_messages WHERE id = :id", id=replies["boss"])
        == (world.operators["boss@acme.example"])
    )
    assert value(engine, "SELECT count(*) FROM inbound_messages WHERE alerted_at IS NOT NULL") == 1


def test_the_inbox_puts_interest_and_questions_first(
    world: factories.World, engine: Engine, replies: dict[str, int]
) -> None:
    at = sign_in("demo@acme.example", factories.DEMO_PASSWORD, world.now)
    open_page(at, "pages/reply_inbox.py")

    # each card's head line (a thread's lines carry the message after a line break)
    heads = [t.value for t in at.text if " · " in t.value and "\n" not in t.value and not t.value.startswith("Why")]
    # Nora's reply is the newest and high priority, but only "not now": every unhandled interested or
    # question reply comes before it, the newest of them (Oscar, Una, Olivia) on top.
    assert [h.split(" · ")[0] for h in heads[:3]] == ["Oscar Other", "Una Unowned", "Olivia Owned"]
    unhandled_alerts = value(
        engine,
        """SELECT count(*) FROM inbound_messages WHERE tenant_id = :t AND handled_at IS NULL
           AND intent IN ('interested', 'question')""",
        t=world.tenants["acme"],
    )
    assert [h.split(" · ")[0] for h in heads].index("Nora Notnow") == unhandled_alerts


def test_many_alerts_at_once_make_four_toasts_and_a_count(
    world: factories.World, engine: Engine, replies: dict[str, int]
) -> None:
    for n in range(4):  # with Olivia's and Una's, six new alerts for the demo rep
        add_reply(
            engine,
            world,
            f"Extra Lead{n}",
            owner="demo@acme.example",
            intent="question",
            priority="high",
            minutes_ago=10 + n,
            alert=True,
        )
    at = sign_in("demo@acme.example", factories.DEMO_PASSWORD, world.now)

    shown = toasts(at)
    assert len(shown) == 5
    assert shown[-1] == "2 more new replies to answer, at the top of the Replies inbox."
    assert (
        value(
            engine,
            "SELECT count(*) FROM inbound_messages WHERE alerted_to = :o",
            o=world.operators["demo@acme.example"],
        )
        == 6
    )
