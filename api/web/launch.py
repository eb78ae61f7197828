"""``grader serve --open``: open the web page in the user's browser once the service answers."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
import webbrowser

#: Seconds to wait for the service to listen before giving up on opening the page.
STARTUP_WAIT = 30.0


def page_url(host: str, port: int) -> str:
    """Where a browser on this machine finds the page (a wildcard address means loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def can_open_browser() -> bool:
    """Whether opening a browser makes sense: run from a terminal, with a graphical session.

    Without a display, :mod:`webbrowser` would fall back to a text browser that takes over
    the terminal the service logs to; without a terminal (a test, a service manager) nobody
    is there to look.
    """
    if not sys.stderr.isatty():
        return False
    if sys.platform in ("darwin", "win32") or os.environ.get("BROWSER"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _wait_then_open(host: str, port: int, url: str) -> None:
    """Poll the port until it accepts a connection, then open ``url`` (no-op without one)."""
    target = "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host)
    deadline = time.monotonic() + STARTUP_WAIT
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((target, port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        return
    with contextlib.suppress(webbrowser.Error):
        webbrowser.open(url)


def open_page_when_ready(host: str, port: int) -> str:
    """Open the page in a browser once ``host:port`` listens (in the background); its URL."""
    url = page_url(host, port)
    if can_open_browser():
        threading.Thread(
            target=_wait_then_open, args=(host, port, url), name="open-browser", daemon=True
        ).start()
    return url
