"""One OS process of the shared-rate-limit test: `count` calls to the AC sandbox.

    python -m tests.integration.activecampaign.rate_worker API_URL API_KEY STORE COUNT START_AT NAME

STORE is a redis:// URL (the throttle shared by every process on the account) or "local" (a
throttle of this process only: the control that shows the measurement can see an overrun).
START_AT is a wall-clock time at which every process begins, so that they compete from the
first call. Each call is one request: a connection check, a tag lookup, a contact upsert.
"""

from __future__ import annotations

import sys
import time

from connectors.activecampaign import ActiveCampaignClient, ContactChanges
from connectors.config import ActiveCampaignConfig
from connectors.http import HttpSettings, RetryPolicy
from connectors.ratelimit import LocalStore, RedisStore


def main(api_url: str, api_key: str, store_url: str, count: int, start_at: float, name: str):
    store = LocalStore() if store_url == "local" else RedisStore(store_url)
    client = ActiveCampaignClient(
        ActiveCampaignConfig(api_url=api_url, api_key=api_key, budget_share=1.0),
        http_settings=HttpSettings(connect_timeout=5, read_timeout=10, allow_local_urls=True),
        throttle_store=store,
        retry=RetryPolicy(attempts=1),
    )
    time.sleep(max(0.0, start_at - time.time()))
    for i in range(count):
        if i % 3 == 0:
            client.check()
        elif i % 3 == 1:
            client.tags.find(f"{name}-tag-{i}")  # a search: nothing cached under a new name
        else:
            client.contacts.sync(ContactChanges(email=f"{name}-{i}@rate.example"))


if __name__ == "__main__":
    main(*sys.argv[1:4], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
