"""Frames and values on the bridge channel (``grader.bridge.wire``)."""

from __future__ import annotations

from typing import Any

import pytest

from grader.bridge import wire

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
