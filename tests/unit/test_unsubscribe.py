from hypothesis import given
from hypothesis import strategies as st

from app.domain.unsubscribe import claim_covers, make_token, verify_token

SECRET = "a-test-secret"


def test_a_token_names_tenant_channel_and_lead_and_covers_only_its_address() -> None:
    token = make_token(SECRET, tenant_id=7, channel="email", lead_id=42, address="Ann@Example.com")

    claim = verify_token(SECRET, token)

    assert claim is not None
    assert (claim.tenant_id, claim.channel, claim.lead_id) == (7, "email", 42)
    assert claim_covers(SECRET, claim, "ann@example.com")  # case does not make another mailbox
    assert not claim_covers(SECRET, claim, "bob@example.com")
    assert "ann" not in token.lower()  # no address in a URL


def test_a_forged_or_foreign_token_is_refused() -> None:
    token = make_token(SECRET, tenant_id=7, channel="sms", lead_id=42, address="+15551234567")
    tenant, channel, _lead, digest, signature = token.split(".")

    assert verify_token("another-secret", token) is None
    assert verify_token(SECRET, ".".join([tenant, channel, "43", digest, signature])) is None
    assert verify_token(SECRET, token[:-1]) is None
    assert verify_token(SECRET, "garbage") is None


@given(st.text(max_size=80))
def test_no_text_crashes_the_verifier(text: str) -> None:
    assert verify_token(SECRET, text) is None
