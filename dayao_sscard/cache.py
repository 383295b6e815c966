"""The Redis cache, for an installation whose Redis may be down for a while.

What the application keeps in the cache can always be done without: a running job's live
progress and heartbeat, the custody-risk tiles' counts. With Redis unreachable, a read is
a miss and a write is dropped (one warning in the log), so the pages keep answering and a
running import keeps writing instead of failing on its next progress report.

``incr`` and ``clear`` still raise: a counter that silently stops counting would be a lie.
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _tolerant(default):
    """The method, answering ``default(*args, **kwargs)`` when Redis cannot be reached."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE:
                logger.warning("cache unreachable: %s skipped", method.__name__)
                return default(*args, **kwargs)

        return wrapper

    return decorate


def _nothing(*args, **kwargs):
    return None


def _false(*args, **kwargs):
    return False


def _get_default(key, default=None, version=None):
    return default


def _no_keys(keys, version=None):
    return {}


def _all_keys_failed(data, *args, **kwargs):
    return list(data)


class TolerantRedisCache(RedisCache):
    add = _tolerant(_false)(RedisCache.add)
    get = _tolerant(_get_default)(RedisCache.get)
    set = _tolerant(_nothing)(RedisCache.set)
    touch = _tolerant(_false)(RedisCache.touch)
    delete = _tolerant(_false)(RedisCache.delete)
    get_many = _tolerant(_no_keys)(RedisCache.get_many)
    has_key = _tolerant(_false)(RedisCache.has_key)
    set_many = _tolerant(_all_keys_failed)(RedisCache.set_many)
    delete_many = _tolerant(_nothing)(RedisCache.delete_many)
