"""Hostile submissions that try to forge their score through the test kit, graded in isolated
mode on both sandbox backends.

The kit's objects (scripts, fake sleeps, counting keys, gates) live in the harness and the
sandbox holds only stand-ins; cost is read from the sandbox's CPU counter from outside it. So
what the hidden tests observe about the kit is observed out of the submission's reach:

* cases 1-3 grade an honest submission with a known defect, then the same text with a tamperer
  appended that attacks the kit the way a cheater would have attacked a grader observing it next
  to the submission. The tampered score must never beat the honest one. The direct-mode
  controls at the end prove those tamperers have teeth: in direct mode the kit shares the
  submission's process (the defence removed), and the same tamperers do forge a better score;
* cases 4-5 abuse the reverse path itself (junk and malformed frames, made-up kit ids,
  forbidden methods, oversized calls, floods, a half-written frame held forever): each costs
  the test in progress only, leaves nothing running, and ends well within the run limit;
* case 6 pins the generic tamperer of ``grader validate --tamper`` on every exercise.

Fixtures: ``tests/fixtures/tampering/`` holds the honest modules (named like the exercise's
module file) and the snippets appended to them or to a reference. Gradings are cached per
module (``gradings``), so a case that compares honest and tampered grades each once per mode.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import timing
from grader.bridge import protocol, wire
from grader.budget import cpu_limit
from grader.catalogue import Catalogue, default_exercises_dir
from grader.exercise import Exercise, _load_mutants, apply_edits
from grader.grading import grade
from grader.harness.supervisor import ChildRunner, DirectRunner
from grader.public import to_public
from grader.report import Report, RunStatus, TestResult, TestStatus
from grader.submission import from_text
from grader.validation import _stage_mutants

from ..conftest import FIXTURES
from .conftest import backend_or_skip, leftover_containers

TAMPERING = FIXTURES / "tampering"
CATALOGUE = Catalogue(default_exercises_dir())


def exercise_of(slug: str) -> Exercise:
    """One of the shipped exercises."""
    return CATALOGUE.get(slug)


def fixture_text(name: str) -> str:
    """The text of a file under ``tests/fixtures/tampering``."""
    return (TAMPERING / name).read_text(encoding="utf-8")


def joined(*texts: str) -> str:
    """Module texts one after another, as ``grader validate --tamper`` appends its tamperer."""
    return "\n\n".join(text.rstrip("\n") for text in texts) + "\n"


@dataclass(frozen=True)
class Graded:
    """One grading: its report and how long it took."""

    report: Report
    seconds: float


def run_grading(slug: str, source: str, mode: str) -> Graded:
    """Grade ``source`` as the submission for ``slug``: isolated on ``mode`` ("process" or
    "docker"), or in direct mode ("direct")."""
    exercise = exercise_of(slug)
    runner = DirectRunner() if mode == "direct" else ChildRunner(backend=mode)
    start = time.monotonic()
    report = grade(exercise, from_text(source.encode("utf-8"), exercise.meta.module), runner)
    return Graded(report, time.monotonic() - start)


class Gradings:
    """The module's gradings, each made once and kept, by key."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, ...], Graded] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Graded | None:
        with self._lock:
            return self._done.get(key)

    def grade(self, key: tuple[str, ...], slug: str, source: str, mode: str) -> Graded:
        """The grading ``key`` (``slug``'s ``source`` on ``mode``), made now if not yet."""
        done = self.get(key)
        if done is None:
            done = run_grading(slug, source, mode)
            with self._lock:
                self._done[key] = done
        return done

    def prefetch(self, jobs: dict[tuple[str, ...], tuple[str, str, str]], workers: int) -> None:
        """Make the missing gradings of ``jobs`` (key -> slug, source, mode) side by side. Only
        for gradings whose verdict does not depend on CPU timing."""
        missing = {key: job for key, job in jobs.items() if self.get(key) is None}
        if missing:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(self.grade, key, *job) for key, job in missing.items()]
            for future in futures:
                future.result()  # a grading that raised fails the test that needed it


@pytest.fixture(scope="module")
def gradings() -> Gradings:
    return Gradings()


def summary(report: Report) -> str:
    """Score, status and every test that did not pass, for assertion messages."""
    lines = [f"{report.score:g}/{report.max_score:g} {report.status.value} {report.message}"]
    lines += [
        f"  {t.name}: {t.status.value} ({t.duration:.2f} s) {t.message[:160]}"
        for t in report.tests
        if t.status is not TestStatus.PASSED
    ]
    return "\n".join(lines)


def not_passed(report: Report) -> set[str]:
    return {t.name for t in report.tests if t.status is not TestStatus.PASSED}


def result_of(report: Report, name: str) -> TestResult:
    (found,) = [t for t in report.tests if t.name == name]
    return found


def category_score(report: Report, name: str) -> tuple[float, float]:
    (found,) = [c for c in report.categories if c.name == name]
    return found.score, found.max_score


# -- cases 1-3: an honest defect, and the same defect with a tamperer --------------------------


def honest_source(slug: str, mutant: str) -> str:
    """An honest module with a defect: one of the exercise's mutants, or (``"honest"``) the
    variant in ``honest.toml`` that exposes the hook its tamperer wraps."""
    exercise = exercise_of(slug)
    if mutant != "honest":
        return {m.name: m for m in exercise.mutants()}[mutant].source()
    specs = _load_mutants(FIXTURES / "tampering" / "honest.toml").mutant
    spec = next(s for s in specs if s.name == slug.replace("-", "_"))
    return apply_edits(exercise.reference_path.read_text(encoding="utf-8"), spec.edit, slug)


@dataclass(frozen=True)
class Forgery:
    """An honest module with a defect, the tamperer appended to it, and the hidden test that
    shows the defect (and that the tamperer aims at)."""

    slug: str
    mutant: str
    tamperer: str
    pinned: str

    def source(self, variant: str) -> str:
        honest = honest_source(self.slug, self.mutant)
        return honest if variant == "honest" else joined(honest, fixture_text(self.tamperer))


FORGERIES = {
    "lru-cache": Forgery(
        "lru-cache",
        "list_recency",
        "tamper_lru_cache.py",
        "test_get_cost_does_not_grow_with_size",
    ),
    "circuit-breaker": Forgery(
        "circuit-breaker",
        "honest",
        "tamper_circuit_breaker.py",
        "test_open_rejects_without_calling_func",
    ),
    "token-bucket": Forgery(
        "token-bucket",
        "honest",
        "tamper_token_bucket.py",
        "test_acquire_waits_through_the_injected_sleep",
    ),
}


def honest_and_tampered(gradings: Gradings, slug: str, mode: str) -> tuple[Report, Report]:
    """The honest and the tampered variant of ``slug``'s forgery, graded on ``mode``."""
    forgery = FORGERIES[slug]
    reports = [
        gradings.grade((slug, variant, mode), slug, forgery.source(variant), mode).report
        for variant in ("honest", "tampered")
    ]
    return reports[0], reports[1]


def assert_no_forgery(honest: Report, tampered: Report, pinned: str) -> None:
    """The defect costs points, and the tamperer wins none of them back."""
    scores = f"honest:\n{summary(honest)}\ntampered:\n{summary(tampered)}"
    assert honest.mode == tampered.mode == "isolated", scores
    assert honest.score < honest.max_score, scores
    assert pinned in not_passed(honest), scores
    assert tampered.score <= honest.score, scores
    # Not by luck elsewhere: every test the defect fails, the tampered variant fails too.
    assert not_passed(honest) <= not_passed(tampered), scores
    assert tampered.status is not RunStatus.ERROR, scores


def test_lru_scan_cannot_forge_its_complexity(backend: str, gradings: Gradings) -> None:
    """Case 1 (lru-cache): an honest LRU (mutant ``list_recency``) keeping recency in a plain list (``in``,
    ``list.remove`` and ``append`` per call: O(n)) loses complexity points; with the tamperer
    it loses at least as many.

    Pins: cost is the sandbox's CPU counter read by the harness from outside (the container's
    cgroup, or the process tree), around one batch, compared with the reference measured the
    same way. The tamperer's fake ``perf_counter``/``monotonic``/``process_time`` (one unit per
    read) would make every batch cost the same if cost were timed next to the submission, and
    zeroing ``comparisons_made``/``hashes_made``/``_calls``/``_reads`` would erase any probe
    counter kept there (the direct-mode control shows both forge a pass). Padding the small
    case flattens the growth, which the ratio to the reference's large-cache cost still
    catches.
    """
    honest, tampered = honest_and_tampered(gradings, "lru-cache", backend)
    assert_no_forgery(honest, tampered, FORGERIES["lru-cache"].pinned)
    scores = f"honest:\n{summary(honest)}\ntampered:\n{summary(tampered)}"
    earned, most = category_score(tampered, "complexity")
    assert earned < most, scores
    assert category_score(tampered, "complexity") <= category_score(honest, "complexity"), scores


def test_breaker_cannot_erase_the_calls_it_makes_while_open(
    backend: str, gradings: Gradings
) -> None:
    """Case 2 (circuit-breaker): an honest breaker (``honest.toml``) that
    still calls the protected function
    while OPEN (then raises ``CircuitOpenError`` or returns the fallback) loses points; with code
    that erases those calls from every script call log it can reach (the callable's ``_calls``,
    every ``gc`` object with a ``_calls`` list, what ``calls()`` returns) it loses as many.

    Pins: a scripted callable lives in the harness, which records each call when its reverse
    call (gated scripts) or its one-way call record (plain scripts) arrives; the sandbox's
    stand-in holds only the steps to replay (inputs) and no log, so ``func.call_count()`` and
    ``func.calls()`` read a record the submission cannot reach or rewrite (in direct mode, where
    the script shares its process, the same eraser scores 100).
    """
    honest, tampered = honest_and_tampered(gradings, "circuit-breaker", backend)
    assert_no_forgery(honest, tampered, FORGERIES["circuit-breaker"].pinned)


def test_bucket_cannot_rewrite_its_sleep_log(backend: str, gradings: Gradings) -> None:
    """Case 3 (token-bucket): an honest bucket whose acquire oversleeps (mutant
    ``honest.toml``: it sleeps twice as long as it needs to) loses
    points; with code that rewrites every sleep log it can reach (the sleep's ``_calls``, every
    ``gc`` object with a ``_calls`` list of floats, polled from a thread) to one correct sleep,
    and winds the clocks it holds back by the excess, it loses as many.

    Pins: the fake sleep lives in the harness and records each duration when the reverse call
    arrives, moving the harness's clock; ``sleep.total()``, ``sleep.calls()`` and
    ``clock.now()`` read the harness's objects. The submission's clock copy is only an input:
    winding it back changes nothing the tests assert (in direct mode, where the sleep and the
    clock share its process, the same rewrite wins points back).
    """
    honest, tampered = honest_and_tampered(gradings, "token-bucket", backend)
    assert_no_forgery(honest, tampered, FORGERIES["token-bucket"].pinned)


# -- cases 4-5: abusing the reverse path --------------------------------------------------------

#: The hidden test whose call carries the abuse (see ``reverse_abuse.py``).
ABUSED = "test_closed_call_passes_args_and_kwargs"
#: Set once per session: the processes of this run's abusive subjects are named after it.
RUN_TOKEN = secrets.token_hex(3)


@dataclass(frozen=True)
class Abuse:
    """What one abuse of the reverse path may cost: the abused test's allowed outcomes (status
    and part of its message; a flood races the per-test kit-call cap, the output cap and the
    deadline), whether it must fail at once rather than at the deadline, and how many times the
    subject must have been started afresh (the abuse may be fatal to the subject, never to
    the run)."""

    outcomes: tuple[tuple[TestStatus, str], ...]
    restarts: int = 1
    fast: bool = True


_FLOODED = (
    (TestStatus.TIMEOUT, "timed out after"),
    (TestStatus.FAILED, "calls to kit objects in one test"),
    (TestStatus.ERROR, "the submission's process ended during a call"),
    # The output cap tripped: the stream is cut and the harness sees a broken frame.
    (TestStatus.FAILED, "malformed message from the submission's side"),
)
ABUSES = {
    "junk": Abuse(((TestStatus.FAILED, f"exceeds the {wire.MAX_FRAME} byte limit"),)),
    "malformed_frame": Abuse(((TestStatus.FAILED, "malformed message from the submission's"),)),
    "malformed_call": Abuse(((TestStatus.FAILED, "malformed call from the submission's side"),)),
    "unknown_kit": Abuse(
        ((TestStatus.FAILED, "RuntimeError: no such kit object in this test"),), restarts=0
    ),
    "forbidden_method": Abuse(((TestStatus.FAILED, "may not call 'calls' of a kit object"),)),
    "oversized": Abuse(((TestStatus.FAILED, f"over the {protocol.MAX_REVERSE_FRAME} byte limit"),)),
    "flood": Abuse(_FLOODED, fast=False),
    "flood_unread": Abuse(_FLOODED, fast=False),
    "stall": Abuse(((TestStatus.TIMEOUT, "timed out after"),), fast=False),
    "hold": Abuse(((TestStatus.TIMEOUT, "timed out after"),), fast=False),
}


def abuse_token(mode: str, backend: str) -> str:
    """The process name (at most 15 characters) of ``mode``'s subjects on ``backend``."""
    return f"ab{RUN_TOKEN}{sorted(ABUSES).index(mode):x}{backend[0]}"


def abuse_source(mode: str, backend: str) -> str:
    reference = exercise_of("circuit-breaker").reference_path.read_text(encoding="utf-8")
    settings = f"_ABUSE = {mode!r}\n_ABUSE_TOKEN = {abuse_token(mode, backend)!r}"
    return joined(reference, settings, fixture_text("reverse_abuse.py"))


def abused(gradings: Gradings, mode: str, backend: str) -> Graded:
    """The grading of ``mode``'s abuse on ``backend``; the first call grades every abuse side by
    side (none of their verdicts depends on CPU timing)."""
    jobs = {
        ("abuse", name, backend): ("circuit-breaker", abuse_source(name, backend), backend)
        for name in ABUSES
    }
    gradings.prefetch(jobs, workers=4)
    graded = gradings.get(("abuse", mode, backend))
    assert graded is not None
    return graded


def processes_named(token: str) -> list[int]:
    """Pids on this host whose name (``comm``) is ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if name == token:
                found.append(int(entry.name))
    return found


def wait_until_gone(token: str, patience: float = 5.0) -> list[int]:
    """The processes named ``token`` still alive after up to ``patience`` seconds."""
    deadline = time.monotonic() + patience
    while (left := processes_named(token)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def assert_costs_one_test(graded: Graded, mode: str, backend: str) -> TestResult:
    """The abuse fails the test in progress only, with one of ``ABUSES[mode]``'s outcomes; the
    subject was restarted as often as the abuse requires; nothing is left running; the run
    ended well within its limit. Returns the abused test's result."""
    report, expect = graded.report, ABUSES[mode]
    exercise = exercise_of("circuit-breaker")
    limits = exercise.meta.limits
    details = f"{mode} on {backend}, {graded.seconds:.1f} s:\n{summary(report)}"
    hit = result_of(report, ABUSED)
    token = abuse_token(mode, backend)
    # Whatever else happened, nothing may be left running and the canary must not leak.
    assert wait_until_gone(token) == [], details
    public = to_public(report, exercise.meta.visibility, exercise.meta.canary).model_dump_json()
    assert exercise.meta.canary not in public and exercise.meta.canary not in report.output
    assert graded.seconds < limits.run_timeout / 2, details
    assert any(hit.status is status and text in hit.message for status, text in expect.outcomes), (
        details
    )
    # The abused test's own deadline (from the exercise's timing profile, grader/timing.py).
    deadline = timing.deadlines(exercise, [hit.name], "isolated")[hit.name]
    if hit.status is TestStatus.TIMEOUT:
        # By the abused test's own budget (grader/budget.py): its deadline, or its CPU limit
        # (a flood keeps the harness busy), or on a busy machine as late as the ceiling, and
        # then the message says the machine was busy.
        assert cpu_limit(deadline) - 0.5 <= hit.duration < limits.test_timeout + 5, (
            details
        )
        assert hit.message.startswith(
            (
                f"timed out after {deadline:g} s",
                f"timed out after {cpu_limit(deadline):g} s of CPU time",
                f"timed out after {limits.test_timeout:g} s (its own limit of {deadline:g} s"
                " was stretched: the machine was busy",
            )
        ), details
    elif expect.fast:
        # Failed at once by the violation, not by waiting out a deadline (test_timeout is the
        # longest deadline any test can have; the profiled one may be shorter than a restart).
        assert hit.duration < limits.test_timeout, details
    # Only the test in progress: every other test passed, and the run as a whole is a failure
    # with a score, not an error or a timeout.
    assert not_passed(report) == {ABUSED}, details
    assert report.status is RunStatus.FAILED, details
    assert report.score == pytest.approx(report.max_score - hit.max_points, abs=0.01), details
    imports = report.output.count(f"reverse_abuse imported: {token} renamed=True")
    assert imports == 1 + expect.restarts, details + f"\noutput: {report.output[-500:]}"
    return hit


@pytest.mark.parametrize("mode", [m for m in ABUSES if m != "hold"])
def test_reverse_path_abuse_costs_only_the_test_in_progress(
    backend: str, gradings: Gradings, mode: str
) -> None:
    """Case 4: abuse of the reverse path from inside a call that received a kit callable
    (``reverse_abuse.py``) fails that test with a precise status and message, the other tests
    pass (on a fresh subject where the abuse was fatal to it), nothing is left running, and the
    run ends well within its limit.

    Pins, per mode:
    * ``junk``, ``malformed_frame``: frames are length-checked (4 MiB) and strictly parsed; a
      bad one is a ``ProtocolViolation`` of the test in progress and the subject is replaced;
    * ``malformed_call``, ``forbidden_method``: reverse calls are decoded strictly, and only the
      methods their kind allows are carried out (not ``calls`` of a script);
    * ``unknown_kit``: a kit id the current test did not hand over is refused with an error
      reply, not fatal (the subject keeps serving: no restart);
    * ``oversized``: a call from the submission's side over 64 KiB is refused before decoding;
    * ``flood``: calling a script in a tight loop forever is stopped by the per-test kit-call
      cap, the output cap or the test's deadline, whichever comes first;
    * ``flood_unread``: a subject that never reads the replies to its reverse calls is stopped
      the same way;
    * ``stall``: a subject that makes reverse calls, never reads their replies and then sleeps
      cannot hold the harness in a blocked write past the test's deadline.
    """
    assert_costs_one_test(abused(gradings, mode, backend), mode, backend)


def test_a_half_written_reverse_call_is_a_timeout_of_that_test_only(
    backend: str, gradings: Gradings
) -> None:
    """Case 5: a submission that writes only the 4-byte header of a 100-byte reverse call and
    then blocks holds the harness no longer than the test's deadline: that test is a timeout,
    the subject is killed, and the tests after it pass on a fresh subject.

    Pins: the harness reads a frame whole or not at all before the test's deadline (it never
    blocks on a partial frame), and a timeout kills the subject and starts a new one lazily.
    """
    graded = abused(gradings, "hold", backend)
    hit = assert_costs_one_test(graded, "hold", backend)
    tests = graded.report.tests
    after = tests[tests.index(hit) + 1 :]
    assert after and all(t.status is TestStatus.PASSED for t in after), summary(graded.report)


# -- case 6: the generic tamperer ---------------------------------------------------------------

#: For each exercise, a mutant the tamperer might have rescued if a test trusted the sandbox:
#: a scan hidden by faked timers, levels compared by (zeroed) comparison counts, trials counted
#: at a gate and in call logs, and a sleep log.
TAMPER_PINS = {
    "circuit-breaker": "half_open_unlimited_trials",
    "lru-cache": "list_recency",
    "skip-list": "unseeded_random",
    "token-bucket": "acquire_oversleeps",
}


def tampered_texts(slug: str) -> tuple[str, str]:
    """The reference and the pinned mutant with the generic tamperer appended, exactly as
    ``grader validate --tamper`` stages them."""
    exercise = exercise_of(slug)
    staged = _stage_mutants(exercise, tamper=True)
    try:
        reference = (staged / "reference" / exercise.meta.module).read_text(encoding="utf-8")
        mutant = (staged / TAMPER_PINS[slug] / exercise.meta.module).read_text(encoding="utf-8")
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return reference, mutant


@pytest.fixture
def docker_only() -> Iterator[str]:
    """The Docker backend only (fails, not skips, when required); no container left behind."""
    backend_or_skip("docker")
    yield "docker"
    assert leftover_containers() == []


@pytest.mark.docker
@pytest.mark.parametrize("slug", sorted(TAMPER_PINS))
def test_generic_tamperer_changes_no_verdict(
    docker_only: str, gradings: Gradings, slug: str
) -> None:
    """Case 6: the reference with ``grader/tamperer.py`` appended scores 100/100 in Docker, and
    the pinned mutant with it still scores below 100 (a quick pin of the CI sweep ``grader
    validate --sandbox docker --tamper``).

    Pins: no hidden test asserts on anything that lives next to the submission: faked timers,
    zeroed counters, emptied call and sleep logs and a wrapped subject server change no verdict.
    """
    # The mutants' verdicts do not depend on timing (a slower mutant only fails more): all four
    # are graded side by side on first use.
    if gradings.get(("generic", slug, "docker")) is None:
        mutants = {
            ("generic", name, "docker"): (name, tampered_texts(name)[1], "docker")
            for name in sorted(TAMPER_PINS)
        }
        gradings.prefetch(mutants, workers=2)
    graded = gradings.get(("generic", slug, "docker"))
    assert graded is not None
    mutant = graded.report
    assert mutant.score < mutant.max_score, f"{TAMPER_PINS[slug]} with tamperer: {summary(mutant)}"

    reference, _ = tampered_texts(slug)
    report = run_grading(slug, reference, docker_only).report
    tried = f"reference with tamperer: {summary(report)}"
    assert report.status is RunStatus.PASSED, tried
    assert report.score == report.max_score, tried


# -- controls: with the defence removed, the tamperers do forge ---------------------------------


@pytest.mark.parametrize("slug", sorted(FORGERIES))
def test_control_tamperers_forge_when_the_kit_shares_their_process(
    gradings: Gradings, slug: str
) -> None:
    """Control for cases 1-3: in direct mode the kit's objects, and the cost measurement, share
    the submission's process, which is exactly the observation moved back next to the
    submission. There the same tamperers pass the pinned test the honest variant fails and score
    more than it: so cases 1-3 fail if their defence is removed.

    The honest baseline is any honest grading this module already made (direct and isolated
    modes give an honest submission the same score), else one made here in direct mode.
    """
    forgery = FORGERIES[slug]
    cached = [gradings.get((slug, "honest", mode)) for mode in ("process", "docker", "direct")]
    honest = next((g for g in cached if g is not None), None)
    if honest is None:
        honest = gradings.grade(
            (slug, "honest", "direct"), slug, forgery.source("honest"), "direct"
        )
    tampered = gradings.grade(
        (slug, "tampered", "direct"), slug, forgery.source("tampered"), "direct"
    ).report
    scores = f"honest ({honest.report.mode}):\n{summary(honest.report)}\n"
    scores += f"tampered (direct):\n{summary(tampered)}"
    assert tampered.mode == "direct", scores
    assert forgery.pinned in not_passed(honest.report), scores
    assert forgery.pinned not in not_passed(tampered), scores
    assert tampered.score > honest.report.score, scores
