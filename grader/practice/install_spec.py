"""What a practice repository's CI gives ``pip install`` to get this very grader.

Read from how the running grader was installed: the ``direct_url.json`` that pip records
(PEP 610) in the distribution's metadata.

- installed from a version control URL: that URL pinned to the installed commit
  (``git+https://host/owner/repo@<commit>``, with ``#subdirectory=`` when there was one);
- installed from an archive URL (``https://.../hidden_grader-0.1.0-py3-none-any.whl``): that URL,
  with its hash when pip recorded one;
- installed from a package index (no ``direct_url.json``): ``hidden-grader==<version>``;
- installed from a local folder or file (an editable install, a clone, a wheel on disk): a CI
  runner cannot reach it, so :class:`SpecUndecided` says so, and the caller must be given a
  spec (``grader init-repo --pip-spec``).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from grader.errors import GraderError

#: The distribution this package is installed as.
DISTRIBUTION = "hidden-grader"


class SpecUndecided(GraderError):
    """The running grader's installation says nothing a CI runner could install from."""


@dataclass(frozen=True)
class Installed:
    """How a distribution was installed: its version and its ``direct_url.json`` (if any)."""

    version: str
    direct_url: dict[str, object] | None


def installed(distribution: str = DISTRIBUTION) -> Installed | None:
    """The installation of ``distribution``, or ``None`` when it is not installed (a source
    tree run without installing).

    An installer's record (``INSTALLER``, which pip writes) wins over build metadata that
    happens to be on the path, such as a checkout's ``*.egg-info`` when the checkout is the
    working directory.
    """
    found = list(metadata.distributions(name=distribution))
    if not found:
        return None
    dist = next((d for d in found if d.read_text("INSTALLER")), found[0])
    text = dist.read_text("direct_url.json")
    try:
        direct = json.loads(text) if text else None
    except ValueError:
        direct = None
    return Installed(dist.version, direct if isinstance(direct, dict) else None)


def _without_credentials(url: str) -> str:
    """``url`` without a user name or password (pip keeps ``git@`` for ssh; that is no secret)."""
    parts = urlsplit(url)
    if parts.password is None and parts.username in (None, "git"):
        return url
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def spec_from(found: Installed | None, distribution: str = DISTRIBUTION) -> str:
    """The pip spec that installs ``found`` again, elsewhere; :class:`SpecUndecided` says why
    there is none."""
    if found is None:
        raise SpecUndecided(
            f"{distribution} is not installed (running from a source tree?), so there is no "
            "install to repeat in CI"
        )
    direct = found.direct_url
    if direct is None:
        return f"{distribution}=={found.version}"
    url = _without_credentials(str(direct.get("url", "")))
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and not url.startswith("file:"):
        revision = vcs.get("commit_id") or vcs.get("requested_revision")
        spec = f"{vcs.get('vcs', 'git')}+{url}" + (f"@{revision}" if revision else "")
        subdirectory = direct.get("subdirectory")
        return spec + (f"#subdirectory={subdirectory}" if subdirectory else "")
    archive = direct.get("archive_info")
    if isinstance(archive, dict) and url.startswith(("https:", "http:")):
        hashes = archive.get("hashes")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        return url + (f"#sha256={sha256}" if sha256 else "")
    where = unquote(urlsplit(url).path) if url.startswith("file:") else url
    how = "an editable install of" if _editable(direct) else "installed from"
    raise SpecUndecided(
        f"this grader is {how} {where}, which a CI runner cannot reach; "
        f"pass --pip-spec with what CI should install{_suggestion(where)}"
    )


def _editable(direct: dict[str, object]) -> bool:
    info = direct.get("dir_info")
    return isinstance(info, dict) and info.get("editable") is True


def _suggestion(where: str) -> str:
    """For a local Git clone: its remote pinned to its commit, as an example to pass."""
    generic = ", e.g. --pip-spec 'git+https://github.com/OWNER/REPO@COMMIT'"
    folder = Path(where)
    if not (folder / ".git").exists():
        return generic
    try:
        remote = _git(folder, "remote", "get-url", "origin")
        commit = _git(folder, "rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return generic
    if not remote.startswith(("https://", "http://", "ssh://")):
        return generic
    example = f"git+{_without_credentials(remote)}@{commit}"
    return f", e.g. --pip-spec '{example}' (once that commit is pushed)"


def _git(folder: Path, *args: str) -> str:
    """One line of ``git`` output about ``folder``."""
    proc = subprocess.run(
        ["git", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return proc.stdout.strip()


def running_grader_spec() -> str:
    """The pip spec of the grader that is running (see the module docstring)."""
    return spec_from(installed())
