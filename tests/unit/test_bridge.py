"""The plain-data bridge: strict decoding, proxies that cannot be fooled, and failures that are
data. Runs a real subject server under the process sandbox (no Docker needed)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from grader.bridge import protocol, wire
from grader.bridge.errors import BridgeFailure, ProtocolViolation, SubjectDied, SubjectTimeout
from grader.bridge.proxy import Bridge, BridgeSide, FollowingProxy, HandleProxy
from grader.testkit import Kit

from .bridged import bridged

SUBMISSION = b'''
import enum, os, time

class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"

class MyError(RuntimeError):
    pass

class Liar:
    def __eq__(self, other):
        return True
    def __bool__(self):
        return True
    __hash__ = object.__hash__

class LyingInt(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__

def plain():
    return [1, 2.5, "s", b"b", None, True, (1, (2,)), {"k": [1]}, {(1, 2): "t"}, float("inf")]

def liar():
    return Liar()

def lying_int():
    return LyingInt(7)

def colour(name):
    return Colour[name]

def fail(kind):
    if kind == "value":
        raise ValueError("bad value")
    if kind == "mine":
        raise MyError("mine")
    if kind == "exit":
        raise SystemExit(3)
    raise KeyboardInterrupt

def huge():
    return "x" * (8 * 1024 * 1024)

def deep():
    value = []
    for _ in range(200):
        value = [value]
    return value

def many(n):
    return iter(range(n))

def hang():
    while True:
        time.sleep(1)

def die():
    os._exit(9)

def call_with(fn, *args, **kwargs):
    return fn(*args, **kwargs)

kept = []

def keep(fn):
    kept.append(fn)

def call_kept(*args):
    return kept[-1](*args)

def call_index(i, *args):
    return kept[i](*args)

def show(value):
    return repr(value) + repr(getattr(value, "__dict__", None))

def read_twice(clock):
    return [clock(), clock()]

def sleep_then_read(sleep, clock, seconds):
    sleep(seconds)
    return clock()

def lookup(keys, probe):
    return [k for k in keys if k == probe]

def catch(fn, exc_class):
    try:
        fn()
    except exc_class as exc:
        return "caught " + type(exc).__name__
    return "not raised"

def raise_it(exc_class):
    raise exc_class("from the submission")

def forge():
    for fd in range(3, 64):
        try:
            os.write(fd, b"\\x00\\x00\\x00\\x02{}")
        except OSError:
            pass
    return 1
'''


@pytest.fixture
def bridge() -> Iterator[Bridge]:
    """A subject serving ``SUBMISSION`` as module ``sub``, behind a bridge."""
    with bridged("sub", SUBMISSION, 5.0) as served:
        yield served


def module(bridge: Bridge) -> FollowingProxy:
    return FollowingProxy(bridge)


# -- the codec -----------------------------------------------------------------------------


def roundtrip(value: object) -> object:
    return wire.decode(wire.parse(wire.frame({"v": wire.encode(value, repr)})[4:])["v"], dict)


def test_plain_values_round_trip_with_their_exact_types() -> None:
    value = [1, 2.5, "s", b"b", None, True, (1, (2,)), {"k": [1]}, {(1, 2): "t"}]
    assert roundtrip(value) == value
    assert type(roundtrip((1,))) is tuple and type(roundtrip([1])) is list
    assert math.isinf(roundtrip(float("inf")))  # type: ignore[arg-type]


def test_a_batch_of_plain_rows_is_its_own_encoding_and_anything_else_is_not() -> None:
    rows = [[1, "a"], [2, None], 3.5]
    assert wire.encode(rows, repr) is rows and wire.decode(rows, dict) is rows
    for mixed in ([[1, (2,)]], [(1, 2)], [[1], {"k": 1}], [[1, b"x"]]):
        assert roundtrip(mixed) == mixed  # tuples, dicts, bytes keep their types
    with pytest.raises(wire.WireError):
        wire.decode([[1], {"$t": "x"}], dict)  # a tagged value is still checked in a batch


def test_subclasses_are_not_plain() -> None:
    class Sneaky(int):
        pass

    refs: list[object] = []
    wire.encode([Sneaky(1), 2], lambda obj: refs.append(obj) or {"$h": 1})
    assert len(refs) == 1 and isinstance(refs[0], Sneaky)


@pytest.mark.parametrize(
    "data",
    [{"$nope": 1}, {}, {"$t": "not a list"}, {"$d": [[1]]}, {"$d": [[[1], 2]]}, {"$b": "%%%"}],
)
def test_decoding_rejects_anything_unexpected(data: object) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(data, lambda ref: (_ for _ in ()).throw(wire.WireError("no refs")))


def test_decoding_rejects_deep_nesting() -> None:
    data: object = 1
    for _ in range(wire.MAX_DEPTH + 2):
        data = [data]
    with pytest.raises(wire.WireError, match="nests too deeply"):
        wire.decode(data, dict)


def test_frames_are_capped() -> None:
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.frame_length((wire.MAX_FRAME + 1).to_bytes(4, "big"))
    with pytest.raises(wire.WireError):
        wire.parse(b"[1, 2]")


# -- proxies against a real subject -------------------------------------------------------------


def test_plain_results_arrive_as_builtin_values(bridge: Bridge) -> None:
    result = module(bridge).plain()
    assert result[:9] == [1, 2.5, "s", b"b", None, True, (1, (2,)), {"k": [1]}, {(1, 2): "t"}]
    assert math.isinf(result[9])


def test_a_liar_cannot_pass_an_equality_or_truth_check(bridge: Bridge) -> None:
    liar = module(bridge).liar()
    assert isinstance(liar, HandleProxy)
    assert (liar == 5) is False and (liar != 5) is True
    with pytest.raises(TypeError):
        bool(liar)


def test_an_int_subclass_is_not_an_int(bridge: Bridge) -> None:
    value = module(bridge).lying_int()
    assert not isinstance(value, int)
    assert value != 7


def test_enum_members_compare_by_class_and_name(bridge: Bridge) -> None:
    sub = module(bridge)
    assert sub.colour("RED") == sub.Colour.RED
    assert sub.colour("RED") != sub.Colour.BLUE
    assert (sub.colour("BLUE").name, sub.colour("BLUE").value) == ("BLUE", "blue")


def test_exceptions_come_back_as_builtins_or_stand_ins(bridge: Bridge) -> None:
    sub = module(bridge)
    with pytest.raises(ValueError, match="bad value"):
        sub.fail("value")
    with pytest.raises(sub.MyError, match="mine"):
        sub.fail("mine")
    with pytest.raises(RuntimeError):  # the stand-in keeps the builtin base
        sub.fail("mine")


@pytest.mark.parametrize("kind", ["exit", "interrupt"])
def test_control_flow_exceptions_never_escape_as_themselves(bridge: Bridge, kind: str) -> None:
    with pytest.raises(Exception) as caught:  # any Exception, but not SystemExit itself
        module(bridge).fail(kind)
    assert not isinstance(caught.value, SystemExit | KeyboardInterrupt)


def test_bridge_failures_cannot_be_swallowed_by_except_exception() -> None:
    for cls in (SubjectTimeout, SubjectDied, ProtocolViolation):
        assert issubclass(cls, BridgeFailure) and not issubclass(cls, Exception)


def test_oversized_and_too_deep_results_fail_the_call_not_the_subject(bridge: Bridge) -> None:
    sub = module(bridge)
    with pytest.raises(ProtocolViolation, match="cannot cross the bridge"):
        sub.huge()
    with pytest.raises(ProtocolViolation):
        sub.deep()
    assert sub.plain()[0] == 1


def test_a_measured_batch_keeps_its_results_over_there(bridge: Bridge) -> None:
    """``kit.cost`` times the calls, not the shipping of their results (which direct mode
    does not count either): a batch whose results could not cross the bridge is measured."""
    kit = kit_for(bridge)
    assert kit.cost(module(bridge).huge, [()]) > 0.0


def test_iteration_is_batched_and_complete(bridge: Bridge) -> None:
    requests_before = bridge.subject.requests
    assert list(module(bridge).many(2000)) == list(range(2000))
    assert bridge.subject.requests - requests_before < 10


def test_a_hang_times_out_and_a_fresh_subject_serves_the_next_test(bridge: Bridge) -> None:
    sub = module(bridge)
    old = sub.liar()
    bridge.subject.begin_test(0.5)
    with pytest.raises(SubjectTimeout, match=r"timed out after 0\.5 s"):
        sub.hang()
    bridge.subject.begin_test(5.0)
    assert sub.plain()[0] == 1
    assert bridge.subject.generation == 2
    with pytest.raises(SubjectDied, match="stopped"):
        old.anything  # noqa: B018 - a handle of the dead subject


def test_a_dying_subject_fails_the_call_with_the_reason(bridge: Bridge) -> None:
    with pytest.raises(SubjectDied, match=r"it ended \(exit code 9\)"):
        module(bridge).die()
    assert module(bridge).plain()[0] == 1


def test_forged_frames_on_the_channel_are_a_protocol_violation(bridge: Bridge) -> None:
    # One of the fds is the server's private copy of stdout: the channel itself.
    with pytest.raises(ProtocolViolation):
        module(bridge).forge()
    assert module(bridge).plain()[0] == 1


def test_only_plain_data_and_kit_objects_may_be_passed(bridge: Bridge) -> None:
    with pytest.raises(TypeError, match="only plain data and kit objects"):
        module(bridge).colour(object())


# -- the reverse path: kit objects live here, the submission holds stand-ins ------------------


def kit_for(bridge: Bridge) -> Kit:
    bridge.kit.end_test()
    return Kit(BridgeSide([bridge]))


def test_a_script_is_called_over_the_reverse_path_and_records_here(bridge: Bridge) -> None:
    kit = kit_for(bridge)
    script = kit.script([("return", 1), ("raise", "ValueError", "second")], name="fetch")
    sub = module(bridge)
    assert sub.call_with(script, 1, "two", k=[3]) == 1
    with pytest.raises(ValueError, match="second"):
        sub.call_with(script)
    assert script.calls() == [[[1, "two"], {"k": [3]}], [[], {}]]


def test_a_clock_copy_follows_the_harness_and_sleeps_advance_it(bridge: Bridge) -> None:
    kit = kit_for(bridge)
    clock = kit.clock(10.0)
    sub = module(bridge)
    assert sub.read_twice(clock) == [10.0, 10.0]
    clock.advance(5)
    assert sub.read_twice(clock) == [15.0, 15.0]
    sleep = kit.sleeper(clock)
    assert sub.sleep_then_read(sleep, clock, 2.5) == 17.5
    assert sleep.calls() == [2.5] and clock.now() == 17.5


def test_counting_keys_are_counted_here_and_carry_no_value_there(bridge: Bridge) -> None:
    kit = kit_for(bridge)
    counter = kit.counter()
    keys = counter.keys([1001, 1002, 1003])
    found = module(bridge).lookup(keys, 1002)
    assert [k.value for k in found] == [1002]
    assert counter.comparisons() == 3
    assert "1002" not in module(bridge).show(keys[1])


def test_kit_exception_classes_cross_both_ways(bridge: Bridge) -> None:
    kit = kit_for(bridge)
    boom = kit.exception("Boom", "RuntimeError")
    sub = module(bridge)
    assert sub.catch(kit.raises(boom, "x"), boom) == "caught Boom"
    with pytest.raises(boom, match="from the submission"):
        sub.raise_it(boom)


def test_a_gated_call_waits_until_the_gate_opens(bridge: Bridge) -> None:
    kit = kit_for(bridge)
    gate = kit.gate()
    script = kit.script([("return", "done")], gate=gate)
    sub = module(bridge)
    group = kit.threads([(sub.call_with, (script,))] * 2)
    assert gate.wait_for_waiters(2, timeout=5)
    assert group.join(timeout=0.05) == [["timeout"], ["timeout"]]
    gate.open()
    assert group.join(timeout=5) == [["return", "done"], ["return", "done"]]
    assert gate.passed() == 2 and script.call_count() == 2


def test_kit_objects_of_a_finished_test_are_refused(bridge: Bridge) -> None:
    kit = kit_for(bridge)
    script = kit.returns(1)
    sub = module(bridge)
    assert sub.call_with(kit.returns(script)) is script  # a kit object comes back as itself
    sleep = kit.sleeper(kit.clock())
    sub.keep(script)
    assert sub.call_kept() == 1
    sub.keep(sleep)
    sub.call_kept(1.0)
    bridge.kit.end_test()
    # A reverse call of a finished test's object is refused there; a stale call record is
    # dropped: neither reaches the objects.
    with pytest.raises(RuntimeError, match="no such kit object"):
        sub.call_kept(2.0)
    assert sub.call_index(0) == 1  # the script's stand-in, kept from before
    assert script.call_count() == 1 and sleep.calls() == [1.0]


def test_requests_name_their_fields_exactly() -> None:
    with pytest.raises(TypeError, match="takes"):
        protocol.request_fields("len", {"obj": 1, "extra": 2})
    for operation in protocol.OPERATIONS.values():
        assert {kind for _name, kind in operation.fields} <= set(protocol.FIELD_KINDS)
