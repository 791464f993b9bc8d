"""One OS process of the shared-throttle test: `count` requests to one AC account.

    python -m tests.connectors.activecampaign.throttle_worker API_URL STORE COUNT START_AT

STORE is a redis:// URL (the shared throttle) or "local" (a throttle of this process only:
the control that shows the measurement can see an overrun). START_AT is a wall-clock time at
which both processes begin, so that they compete from the first request.
"""

from __future__ import annotations

import sys
import time

from connectors.activecampaign import ActiveCampaignClient
from connectors.config import ActiveCampaignConfig
from connectors.http import HttpSettings, RetryPolicy
from connectors.ratelimit import LocalStore, RedisStore


def main(api_url: str, store_url: str, count: int, start_at: float) -> None:
    store = LocalStore() if store_url == "local" else RedisStore(store_url)
    client = ActiveCampaignClient(
        ActiveCampaignConfig(api_url=api_url, api_key="throttle-test-key", budget_share=1.0),
        http_settings=HttpSettings(connect_timeout=5, read_timeout=10, allow_local_urls=True),
        throttle_store=store,
        retry=RetryPolicy(attempts=1),
    )
    time.sleep(max(0.0, start_at - time.time()))
    for _ in range(count):
        client.check()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
