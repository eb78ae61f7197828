"""Frames and values on the bridge channel. Stdlib-only: it also runs inside the sandbox.

A frame is a 4-byte big-endian length and that many bytes of body. The subject's side writes
UTF-8 JSON (:func:`frame`, read by the harness with :func:`parse`): everything the harness reads
may have been written by the submission, and JSON's parser builds only plain values whatever it
is given. The harness writes ``marshal`` (:func:`frame_for_subject`, read with
:func:`parse_from_harness`), two to three times faster than JSON on both ends for a batch's
thousands of rows. ``marshal`` is not safe against hostile input, so it is read only on the
subject's side, and only there the harness's frames. Values are JSON with
tags for what JSON lacks: ``{"$b": base64}`` bytes, ``{"$t": [...]}`` tuples, ``{"$d": [[k, v],
...]}`` dicts, and references to objects that stay on the submission's side: ``{"$h": id}``
handles, ``{"$e": ...}`` enum members, ``{"$x": ...}`` exception classes. Decoding accepts
exactly these shapes and builds only builtin types, so nothing the submission sends can
masquerade as a plain value.
"""

from __future__ import annotations

import base64
import itertools
import json
import marshal
import struct
from collections.abc import Callable

TYPE_CHECKING = False  # typing's own flag would import typing: 3 ms of every sandbox's start
if TYPE_CHECKING:
    from typing import Any

#: The largest frame either side accepts.
MAX_FRAME = 4 * 1024 * 1024
#: How deeply values may nest.
MAX_DEPTH = 64

_HEADER = struct.Struct(">I")
_PLAIN_SCALARS = (type(None), bool, int, float, str)
_SCALAR_TYPES = frozenset(_PLAIN_SCALARS)
_ROW_TYPES = _SCALAR_TYPES | {list}
#: Without the circular-reference check (a third of the time of a large frame): every message
#: is built from ``encode``'s output, which nests at most ``MAX_DEPTH`` deep, so it has no
#: cycle; one made anyway (a thread of the submission's that changes a result while it is
#: framed) ends in ``RecursionError``, as a too deeply nested one does.
_JSON = json.JSONEncoder(separators=(",", ":"), allow_nan=True, check_circular=False)


class WireError(Exception):
    """A frame or value that breaks the protocol."""


def frame(message: dict[str, Any]) -> bytes:
    """Serialise one message as a frame; ``WireError`` if it is too large."""
    return _framed(_JSON.encode(message).encode("utf-8"))


def frame_for_subject(message: dict[str, Any]) -> bytes:
    """Serialise one message from the harness to the subject's side (``marshal``: see the
    module's docstring); ``WireError`` if it is too large."""
    return _framed(marshal.dumps(message))


def _framed(body: bytes) -> bytes:
    """``body`` behind its length header; ``WireError`` if it is over the frame limit."""
    if len(body) > MAX_FRAME:
        raise WireError(f"message of {len(body)} bytes exceeds the {MAX_FRAME} byte limit")
    return _HEADER.pack(len(body)) + body


def parse_from_harness(body: bytes) -> dict[str, Any]:
    """Parse a frame body the harness wrote (on the subject's side only: never call it on
    bytes the submission could have written)."""
    try:
        message = marshal.loads(body)
    except (EOFError, ValueError, TypeError) as exc:
        raise WireError(f"malformed message: {exc}") from None
    if type(message) is not dict:
        raise WireError("a message must be a dict")
    return message


def frame_length(header: bytes) -> int:
    """The body length a frame header announces; ``WireError`` if over the limit."""
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise WireError(f"frame of {length} bytes exceeds the {MAX_FRAME} byte limit")
    return int(length)


HEADER_SIZE = _HEADER.size


def parse(body: bytes) -> dict[str, Any]:
    """Parse a frame body into a message dict."""
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError(f"malformed message: {exc}") from None
    if type(message) is not dict:
        raise WireError("a message must be a JSON object")
    return message


def encode(value: Any, ref: Callable[[Any], Any], depth: int = 0) -> Any:
    """Encode ``value``; objects that are not exactly plain data go through ``ref``."""
    if depth > MAX_DEPTH:
        raise WireError("value nests too deeply")
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return value
    if kind is list:
        return _encode_items(value, ref, depth + 1)
    if kind is tuple:
        return {"$t": _encode_items(value, ref, depth + 1)}
    if kind is bytes:
        return {"$b": base64.b64encode(value).decode("ascii")}
    if kind is dict:
        return {
            "$d": [[encode(k, ref, depth + 1), encode(v, ref, depth + 1)] for k, v in value.items()]
        }
    return ref(value)


def _encode_items(items: list[Any] | tuple[Any, ...], ref: Callable[[Any], Any], depth: int) -> Any:
    """Encode a sequence's items; scalars inline, because batches hold thousands of them."""
    if depth > MAX_DEPTH:
        raise WireError("value nests too deeply")
    return _map_items(items, lambda v: encode(v, ref, depth))


def decode(data: Any, resolve: Callable[[dict[str, Any]], Any], depth: int = 0) -> Any:
    """Decode ``data`` built by ``encode``; references go through ``resolve``."""
    if depth > MAX_DEPTH:
        raise WireError("value nests too deeply")
    kind = type(data)
    if kind in _PLAIN_SCALARS:
        return data
    if kind is list:
        return _decode_items(data, resolve, depth + 1)
    if kind is not dict or len(data) == 0:
        raise WireError(f"unexpected value of type {kind.__name__}")
    if "$b" in data:
        try:
            return base64.b64decode(_str(data["$b"]), validate=True)
        except ValueError:
            raise WireError("bad base64") from None
    if "$t" in data:
        return tuple(_decode_items(_list(data["$t"]), resolve, depth + 1))
    if "$d" in data:
        out = {}
        for pair in _list(data["$d"]):
            if type(pair) is not list or len(pair) != 2:
                raise WireError("bad dict entry")
            key = decode(pair[0], resolve, depth + 1)
            try:
                out[key] = decode(pair[1], resolve, depth + 1)
            except TypeError:
                raise WireError("unhashable dict key") from None
        return out
    return resolve(data)


def _decode_items(items: list[Any], resolve: Callable[[dict[str, Any]], Any], depth: int) -> Any:
    """Decode a list's items; scalars inline (a JSON parser makes only exact builtin types)."""
    if depth > MAX_DEPTH:
        raise WireError("value nests too deeply")
    return _map_items(items, lambda v: decode(v, resolve, depth))


def _map_items(items: list[Any] | tuple[Any, ...], convert: Callable[[Any], Any]) -> Any:
    """``convert`` each item, except scalars and lists of scalars (one argument list of a
    batch), which are their own encoding and decoding (a JSON parser makes only exact
    builtin types). A sequence of nothing else is its own encoding, as it is."""
    scalars = _PLAIN_SCALARS
    if only_plain_rows(items):
        # As it is, but a list: JSON makes one of a tuple, marshal keeps the tuple.
        return items if type(items) is list else list(items)
    return [
        v
        if type(v) in scalars or (type(v) is list and all(type(x) in scalars for x in v))
        else convert(v)
        for v in items
    ]


def only_plain_rows(items: list[Any] | tuple[Any, ...]) -> bool:
    """Whether every item is a scalar or a list of scalars (a batch's argument lists or
    results). The types are gathered into sets by C loops: about twice as fast as checking
    item by item, which mattered for the thousands of rows of a batch, four times per round
    trip (encoded and decoded on either side)."""
    kinds = set(map(type, items))
    if kinds <= _SCALAR_TYPES:
        return True
    if not kinds <= _ROW_TYPES:
        return False
    rows = items if len(kinds) == 1 else [item for item in items if type(item) is list]
    return set(map(type, itertools.chain.from_iterable(rows))) <= _SCALAR_TYPES


def _str(value: Any) -> str:
    """``value`` if it is exactly a str."""
    if type(value) is not str:
        raise WireError("expected a string")
    return value


def _list(value: Any) -> list[Any]:
    """``value`` if it is exactly a list."""
    if type(value) is not list:
        raise WireError("expected a list")
    return value


def ident(value: Any) -> int:
    """``value`` if it is exactly a non-negative int (a handle id)."""
    if type(value) is not int or value < 0:
        raise WireError("expected a handle id")
    return value


def text(value: Any, limit: int = 1000) -> str:
    """``value`` if it is exactly a str, cut to ``limit`` characters."""
    return _str(value)[:limit]
