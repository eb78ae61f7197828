"""How job files get into a Docker sandbox whose root filesystem is read-only.

``put_archive`` cannot write into a tmpfs of a created-but-not-started
container (the tmpfs does not exist yet) and a read-only root refuses it, and
a writable bind mount of a host directory is exactly what we must not give
hostile code. So the container's first process is a tiny trusted stdlib
bootstrap (:data:`BOOTSTRAP`, run as ``python3 -I -S -c``) that

1. reads a length-prefixed bundle of files (:func:`encode_files`) from stdin,
   using exact-size ``os.read`` calls so not one byte of the program's input
   is consumed,
2. writes them into the tmpfs work dir (``O_EXCL|O_NOFOLLOW``),
3. writes :data:`READY` to stdout (the host strips it and so learns the
   program is starting), and
4. ``execve``\\s the job's argv with an environment of ``PATH`` only.

After the ``exec`` the same stdin/stdout pipes are the program's channel. No
trusted code runs in the container after untrusted code has started.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sandbox.models import SANDBOX_PATH, check_relative_path

MAGIC = b"GSB1"
READY = b"\x00grader-sandbox-ready\x00"

BOOTSTRAP = f"""\
import os, sys
def rd(n):
    b = bytearray()
    while len(b) < n:
        c = os.read(0, n - len(b))
        if not c:
            raise SystemExit("grader-bootstrap: stdin closed before the files were sent")
        b += c
    return bytes(b)
def num(n):
    return int.from_bytes(rd(n), "big")
if rd(4) != {MAGIC!r}:
    raise SystemExit("grader-bootstrap: bad file bundle")
for _ in range(num(4)):
    path = rd(num(2)).decode()
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise SystemExit("grader-bootstrap: bad path " + repr(path))
    for i in range(1, len(parts)):
        try:
            os.mkdir("/".join(parts[:i]), 0o755)
        except FileExistsError:
            pass
    data = memoryview(rd(num(8)))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    while data:
        data = data[os.write(fd, data):]
    os.close(fd)
os.write(1, {READY!r})
argv = sys.argv[1:]
try:
    os.execvpe(argv[0], argv, {{"PATH": {SANDBOX_PATH!r}}})
except OSError as e:
    os.write(2, ("grader-bootstrap: cannot run %r: %s\\n" % (argv[0], e.strerror)).encode())
    os._exit(127)
"""


def bootstrap_command(argv: Iterable[str]) -> list[str]:
    """The container command: the bootstrap followed by the job's argv."""
    return ["python3", "-I", "-S", "-c", BOOTSTRAP, *argv]


def encode_files(files: Mapping[str, bytes]) -> bytes:
    """Serialise files for :data:`BOOTSTRAP` (magic, count, then path/data pairs)."""
    out = bytearray(MAGIC)
    out += len(files).to_bytes(4, "big")
    for path, data in files.items():
        raw = check_relative_path(path).encode()
        out += len(raw).to_bytes(2, "big") + raw
        out += len(data).to_bytes(8, "big") + data
    return bytes(out)
