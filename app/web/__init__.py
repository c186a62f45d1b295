"""The routers of the `api` process (health now; webhooks, unsubscribe and intake later)."""
