"""How job files get into a Docker sandbox whose root filesystem is read-only.

``put_archive`` cannot write into a tmpfs of a created-but-not-started
container (the tmpfs does not exist yet) and a read-only root refuses it, and
a writable bind mount of a host directory is exactly what we must not give
hostile code. So the container's first process is a tiny trusted stdlib
bootstrap (:data:`BOOTSTRAP`, run as ``python3 -I -S -c``) that

1. reads a length-prefixed bundle (:func:`encode_bundle`: the program's argv, then its files)
   from stdin, using exact-size ``os.read`` calls so not one byte of the program's input
   is consumed,
2. writes them into the tmpfs work dir (``O_EXCL|O_NOFOLLOW``),
3. if the host passed it a socket channel (:mod:`sandbox.docker_socket`), connects to it
   twice and puts the first connection on stdin and stdout, the second on stderr,
4. writes :data:`READY` to stdout (the host strips it and so learns the
   program is starting), and
5. ``execve``\\s the bundle's argv with an environment of ``PATH`` only.

The argv travels in the bundle, not on the container's command line, so a container can be
created and started before its job is known (the warm pool, :mod:`sandbox.pool`).

After the ``exec`` the same stdin/stdout are the program's channel. No
trusted code runs in the container after untrusted code has started.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sandbox.models import SANDBOX_PATH, check_relative_path

MAGIC = b"GSB2"
#: Where a container with a socket channel finds it (:mod:`sandbox.docker_socket`).
CHANNEL_SOCKET = "/grader-channel/s"
READY = b"\x00grader-sandbox-ready\x00"

BOOTSTRAP = f"""\
import os
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
argv = [rd(num(2)).decode() for _ in range(num(2))]
if not argv:
    raise SystemExit("grader-bootstrap: no program to run")
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
if os.path.exists({CHANNEL_SOCKET!r}):  # the host listens: the channel is this socket
    import _socket
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        s.connect({CHANNEL_SOCKET!r})
    except OSError as e:
        raise SystemExit("grader-bootstrap: cannot connect the channel: %s" % e.strerror)
    e = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        e.connect({CHANNEL_SOCKET!r})
    except OSError as x:
        raise SystemExit("grader-bootstrap: cannot connect stderr: %s" % x.strerror)
    fd, efd = s.detach(), e.detach()
    os.dup2(fd, 0)
    os.dup2(fd, 1)
    os.dup2(efd, 2)
    os.close(fd)
    os.close(efd)
os.write(1, {READY!r})
try:
    os.execvpe(argv[0], argv, {{"PATH": {SANDBOX_PATH!r}}})
except OSError as e:
    os.write(2, ("grader-bootstrap: cannot run %r: %s\\n" % (argv[0], e.strerror)).encode())
    os._exit(127)
"""


def bootstrap_command() -> list[str]:
    """The sandbox's first command: the bootstrap, which learns its program from the bundle."""
    return ["python3", "-I", "-S", "-c", BOOTSTRAP]


def encode_bundle(argv: Sequence[str], files: Mapping[str, bytes]) -> bytes:
    """Serialise a job for :data:`BOOTSTRAP`: magic, the argv, then the files as path/data."""
    if not argv:
        raise ValueError("a job needs a program to run")
    out = bytearray(MAGIC)
    out += len(argv).to_bytes(2, "big")
    for arg in argv:
        raw_arg = arg.encode()
        out += len(raw_arg).to_bytes(2, "big") + raw_arg
    out += len(files).to_bytes(4, "big")
    for path, data in files.items():
        raw = check_relative_path(path).encode()
        out += len(raw).to_bytes(2, "big") + raw
        out += len(data).to_bytes(8, "big") + data
    return bytes(out)
