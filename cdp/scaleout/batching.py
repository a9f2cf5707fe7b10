"""A worker's batch counted in relayed items, not in Kafka messages: faust's ``take_events`` with
the buffer's fill measured by what its messages hold.

A relay message is a chunk of up to ``messages.CHUNK_ITEMS`` events (``cdp.scaleout.messages``),
so a batch of ``kafka.worker_batch`` messages, as ``Stream.take_events`` counts, could hold a
thousand times the events a worker should project at once (the decoded events, the customers'
states and the rows are all in memory until the batch commits). ``take`` is faust-streaming
0.15.3's ``take_events`` (pinned in pyproject.toml) but for what fills the buffer: each message is
unpacked (``messages.unpack``) as it arrives, and the buffer is handed over before a message would
take it past ``max_items`` items and as soon as it reaches them. A message holding more than
``max_items`` alone is a batch of its own: a message is never split, so a worker applies and
commits whole messages. Messages are acknowledged as faust's are, after the agent has consumed the
batch. A message that cannot be unpacked ends the take with its error, in the agent (faust would
crash the stream and restart the agent past it). It reads the stream's private state as
``take_events`` does; a faust upgrade compares this with the new version's ``take_events``
(tests/unit/test_scaleout_batching.py runs it on a faust stream).

The cyclic garbage collector is paused from a batch's first message until the agent asks for the
next batch (``cdp.gc_pause``), as for the embedded runner's batch: a batch's decoded messages, the
states it loads and the rows it plans are freed by reference counting before any collection could
walk them. A batch handed over is not referenced here, so the agent frees it by dropping it before
it asks for the next one.
"""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any, cast

from faust.types import EventT, StreamT
from mode.utils.aiter import aiter
from mode.utils.futures import notify

from cdp.gc_pause import collector_paused
from cdp.scaleout import messages
from cdp.scaleout.messages import Message


async def take(stream: StreamT, max_items: int, within: float) -> AsyncIterator[dict[int, list[Message]]]:
    """Batches of the stream's messages unpacked, by partition in topic order: at most
    ``max_items`` items, or one message holding more, or what came within ``within`` seconds."""
    faust_stream = cast(Any, stream)
    by_partition: dict[int, list[Message]] = defaultdict(list)
    events: list[EventT] = []
    items = 0
    failure: Exception | None = None
    buffer_full, buffer_consumed = asyncio.Event(), asyncio.Event()
    consuming: asyncio.Future | None = None
    batch_pause = ExitStack()

    def pause_for_batch() -> None:
        if not events:  # a batch's first message
            batch_pause.enter_context(collector_paused())

    async def hand_over() -> None:
        buffer_full.set()
        buffer_consumed.clear()
        await faust_stream.wait(buffer_consumed)

    def handed() -> dict[int, list[Message]]:
        nonlocal by_partition
        batch, by_partition = by_partition, defaultdict(list)
        return dict(batch)

    async def add_to_buffer(value: bytes) -> bytes:
        nonlocal consuming, items, failure
        try:
            if consuming is not None:  # the agent is consuming the last batch
                try:
                    await consuming
                finally:
                    consuming = None
            event = faust_stream.current_event
            pause_for_batch()
            unpacked = messages.unpack(value)
            if items and items + len(unpacked) > max_items:
                await hand_over()
                pause_for_batch()  # this message is the next batch's first
            by_partition[event.message.partition].extend(unpacked)
            events.append(event)
            items += len(unpacked)
            if items >= max_items:
                await hand_over()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            failure = error
            buffer_full.set()
        return value

    enable_acks = faust_stream.enable_acks
    faust_stream.enable_acks = False  # acknowledged here, once the agent has consumed them
    faust_stream.add_processor(add_to_buffer)
    faust_stream._enable_passive(aiter(faust_stream.channel))
    try:
        while not faust_stream.should_stop:
            await faust_stream.wait_for_stopped(buffer_full, timeout=within)
            if failure is not None:
                raise failure
            if events:
                consuming = faust_stream.loop.create_future()
                try:
                    yield handed()
                finally:
                    items = 0
                    for event in events:
                        await faust_stream.ack(event)
                    events.clear()
                    notify(consuming)
                    buffer_full.clear()
                    buffer_consumed.set()
                    batch_pause.close()
    finally:
        batch_pause.close()
        faust_stream.enable_acks = enable_acks
        faust_stream._processors.remove(add_to_buffer)
