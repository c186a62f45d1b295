from bench.scratch import redis_db_url


def test_redis_db_url_keeps_the_unix_authority_and_replaces_the_db() -> None:
    assert redis_db_url("unix:///data/redis.sock?db=0", 14) == "unix:///data/redis.sock?db=14"
    assert redis_db_url("redis://127.0.0.1:6379/3", 14) == "redis://127.0.0.1:6379/14"
