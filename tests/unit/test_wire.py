"""Frames and values on the bridge channel (``grader.bridge.wire``)."""

from __future__ import annotations

from typing import Any

import pytest

from grader.bridge import wire
from grader.bridge.errors import ProtocolViolation
from grader.bridge.proxy import FollowingProxy

from .bridged import bridged

SCALARS = (type(None), bool, int, float, str)


def plain_rows_one_by_one(items: list[Any] | tuple[Any, ...]) -> bool:
    """What ``only_plain_rows`` must answer, checked item by item."""
    return all(
        type(item) in SCALARS
        or (type(item) is list and all(type(inner) in SCALARS for inner in item))
        for item in items
    )


class Row(list):  # type: ignore[type-arg]
    """A list subclass: not exactly a list, so not plain."""


class Number(int):
    """An int subclass: not exactly an int, so not plain."""


@pytest.mark.parametrize(
    "items",
    [
        [],
        [1, "a", None, True, 2.5],
        [[1], [2, "b"], []],
        [[1], 2, [None, False]],
        [[1], [[2]]],
        [[1], (2,)],
        [(1,), (2,)],
        [[1], {"$h": 1}],
        [[1], [{"$h": 1}]],
        [Row([1])],
        [[Number(1)]],
        [Number(1)],
        [[1], [2], b"bytes"],
        ([1], [2]),
    ],
)
def test_only_plain_rows_answers_as_checking_each_item_would(items: Any) -> None:
    assert wire.only_plain_rows(items) is plain_rows_one_by_one(items)


def test_a_frame_round_trips_its_message() -> None:
    message = {"id": 3, "ok": [[1, 2.5, "x", None, True], {"$t": [1]}], "nan": float("inf")}
    framed = wire.frame(message)
    assert wire.frame_length(framed[: wire.HEADER_SIZE]) == len(framed) - wire.HEADER_SIZE
    assert wire.parse(framed[wire.HEADER_SIZE :]) == message


def test_a_cyclic_message_is_refused_not_looped_on() -> None:
    """Frames skip JSON's circular-reference check (``encode`` never makes a cycle); a cycle
    made anyway ends in ``RecursionError``, which the subject server answers as a result that
    cannot be sent."""
    row: list[Any] = [1]
    row.append(row)
    with pytest.raises(RecursionError):
        wire.frame({"id": 1, "ok": row})


def _request(value: Any) -> dict[str, Any]:
    """A request as the harness sends it, carrying ``value`` encoded."""
    return {"id": 7, "op": "call", "args": wire.encode(value, repr), "sync": [[1, 2.5]]}


@pytest.mark.parametrize(
    "value",
    [
        [[i, i] for i in range(2000)],  # a batch's rows
        [(i, "same") for i in range(50)],  # rows as tuples
        (1, (2, 3), [4, (5,)]),
        {"k": [1, 2], 3: (b"\x00\xff", None)},
        [float("inf"), float("-inf"), 2**200, -(2**70), True, False, 0.1],
        ["\ud800 lone surrogate", "é", ""],
        [],
    ],
)
def test_the_subject_side_reads_the_same_message_in_either_format(value: Any) -> None:
    """The harness writes marshal, which the subject's side reads exactly as it read JSON:
    same values, and lists where JSON made lists of tuples."""
    message = _request(value)
    by_marshal = wire.parse_from_harness(wire.frame_for_subject(message)[wire.HEADER_SIZE :])
    by_json = wire.parse(wire.frame(message)[wire.HEADER_SIZE :])
    assert by_marshal == by_json
    assert repr(by_marshal) == repr(by_json)  # no tuple where JSON gives a list
    decoded = wire.decode(by_marshal["args"], dict)
    assert decoded == value and repr(decoded) == repr(value)


def test_a_request_frame_has_the_size_limit_of_any_frame() -> None:
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.frame_for_subject({"id": 1, "ok": "x" * wire.MAX_FRAME})
    with pytest.raises(wire.WireError, match="malformed"):
        wire.parse_from_harness(b"\x00not marshal")


FORGER = b"""
import gc, marshal, os, struct

def answer():
    # A well-formed answer in the harness's own request format, written ahead of the real one.
    channel = next(o for o in gc.get_objects() if type(o).__name__ == "Channel")
    body = marshal.dumps({"id": 1, "ok": 42})
    os.write(channel.fd_out, struct.pack(">I", len(body)) + body)
    return 0
"""


def test_the_harness_never_reads_marshal_from_the_subject() -> None:
    """marshal is not safe against hostile input: a submission that answers in it is refused
    as malformed by the harness, which reads JSON only (fails if the harness's reader took
    marshal: the forged frame would be parsed, and refused only as out of turn)."""
    with bridged("forger", FORGER, 60) as bridge:
        module: Any = FollowingProxy(bridge)
        with pytest.raises(ProtocolViolation, match="malformed message"):
            module.answer()
