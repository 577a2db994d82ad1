"""A flush cancelled while Redis has not answered (the worker stopping) keeps its batch: the
stop's last flush writes it, snapshots, shares and timeline entries alike."""

from __future__ import annotations

import asyncio
from typing import Any

from processor.serving.keys import Keys
from processor.serving.projection import RedisProjection


class _Script:
    sha = "0" * 40


class _Pipeline:
    def __init__(self, redis: _Redis) -> None:
        self.redis = redis
        self.scripts: set[Any] = set()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def evalsha(self, *args: Any) -> None:
        self.calls.append(("evalsha", args))

    def zadd(self, *args: Any) -> None:
        self.calls.append(("zadd", args))

    def zremrangebyrank(self, *args: Any) -> None:
        self.calls.append(("zremrangebyrank", args))

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        while self.redis.hang:  # Redis does not answer (until told to)
            await asyncio.sleep(0.005)
        self.redis.written += self.calls
        return [True] * len(self.calls)


class _Redis:
    def __init__(self) -> None:
        self.hang = True
        self.written: list[tuple[str, tuple[Any, ...]]] = []

    def register_script(self, text: str) -> _Script:
        return _Script()

    def pipeline(self, transaction: bool = False) -> _Pipeline:
        return _Pipeline(self)


def test_a_cancelled_flush_keeps_its_batch_for_the_last_one() -> None:
    async def run() -> _Redis:
        redis = _Redis()
        projection = RedisProjection(redis=redis, keys=Keys("t"))  # type: ignore[arg-type]
        entry = {"at": "2026-01-05T00:00:00+00:00", "kind": "fact", "event_id": "e-1"}
        projection.publish(
            {"customer_id": "c-1"}, share={"key|USD": {"a|2026-01-05": "1"}}, timeline=[entry]
        )
        flushing = asyncio.create_task(projection.flush())
        await asyncio.sleep(0.01)
        flushing.cancel()
        await asyncio.gather(flushing, return_exceptions=True)
        assert projection.pending == 1
        redis.hang = False
        assert await projection.flush()
        return redis

    written = asyncio.run(run()).written
    assert [name for name, _ in written] == ["evalsha", "evalsha", "zadd", "zremrangebyrank"]


def test_written_waits_for_what_was_published_before_it_not_after() -> None:
    async def run() -> None:
        redis = _Redis()
        projection = RedisProjection(  # type: ignore[arg-type]
            redis=redis, keys=Keys("t"), flush_interval=0.01
        )
        await projection.start()
        try:
            projection.publish({"customer_id": "c-1"})
            upto = projection.published
            assert not await projection.written(upto, timeout=0.1)  # Redis does not answer
            redis.hang = False
            assert await projection.written(upto, timeout=2.0)
            assert projection.pending == 0 and len(redis.written) == 1
            assert await projection.written(upto, timeout=0.01)  # a position once reached stays
        finally:
            await projection.stop()

    asyncio.run(run())
