"""The worker's faust consumer hands a message over directly only when the hand-over cannot wait
(cdp.scaleout.delivery): otherwise faust's own path, which a rebalance can interrupt."""

import asyncio

from faust.types import TP

from cdp.config import Settings
from cdp.scaleout.delivery import Delivery
from cdp.scaleout.worker import faust_app


def test_a_message_is_handed_over_directly_only_while_nothing_can_make_it_wait(tmp_path):
    async def check() -> None:
        settings = Settings(data_dir=tmp_path, kafka={"topic": "t", "partitions": 2, "group": "g"})
        app, topic = faust_app(settings)
        channel = topic.clone(is_iterator=True)  # as an agent's stream subscribes
        app.topics.add(channel)
        await app.topics.on_partitions_assigned({TP("t", 0), TP("t", 1)})  # as the group's assignment does
        consumer = app.consumer
        assert isinstance(consumer, Delivery)
        tp = TP("t", 0)
        assert not consumer._cannot_block(tp)  # flow control stays suspended until partitions are assigned
        app.flow_control.resume()
        assert consumer._cannot_block(tp)
        while not channel.queue.full():
            channel.queue.force_put_nowait(object())
        assert not consumer._cannot_block(tp)  # a full stream buffer: faust's path
        assert not consumer._cannot_block(TP("t", 1))  # the same buffer takes both partitions
        channel.queue.clear()
        consumer.stop_flow()
        assert not consumer._cannot_block(tp)  # a rebalance suspended the flow
        consumer.resume_flow()
        app.flow_control.suspend()
        assert not consumer._cannot_block(tp)
        app.flow_control.resume()
        assert consumer._cannot_block(tp)

    asyncio.run(check())
