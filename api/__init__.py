"""The HTTP submission service: accept submissions, grade them in a worker pool, serve reports.

Dependencies point one way: ``api`` uses ``grader`` (and through it ``sandbox``); the ``grader``
package never imports this one. ``grader serve`` starts the service (see ``docs/service.md``).
"""

from __future__ import annotations
