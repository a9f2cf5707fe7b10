"""A worker batch is counted in relayed items and holds whole messages (cdp.scaleout.batching),
on a real faust stream: handed over before a message would take it past the bound, as soon as it
reaches it, a message holding more alone, what is left after ``within``; a message that cannot be
unpacked stops the agent's loop with its error; the cyclic garbage collector is paused while a
batch is filled and consumed."""

import asyncio
import gc
from contextlib import aclosing

import orjson
import pytest

from cdp.config import Settings
from cdp.scaleout import batching, messages
from cdp.scaleout.worker import faust_app


def chunk(positions: range) -> bytes:
    [packed] = messages.chunks(0, 7, [messages.event(n, 0, f"customer-{n}", orjson.dumps({"n": n})) for n in positions])
    return packed


def taken(tmp_path, values: list[bytes], max_items: int, batches: int, collector: list[bool] | None = None) -> list[list[tuple[str, int]]]:
    """The first ``batches`` batches ``take`` gives of ``values`` sent to a faust stream, as (kind,
    position); ``collector`` gets whether the collector ran while each batch was consumed, then
    whether it runs once the take is closed."""

    async def run() -> list[list[tuple[str, int]]]:
        app, _ = faust_app(Settings(data_dir=tmp_path, kafka={"topic": "t", "partitions": 1, "group": "g"}))
        app.flow_control.resume()  # as after the group's assignment
        channel = app.channel(key_type=bytes, value_type=bytes)
        stream = app.stream(channel)
        for value in values:
            await channel.send(value=value)
        got = []
        async with asyncio.timeout(30), aclosing(batching.take(stream, max_items, within=0.2)) as batches_taken:
            async for by_partition in batches_taken:
                got.append([(m.kind, m.position) for found in by_partition.values() for m in found])
                if collector is not None:
                    collector.append(gc.isenabled())
                if len(got) == batches:
                    break
        if collector is not None:
            collector.append(gc.isenabled())
        return got

    return asyncio.run(run())


def test_a_batch_holds_whole_messages_up_to_the_items_it_may_hold(tmp_path):
    values = [chunk(range(1, 4)), chunk(range(4, 7)), messages.tick(0, 6, 7), chunk(range(7, 12)), messages.tick(6, 11, 7)]
    assert taken(tmp_path, values, max_items=4, batches=4) == [
        [("event", 1), ("event", 2), ("event", 3)],  # the next chunk's three would make six
        [("event", 4), ("event", 5), ("event", 6), ("tick", 6)],  # four: handed over at once
        [("event", n) for n in range(7, 12)],  # five in one message: a batch of its own, never split
        [("tick", 11)],  # what came, after ``within``
    ]


def test_a_message_that_cannot_be_unpacked_stops_the_loop_with_its_error(tmp_path):
    with pytest.raises(orjson.JSONDecodeError):
        taken(tmp_path, [chunk(range(1, 3)), b"not a message"], max_items=100, batches=1)


def test_the_collector_is_paused_while_a_batch_is_consumed_and_runs_again_after(tmp_path):
    collector: list[bool] = []
    values = [chunk(range(1, 3)), chunk(range(3, 5)), messages.tick(0, 4, 7)]
    assert taken(tmp_path, values, max_items=2, batches=3, collector=collector) == [[("event", 1), ("event", 2)], [("event", 3), ("event", 4)], [("tick", 4)]]
    assert collector == [False, False, False, True]
