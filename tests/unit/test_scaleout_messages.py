"""The relay's messages (cdp.scaleout.messages): a partition's items packed in order into as few
chunks as the size limit and ``CHUNK_ITEMS`` allow, none larger than ``MAX_BYTES``, and unpacked
into the items a worker applies, each as it was when every item was a message of its own."""

import orjson

from cdp.scaleout import messages

CUSTOMER = "0b7c2c59-0a44-5d1c-9a4e-2f1f3f7e9b10"  # customer ids are uuids


def stored(n: int, size: int) -> bytes:
    """A stored envelope of ``size`` bytes."""
    head = orjson.dumps({"message_id": f"m{n}", "properties": {"text": ""}})
    return head[:-3] + b"x" * (size - len(head)) + head[-3:]


def unpacked(chunks: list[bytes]) -> list[messages.Message]:
    return [m for chunk in chunks for m in messages.unpack(chunk)]


def test_events_near_the_collectors_limit_fill_chunks_up_to_the_message_limit_in_order():
    items = [messages.event(n, 0, CUSTOMER, stored(n, 1024 * 1024 - 4096)) for n in range(1, 41)]  # 40 events of almost 1 MiB
    chunks = messages.chunks(3, 9, items)
    assert len(chunks) == 3 and all(len(chunk) <= messages.MAX_BYTES for chunk in chunks)
    assert len(chunks[0]) > messages.MAX_BYTES - 1024 * 1024  # full: the next event did not fit
    assert [m.position for m in unpacked(chunks)] == list(range(1, 41))
    heads = [orjson.loads(chunk) for chunk in chunks]
    assert [(h["first"], h["last"]) for h in heads] == [([1, 0], [16, 0]), ([17, 0], [32, 0]), ([33, 0], [40, 0])]


def test_an_event_as_large_as_the_relay_lets_through_fits_a_chunk_alone():
    largest = messages.event(2, 0, CUSTOMER, stored(2, messages.MAX_EVENT_BYTES))
    chunks = messages.chunks(10**15, 10**15, [messages.event(1, 0, CUSTOMER, stored(1, 2000)), largest, messages.event(3, 0, CUSTOMER, stored(3, 2000))])
    assert [len(orjson.loads(chunk)["items"]) for chunk in chunks] == [1, 1, 1]
    assert max(map(len, chunks)) <= messages.MAX_BYTES


def test_a_chunk_holds_at_most_chunk_items():
    items = [messages.event(n, 0, CUSTOMER, stored(n, 200)) for n in range(1, 2 * messages.CHUNK_ITEMS + 501)]
    chunks = messages.chunks(0, 0, items)
    assert [len(orjson.loads(chunk)["items"]) for chunk in chunks] == [messages.CHUNK_ITEMS, messages.CHUNK_ITEMS, 500]
    assert [m.position for m in unpacked(chunks)] == list(range(1, 2 * messages.CHUNK_ITEMS + 501))
    assert messages.chunks(0, 0, []) == []


def test_items_unpack_as_the_messages_they_were():
    envelope = stored(7, 300)
    [chunk] = messages.chunks(5, 1767268800000, [messages.merge_out(7, 0, "absorbed-id", CUSTOMER), messages.merge_out(7, 1, "other-id", CUSTOMER), messages.event(7, 2, CUSTOMER, envelope)])
    merge, _, event = messages.unpack(chunk)
    assert (merge.kind, merge.order, merge.body) == ("merge_out", (7, 0), {"kind": "merge_out", "since": 5, "position": 7, "sub": 0, "absorbed": "absorbed-id", "survivor": CUSTOMER})
    assert (event.kind, event.order) == ("event", (7, 2))
    assert event.body == {"kind": "event", "since": 5, "position": 7, "sub": 2, "watermark": 1767268800000, "customer": CUSTOMER, "event": orjson.loads(envelope)}
    [tick] = messages.unpack(messages.tick(5, 9, 1767268800000))
    assert (tick.kind, tick.order, tick.body["since"], tick.body["watermark"]) == ("tick", (9, messages.TICK_SUB), 5, 1767268800000)
    [absorb] = messages.unpack(messages.absorb(7, CUSTOMER, "absorbed-id", {"customer_id": "absorbed-id"}, {"x"}))
    assert (absorb.kind, absorb.order, absorb.body["absorbed_ids"]) == ("absorb", (7, 0), ["x"])


def test_an_event_message_of_a_relay_from_before_chunks_unpacks_as_an_item():
    old = b'{"kind":"event","since":5,"position":7,"sub":0,"watermark":3,"customer":"c","event":{"message_id":"m"}}'
    [event] = messages.unpack(old)
    assert (event.kind, event.order, event.body["since"], event.body["watermark"], event.body["customer"]) == ("event", (7, 0), 5, 3, "c")
