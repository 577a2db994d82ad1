"""The time-order buffer: one partition's messages from several topics, released oldest first."""

from __future__ import annotations

from processor.core.ordering import Pending, Reorderer, business_time

TOPICS = ("invoices", "payments", "notices")
JAN_3, JAN_4, JAN_5 = 1_767_398_400.0, 1_767_484_800.0, 1_767_571_200.0  # 2026, as occurred_at


def make(
    caught_up: set[str],
    clock: list[float],
    *,
    grace: float = 0.0,
    unknown: frozenset[str] = frozenset(),
) -> Reorderer:
    """A buffer whose topics are caught up, unknown, or else behind (a backlog)."""

    def state(topic: str, partition: int) -> bool | None:
        return None if topic in unknown else topic in caught_up

    return Reorderer(
        TOPICS,
        caught_up=state,
        max_wait=1.0,
        grace=grace,
        max_stall=30.0,
        monotonic=lambda: clock[0],
    )


def add(
    buffer: Reorderer,
    topic: str,
    offset: int,
    timestamp: float,
    business_time: float = 0.0,
    *,
    key: bytes | None = b"cust-1",
) -> None:
    buffer.add(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=timestamp,
        key=key,
        business_time=business_time,
        payload=topic,
    )


def of(released: list[Pending], key: bytes) -> list[tuple[str, int]]:
    return [(m.topic, m.offset) for m in released if m.key == key]


def held(buffer: Reorderer) -> int:
    """How many (topic, key) floors the buffer keeps."""
    return sum(len(keys) for keys in buffer._held.values())


def test_a_message_waits_for_a_topic_that_may_still_deliver_something_older() -> None:
    caught_up = {"payments"}
    clock = [0.0]
    buffer = make(caught_up, clock)
    add(buffer, "notices", 0, timestamp=20.0)  # the notice arrives first ...
    assert buffer.release(0) == []  # ... but invoices are behind: wait
    add(buffer, "invoices", 0, timestamp=10.0)  # ... for the older invoice
    assert [m.topic for m in buffer.release(0)] == ["invoices"]
    caught_up.add("invoices")  # nothing more on invoices: the notice's turn
    assert [m.topic for m in buffer.release(0)] == ["notices"]


def test_everything_goes_at_once_when_the_other_topics_are_caught_up() -> None:
    buffer = make(set(TOPICS), [0.0])
    add(buffer, "payments", 0, timestamp=5.0)
    assert [m.offset for m in buffer.release(0)] == [0]
    assert buffer.pending() == 0


def test_a_silent_topic_with_a_backlog_is_waited_for_beyond_max_wait() -> None:
    clock = [0.0]
    buffer = make({"notices"}, clock)  # invoices are behind: older messages are on their way
    add(buffer, "payments", 0, timestamp=5.0)
    clock[0] = 10.0
    assert buffer.release(0) == []
    add(buffer, "invoices", 0, timestamp=3.0)
    assert [m.topic for m in buffer.release(0)] == ["invoices"]


def test_a_silent_topic_never_heard_of_stalls_a_message_at_most_max_wait() -> None:
    clock = [0.0]
    buffer = make(set(TOPICS), clock, unknown=frozenset({"invoices"}))
    add(buffer, "payments", 0, timestamp=5.0)
    clock[0] = 0.5
    assert buffer.release(0) == []
    clock[0] = 1.0
    assert [m.topic for m in buffer.release(0)] == ["payments"]


def test_a_backlog_that_never_delivers_stalls_a_message_at_most_max_stall() -> None:
    clock = [0.0]
    buffer = make(set(), clock)
    add(buffer, "payments", 0, timestamp=5.0)
    clock[0] = 29.9
    assert buffer.release(0) == []
    clock[0] = 30.0
    assert [m.topic for m in buffer.release(0)] == ["payments"]


def test_caught_up_is_trusted_only_after_a_fetch_made_since_the_message_arrived() -> None:
    clock = [0.0]
    buffer = make(set(TOPICS), clock, grace=0.12)
    add(buffer, "payments", 0, timestamp=5.0)
    assert buffer.release(0) == []
    clock[0] = 0.12
    assert len(buffer.release(0)) == 1


def test_one_topic_partition_is_never_reordered_even_if_timestamps_go_back() -> None:
    buffer = make(set(TOPICS), [0.0])
    add(buffer, "invoices", 0, timestamp=30.0)
    add(buffer, "invoices", 1, timestamp=10.0)  # a producer whose clock went back
    add(buffer, "payments", 0, timestamp=20.0)
    add(buffer, "notices", 0, timestamp=40.0)
    assert [(m.topic, m.offset) for m in buffer.release(0)] == [
        ("payments", 0),
        ("invoices", 0),
        ("invoices", 1),
        ("notices", 0),
    ]


def test_messages_stamped_in_the_same_millisecond_go_in_business_time_order() -> None:
    buffer = make(set(TOPICS), [0.0])
    # the platform sent the due notice, then the payment, within one millisecond; the payment's
    # topic happened to be fetched first
    add(buffer, "payments", 0, timestamp=5.0, business_time=1_000.030)
    add(buffer, "notices", 0, timestamp=5.0, business_time=1_000.000)
    assert [m.topic for m in buffer.release(0)] == ["notices", "payments"]


def test_business_time_never_reorders_one_topic_partition() -> None:
    buffer = make(set(TOPICS), [0.0])
    add(buffer, "payments", 0, timestamp=5.0, business_time=900.0)
    add(buffer, "payments", 1, timestamp=5.0, business_time=100.0)  # older business time, later
    add(buffer, "notices", 0, timestamp=5.0, business_time=500.0)
    assert [(m.topic, m.offset) for m in buffer.release(0)] == [
        ("notices", 0),
        ("payments", 0),
        ("payments", 1),
    ]


def test_another_customers_later_event_does_not_hold_back_a_customers_earlier_one() -> None:
    buffer = make(set(TOPICS), [0.0])
    # a backfill: all three in one millisecond; on payments, A's payment of 5 January comes first
    add(buffer, "payments", 0, timestamp=5.0, business_time=JAN_5, key=b"A")
    add(buffer, "payments", 1, timestamp=5.0, business_time=JAN_3, key=b"B")
    add(buffer, "notices", 0, timestamp=5.0, business_time=JAN_4, key=b"B")
    released = buffer.release(0)
    assert of(released, b"B") == [("payments", 1), ("notices", 0)]  # B's own business order
    assert [m.business_time for m in released] == [JAN_3, JAN_4, JAN_5]  # nothing lifted


def test_a_tie_with_another_customers_message_is_no_proof_that_nothing_older_will_come() -> None:
    caught_up = {"invoices", "notices"}  # payments are behind: B's payment is on its way
    buffer = make(caught_up, [0.0])
    add(buffer, "payments", 0, timestamp=5.0, business_time=JAN_5, key=b"A")
    add(buffer, "notices", 0, timestamp=5.0, business_time=JAN_4, key=b"B")
    released = buffer.release(0)
    assert released == []  # A's payment says nothing of B's next one in this millisecond
    add(buffer, "payments", 1, timestamp=5.0, business_time=JAN_3, key=b"B")
    released += buffer.release(0)
    assert [(m.topic, m.offset) for m in released] == [("payments", 1)]
    caught_up.add("payments")
    released += buffer.release(0)
    assert of(released, b"B") == [("payments", 1), ("notices", 0)]
    assert of(released, b"A") == [("payments", 0)]


def test_a_later_timestamp_or_the_same_customer_on_the_other_topic_is_proof_enough() -> None:
    buffer = make(set(), [0.0])  # every topic behind
    add(buffer, "payments", 0, timestamp=6.0, business_time=JAN_3, key=b"A")
    add(buffer, "invoices", 0, timestamp=5.0, business_time=JAN_5, key=b"B")
    add(buffer, "notices", 0, timestamp=5.0, business_time=JAN_3, key=b"B")
    # B's notice: B's own invoice is buffered, and payments have reached a later millisecond
    assert of(buffer.release(0), b"B") == [("notices", 0)]
    assert buffer.pending() == 2  # B's invoice: notices (behind) may still deliver B's others


def test_one_customers_messages_on_one_topic_keep_offset_order_whatever_their_times() -> None:
    buffer = make(set(TOPICS), [0.0])
    add(buffer, "payments", 0, timestamp=5.0, business_time=JAN_5, key=b"B")
    add(buffer, "payments", 1, timestamp=5.0, business_time=JAN_3, key=b"A")
    add(buffer, "payments", 2, timestamp=4.0, business_time=JAN_3, key=b"B")  # clock went back
    add(buffer, "payments", 3, timestamp=5.0, business_time=JAN_4, key=b"B")  # occurred_at too
    add(buffer, "notices", 0, timestamp=5.0, business_time=JAN_4, key=b"A")
    released = buffer.release(0)
    assert of(released, b"B") == [("payments", 0), ("payments", 2), ("payments", 3)]
    assert of(released, b"A") == [("payments", 1), ("notices", 0)]  # not lifted by B's


def test_unkeyed_messages_stay_behind_everything_before_them_on_their_topic_partition() -> None:
    buffer = make(set(TOPICS), [0.0])
    add(buffer, "payments", 0, timestamp=5.0, business_time=JAN_5, key=b"A")
    add(buffer, "payments", 1, timestamp=5.0, business_time=JAN_3, key=None)
    add(buffer, "notices", 0, timestamp=5.0, business_time=JAN_4, key=None)
    assert [(m.topic, m.offset) for m in buffer.release(0)] == [
        ("notices", 0),
        ("payments", 0),
        ("payments", 1),
    ]


def test_a_customers_floor_is_kept_only_while_it_has_messages_buffered() -> None:
    caught_up = {"invoices", "payments"}
    buffer = make(caught_up, [0.0])
    for offset, key in enumerate((b"A", b"B", b"A")):
        add(buffer, "payments", offset, timestamp=5.0, business_time=JAN_5, key=key)
    assert buffer.release(0) == []  # notices are behind
    assert held(buffer) == 2  # A and B on payments, whatever their number of messages
    caught_up.add("notices")
    assert len(buffer.release(0)) == 3
    assert held(buffer) == 0
    # B's floor is gone: its next payment, of an earlier day, is not lifted to 5 January
    add(buffer, "payments", 3, timestamp=5.0, business_time=JAN_3, key=b"B")
    assert [m.business_time for m in buffer.release(0)] == [JAN_3]


def test_the_business_time_is_the_payload_occurred_at_or_zero() -> None:
    assert business_time(b'{"occurred_at": "1970-01-01T00:01:40+00:00"}', 1024) == 100.0
    unreadable = [None, b"", b"[]", b'"x"', b"{}", b'{"occurred_at": 5}', b"\xff", b"[" * 10_000]
    assert [business_time(p, 1024 * 1024) for p in unreadable] == [0.0] * len(unreadable)
    assert business_time(b'{"occurred_at": "2026-06-21T08:00:00"}', 1024) == 0.0  # naive
    assert business_time(b'{"occurred_at": "2026-06-21T08:00:00+00:00"}', 10) == 0.0  # too big


def test_a_revoked_partition_forgets_its_buffer() -> None:
    buffer = make(set(), [0.0])
    add(buffer, "payments", 0, timestamp=5.0)
    buffer.drop(0)
    assert buffer.pending() == 0 and buffer.waiting() == [] and held(buffer) == 0
