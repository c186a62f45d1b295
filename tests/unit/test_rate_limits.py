from app.domain.rate_limits import DEFAULT_LIMITS, Limit, buckets_for, limits_for


def test_defaults_when_the_tenant_sets_nothing_or_nonsense() -> None:
    assert limits_for({}) == DEFAULT_LIMITS
    assert limits_for({"rate_limits": "fast"}) == DEFAULT_LIMITS
    broken = {"rate_limits": {"tenant": {"per_second": -1}, "sms_sender": {"burst": "many"}}}
    assert limits_for(broken) == DEFAULT_LIMITS


def test_a_tenant_overrides_one_limit_and_keeps_the_others() -> None:
    limits = limits_for({"rate_limits": {"email_domain": {"per_second": 5, "burst": 50}}})
    assert limits["email_domain"] == Limit(5.0, 50)
    assert limits["tenant"] == DEFAULT_LIMITS["tenant"]


def test_email_draws_from_tenant_sender_and_domain_sms_from_tenant_and_number() -> None:
    email = buckets_for(
        tenant_id=3, channel="email", sender="Sales@Acme.example", to_address="ann@Gmail.com", limits=DEFAULT_LIMITS
    )
    sms = buckets_for(
        tenant_id=3, channel="sms", sender="+15550001111", to_address="+15557654321", limits=DEFAULT_LIMITS
    )
    assert [b.key for b in email] == [
        "lre:rl:tenant:3",
        "lre:rl:sender:email:sales@acme.example",
        "lre:rl:domain:3:gmail.com",
    ]
    assert [b.key for b in sms] == ["lre:rl:tenant:3", "lre:rl:sender:sms:+15550001111"]
    assert sms[1].limit == DEFAULT_LIMITS["sms_sender"]
