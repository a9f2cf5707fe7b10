"""faust's aiokafka transport with a cheaper hand-over of each fetched message to the agent's stream.

faust's consumer (``faust.transport.consumer.Consumer._drain_messages``, faust-streaming 0.15.3,
pinned in pyproject.toml) hands every fetched message to the conductor through
``Service.wait_first(callback(message), suspend_flow.wait())``: four asyncio tasks a message (the
delivery, the flow's suspension, the consumer's stop and crash), an ``asyncio.wait`` and three
cancellations, so that a delivery blocked on a full stream buffer or on suspended flow control is
abandoned when a rebalance suspends the flow. On the worker that was the largest single part of
faust's per-message cost (docs/operations.md, "The worker's faust settings").

A delivery that cannot block needs none of it. ``Delivery`` awaits the conductor's callback
directly when none of the callback's waits can wait: the flow is not suspended, flow control is
active, the partition's callback map is not being rebuilt, the producer's buffer is below its limit
and no stream buffer subscribed to the partition is full. Otherwise it takes faust's own path. The
drain loop is faust's, unchanged but for that one call; it reads faust's private state (the
conductor's partition index and lock), so a faust upgrade compares this loop and those reads with
the new version's (tests/unit/test_scaleout_delivery.py checks the reads).
"""

import asyncio
from typing import Any, cast

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka
from faust.types import TP
from mode import Service, ServiceT


class Delivery(aiokafka.Consumer):
    """faust's aiokafka consumer; only the drain loop's hand-over differs (module docstring)."""

    def _cannot_block(self, tp: TP) -> bool:
        """True when delivering a message of ``tp`` completes without waiting (the waits of
        ``faust.transport.conductor``'s ``on_message`` handlers)."""
        app = self.app
        conductor = cast(Any, app.topics)
        if self.suspend_flow.is_set() or not app.flow_control.is_active() or conductor._tp_to_callback_lock.locked():
            return False
        buffer = app.producer.buffer
        if buffer.size > buffer.max_messages:
            return False
        return not any(channel.queue.full() for channel in conductor._tp_index.get(tp, ()))

    async def _drain_messages(self, fetcher: ServiceT) -> None:
        callback = self.callback
        getmany = self.getmany
        consumer_should_stop = cast(Service, self)._stopped.is_set
        fetcher_should_stop = cast(Service, fetcher)._stopped.is_set
        get_read_offset = self._read_offset.__getitem__
        set_read_offset = self._read_offset.__setitem__
        set_flag = self.diag.set_flag
        unset_flag = self.diag.unset_flag
        commit_every = self._commit_every
        acks_enabled_for = self.app.topics.acks_enabled_for
        cannot_block = self._cannot_block
        yield_every, num_since_yield = 100, 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                ait = getmany(timeout=1.0)
                await self.sleep(0)  # as faust: getmany may return at once, again and again
                if not self.should_stop:
                    async for tp, message in ait:
                        num_since_yield += 1
                        if num_since_yield > yield_every:
                            await asyncio.sleep(0)
                            num_since_yield = 0
                        offset = message.offset
                        r_offset = get_read_offset(tp)
                        if r_offset is None or offset >= r_offset:
                            gap = offset - (r_offset or 0)
                            if gap > 1 and r_offset and acks_enabled_for(message.topic):
                                await self._add_gap(tp, r_offset + 1, offset)
                            if commit_every is not None and self._n_acked >= commit_every:
                                self._n_acked = 0
                                await self.commit()
                            if cannot_block(tp):
                                await callback(message)
                            else:
                                await self.wait_first(callback(message), self.suspend_flow.wait())
                            set_read_offset(tp, offset)
                    unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)


class Transport(aiokafka.Transport):
    """faust's aiokafka transport with the ``Delivery`` consumer (``kafka://`` URLs as faust's)."""

    Consumer = Delivery
