"""Security headers on the web page and its assets.

The page holds an API key (in ``sessionStorage``) and shows text a hostile submission wrote,
so it runs under a strict Content-Security-Policy: scripts, styles and requests only from this
origin, no inline script or style, no plugins, no framing, and Trusted Types so that the one
place HTML is inserted (the statement, rendered and escaped on the server) is explicit.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The policy of every page and asset; ``statement`` is the page's one Trusted Types policy.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types statement",
    ]
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def is_page_path(path: str) -> bool:
    """Whether ``path`` is the page or one of its static assets."""
    return path == "/" or path.startswith("/static/")


class PageSecurityHeaders:
    """ASGI middleware: :data:`PAGE_HEADERS` on every answer for the page and its assets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response start of page paths."""
        if scope["type"] != "http" or not is_page_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PAGE_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
