"""The Channels peer on ``channels_redis``, the layer Channels recommends for production.

``BENCH_REDIS_URL`` names the redis-server the harness started for the run.
"""

from __future__ import annotations

import os

from benchmarks.channels_peer.settings import *  # noqa: F403

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [os.environ["BENCH_REDIS_URL"]]},
    }
}
