"""The harness's end of the reverse path, without a sandbox: ``KitLink`` driven directly with a
fake ``send`` and the real wire codec.

Kit objects stay in the harness and only the calls their kind allows are carried out, so what a
test reads back (a script's calls, a sleep log, comparison counts, a clock's time) is decided
here, out of the submission's reach.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.bridge import wire
from grader.bridge.errors import ProtocolViolation
from grader.bridge.kit_link import KitLink
from grader.testkit import Kit
from grader.testkit.local import ComparisonCounter, FakeClock, FakeSleep, Gate, Script


class Link:
    """A ``KitLink`` whose frames to the sandbox are collected in ``sent``."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.kit = KitLink(self.sent.append, self._decode, self._encode)

    def _decode(self, data: Any) -> Any:
        return wire.decode(data, self._resolve)

    def _resolve(self, data: dict[str, Any]) -> Any:
        """Kit references only (the bridge also resolves handles of the submission's side)."""
        if "$k" not in data:
            raise wire.WireError("unknown reference")
        return self.kit.resolve(data)

    def _encode(self, value: Any) -> Any:
        return wire.encode(value, self._ref)

    def _ref(self, obj: Any) -> Any:
        described = self.kit.describe(obj)
        if described is None:
            raise TypeError(f"not plain data: {type(obj).__name__}")
        return described

    def kit_id(self, obj: Any) -> int:
        """The id the sandbox would know ``obj`` by (describing it as the bridge would)."""
        described = self.kit.describe(obj)
        assert described is not None
        return int(described["$k"])

    def call(self, rid: int, obj_or_id: Any, method: str = "__call__", *args: Any) -> None:
        """Serve a reverse call as the sandbox would send it."""
        kit_id = obj_or_id if type(obj_or_id) is int else self.kit_id(obj_or_id)
        self.kit.serve(
            {
                "rid": rid,
                "k": kit_id,
                "m": method,
                "args": self._encode(list(args)),
                "kwargs": self._encode({}),
            }
        )


@pytest.fixture
def link() -> Link:
    return Link()


# -- objects of a finished test, and made-up ids -----------------------------------------


def test_a_call_to_an_object_of_a_finished_test_is_refused_not_fatal(link: Link) -> None:
    script = Script([("return", "late")])
    old_id = link.kit_id(script)
    link.kit.end_test()
    link.call(7, old_id)
    assert link.sent == [
        {"rid": 7, "raise": "RuntimeError", "msg": "no such kit object in this test"}
    ]
    assert script.call_count() == 0
    # The link still serves the next test's objects.
    fresh = Script([("return", "on time")])
    link.call(8, fresh)
    assert link.sent[-1] == {"rid": 8, "ok": "on time"}
    assert fresh.calls() == [[[], {}]]


def test_a_made_up_kit_id_is_refused_not_fatal(link: Link) -> None:
    script = Script([("return", 1)])
    real_id = link.kit_id(script)
    link.call(3, real_id + 1000)
    assert link.sent == [
        {"rid": 3, "raise": "RuntimeError", "msg": "no such kit object in this test"}
    ]
    assert script.call_count() == 0


def test_a_finished_test_cannot_be_resolved_as_an_argument(link: Link) -> None:
    clock_id = link.kit_id(FakeClock(1.0))
    link.kit.end_test()
    with pytest.raises(wire.WireError, match="did not hand over"):
        link.kit.resolve({"$k": clock_id})


# -- what each kind allows ---------------------------------------------------------------------


def _objects() -> dict[str, Any]:
    counter = ComparisonCounter()
    clock = FakeClock(5.0)
    return {
        "clock": clock,
        "script": Script([("return", 1)]),
        "sleep": FakeSleep(clock),
        "key": counter.keys([3])[0],
        "exc": Kit().exception("Boom"),
    }


@pytest.mark.parametrize(
    ("name", "method", "args"),
    [
        ("clock", "advance", (10.0,)),
        ("clock", "set", (0.0,)),
        ("clock", "__call__", ()),
        ("clock", "now", ()),
        ("script", "calls", ()),
        ("script", "record", ([], {})),
        ("script", "call_count", ()),
        ("sleep", "calls", ()),
        ("sleep", "total", ()),
        ("key", "__call__", ()),
        ("key", "value", ()),
        ("exc", "__call__", ("raised over there",)),
        ("exc", "mro", ()),
    ],
)
def test_a_method_the_kind_does_not_allow_is_a_protocol_violation(
    link: Link, name: str, method: str, args: tuple[Any, ...]
) -> None:
    objects = _objects()
    obj = objects[name]
    with pytest.raises(ProtocolViolation, match="may not call"):
        link.call(1, obj, method, *args)
    assert link.sent == []  # nothing answered: the test in progress fails instead
    assert objects["clock"].now() == 5.0
    assert objects["script"].call_count() == 0
    assert objects["sleep"].calls() == []
    assert objects["key"]._counter.comparisons() == 0


@pytest.mark.parametrize(
    "message",
    [
        {"k": 1, "m": "__call__", "args": [], "kwargs": {"$d": []}},  # no call id
        {"rid": "1", "k": 1, "m": "__call__", "args": [], "kwargs": {"$d": []}},
        {"rid": 1, "k": -1, "m": "__call__", "args": [], "kwargs": {"$d": []}},
        {"rid": 1, "k": 1, "m": 5, "args": [], "kwargs": {"$d": []}},
        {"rid": 1, "k": 1, "m": "__call__", "args": 5, "kwargs": {"$d": []}},
        {"rid": 1, "k": 1, "m": "__call__", "args": [], "kwargs": []},
        {"rid": 1, "k": 1, "m": "__call__", "args": [{"$nope": 1}], "kwargs": {"$d": []}},
    ],
)
def test_a_malformed_reverse_call_is_a_protocol_violation(
    link: Link, message: dict[str, Any]
) -> None:
    script = Script([("return", 1)])
    assert link.kit_id(script) == 1
    with pytest.raises(ProtocolViolation):
        link.kit.serve(message)
    assert link.sent == []
    assert script.call_count() == 0


def test_allowed_calls_are_carried_out_and_recorded_here(link: Link) -> None:
    objects = _objects()
    link.call(1, objects["script"], "__call__", "a", [2])
    link.call(2, objects["sleep"], "__call__", 1.5)
    link.call(3, objects["key"], "__lt__", 4)
    link.call(4, objects["key"], "__hash__")
    assert link.sent == [
        {"rid": 1, "ok": 1},
        {"rid": 2, "ok": None},
        {"rid": 3, "ok": True},
        {"rid": 4, "ok": hash(3)},
    ]
    assert objects["script"].calls() == [[["a", [2]], {}]]
    assert objects["sleep"].calls() == [1.5]
    assert objects["clock"].now() == 6.5
    counter = objects["key"]._counter
    assert (counter.comparisons(), counter.hashes()) == (1, 1)


def test_a_kit_exception_step_is_raised_there_as_the_kit_class(link: Link) -> None:
    boom = Kit().exception("Boom")
    script = Script([("raise", boom, "down")])
    link.call(1, script)
    (reply,) = link.sent
    assert reply["rid"] == 1 and reply["msg"] == "down"
    assert reply["raise"]["t"] == "exc" and reply["raise"]["n"] == "Boom"


# -- one-way call records of plain scripts ------------------------------------------------------


def record(link: Link, obj_or_id: Any, *args: Any) -> None:
    """Take a call record as the stand-in of a plain script sends it."""
    kit_id = obj_or_id if type(obj_or_id) is int else link.kit_id(obj_or_id)
    link.kit.serve({"rec": kit_id, "args": link._encode(list(args)), "kwargs": link._encode({})})


def test_a_plain_script_is_described_with_its_steps_and_records_its_calls_here(
    link: Link,
) -> None:
    script = Script([("return", {"id": 7}), ("raise", "KeyError", "gone")])
    described = link.kit.describe(script)
    assert described is not None and described["t"] == "script"
    assert described["steps"] == [["return", {"$d": [["id", 7]]}], ["raise", "KeyError", "gone"]]
    record(link, script, "a", 1)
    record(link, script)
    assert script.calls() == [[["a", 1], {}], [[], {}]]
    assert link.sent == []  # one-way: nothing is answered


def test_a_record_for_an_object_of_a_finished_test_is_ignored(link: Link) -> None:
    script = Script([("return", 1)])
    old_id = link.kit_id(script)
    link.kit.end_test()
    record(link, old_id, "late")
    assert script.call_count() == 0
    assert link.sent == []


@pytest.mark.parametrize("name", ["sleep", "clock", "key", "gated"])
def test_a_record_cannot_stand_for_a_call_that_must_be_served(link: Link, name: str) -> None:
    """A sleep must move the clock here and a gated call must wait at its gate: a record of
    either (or of anything but a plain script) is a protocol violation, and changes nothing."""
    objects = _objects()
    objects["gated"] = Script([("return", 1)], gate=Gate())
    with pytest.raises(ProtocolViolation, match="not a plain script"):
        record(link, objects[name], 1.0)
    assert objects["sleep"].calls() == [] and objects["clock"].now() == 5.0
    assert objects["gated"].call_count() == 0 and objects["gated"].gate.waiting() == 0


@pytest.mark.parametrize(
    "message",
    [
        {"rec": "1", "args": [], "kwargs": {"$d": []}},
        {"rec": 1, "args": 5, "kwargs": {"$d": []}},
        {"rec": 1, "args": [], "kwargs": [1]},
    ],
)
def test_a_malformed_record_is_a_protocol_violation(link: Link, message: dict[str, Any]) -> None:
    script = Script([("return", 1)])
    assert link.kit_id(script) == 1
    with pytest.raises(ProtocolViolation, match="malformed call record"):
        link.kit.serve(message)
    assert script.call_count() == 0


# -- gated scripts -----------------------------------------------------------------------------


def test_a_gated_call_is_answered_only_when_the_gate_opens(link: Link) -> None:
    gate = Gate()
    script = Script([("return", "through")], gate=gate)
    link.call(1, script, "__call__", 1)
    link.call(2, script, "__call__", 2)
    assert link.sent == []  # held: the sandbox's thread waits for its reply
    assert script.call_count() == 2  # recorded at once, here
    assert gate.waiting() == 2
    gate.open()
    assert link.sent == [{"rid": 1, "ok": "through"}, {"rid": 2, "ok": "through"}]
    assert gate.waiting() == 0 and gate.passed() == 2
    link.call(3, script)  # an open gate holds nobody
    assert link.sent[-1] == {"rid": 3, "ok": "through"}


def test_a_gated_call_still_held_at_end_of_test_fails_with_timeout_error(link: Link) -> None:
    gate = Gate()
    script = Script([("return", "never")], gate=gate)
    link.call(5, script)
    assert link.sent == []
    link.kit.end_test()
    assert link.sent == [
        {"rid": 5, "raise": "TimeoutError", "msg": "the test ended before this call could finish"}
    ]
    gate.open()  # too late: the call was answered once, and is not answered again
    assert len(link.sent) == 1


# -- clock copies ------------------------------------------------------------------------------


def test_clock_times_are_added_only_when_they_changed(link: Link) -> None:
    clock = FakeClock(10.0)
    other = FakeClock(0.0)
    described = link.kit.describe(clock)
    assert described == {"$k": 1, "t": "clock", "now": 10.0}
    link.kit.describe(other)
    assert link.kit.with_clock_times({"id": 1}) == {"id": 1}  # nothing moved yet
    clock.advance(2.5)
    assert link.kit.with_clock_times({"id": 2}) == {"id": 2, "sync": [[1, 12.5]]}
    assert link.kit.with_clock_times({"id": 3}) == {"id": 3}  # already sent
    clock.set(1.0)  # backwards counts as a change too
    other.advance(1.0)
    assert link.kit.with_clock_times({"rid": 4, "ok": None}) == {
        "rid": 4,
        "ok": None,
        "sync": [[1, 1.0], [2, 1.0]],
    }


def test_clocks_of_a_finished_test_are_no_longer_synced(link: Link) -> None:
    clock = FakeClock(0.0)
    link.kit.describe(clock)
    link.kit.end_test()
    clock.advance(1.0)
    assert link.kit.with_clock_times({"id": 1}) == {"id": 1}
