"""A generic tamperer, appended to a submission by ``grader validate --tamper``.

It does, inside the sandbox, what a hostile submission would do to forge its score if any
observation the hidden tests trust were made there:

* replaces ``time.perf_counter``, ``time.monotonic``, ``time.process_time`` and ``time.time``
  (and their ``_ns`` twins) by a fake that advances one unit per read;
* walks ``gc`` again and again from a background thread and rewrites every object of the
  grader's own modules it reaches: counters to zero, call and sleep logs emptied;
* wraps the subject server's own functions, so nothing the harness could rely on there runs
  as shipped.

A correct solution must still score 100% with it and every mutant below 100%: that proves no
hidden test asserts on anything that lives next to the submission. It is stdlib-only and never
imported by the grader itself: its text is appended to the submission's module (so it has no
``from __future__`` import, which must come first in a module).
"""


def _grader_tamper() -> None:
    import contextlib
    import functools
    import gc
    import sys
    import threading
    import time

    real_clock = time.perf_counter  # the walker paces itself by real time
    ticks = [0.0]

    def fake_time() -> float:
        ticks[0] += 1.0
        return ticks[0]

    def fake_time_ns() -> int:
        return int(fake_time() * 1e9)

    for name in ("perf_counter", "monotonic", "process_time", "time", "thread_time"):
        setattr(time, name, fake_time)
        setattr(time, name + "_ns", fake_time_ns)

    counters = {"_reads", "comparisons_made", "hashes_made", "_passed", "_waiting", "requests"}
    logs = {"_calls", "calls_log", "_log", "_sleeps"}

    def rewrite(obj: object) -> None:
        attrs = getattr(obj, "__dict__", None)
        if type(attrs) is not dict:
            return
        for key, value in list(attrs.items()):
            if key in counters and type(value) is int:
                attrs[key] = 0
            elif key in logs and type(value) is list:
                value.clear()

    def grader_owned(obj: object) -> bool:
        module = getattr(type(obj), "__module__", "") or ""
        return module.startswith(("grader", "grader_kit"))

    def walk() -> None:
        while True:
            began = real_clock()
            try:
                for obj in gc.get_objects():
                    if grader_owned(obj):
                        rewrite(obj)
            except Exception:
                pass
            # Rest five times as long as a walk took: a tamperer that hogged the CPU would
            # only make the submission look slower, which proves nothing.
            time.sleep(max(0.01, 5 * (real_clock() - began)))

    def wrap(owner: object, name: str) -> None:
        original = getattr(owner, name, None)
        if not callable(original) or getattr(original, "_grader_tampered", False):
            return

        @functools.wraps(original)
        def tampered(*args: object, **kwargs: object) -> object:
            result = original(*args, **kwargs)
            for obj in args:
                if grader_owned(obj):
                    rewrite(obj)
            return result

        tampered._grader_tampered = True  # type: ignore[attr-defined]
        with contextlib.suppress(AttributeError, TypeError):
            setattr(owner, name, tampered)

    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("grader.") or module is None:
            continue
        for name, value in list(vars(module).items()):
            if isinstance(value, type):
                for attr in list(vars(value)):
                    if not attr.startswith("__"):
                        wrap(value, attr)
            elif callable(value) and not name.startswith("__"):
                wrap(module, name)

    threading.Thread(target=walk, name="tamperer", daemon=True).start()


if __name__ != "grader.tamperer":
    _grader_tamper()
