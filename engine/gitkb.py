"""The knowledge base of a git revision, for `pumpdx kb diff --base REF`.

`kb_at_revision` extracts the KB folder as it was at REF (`git archive`) into a
folder the caller owns; nothing in the working copy or the index is touched. The
rules of that revision are loaded and compiled by the code of the working copy.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

GIT_TIMEOUT_S = 120


class GitError(Exception):
    """A git command failed; str() is one line naming what to do."""


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {GIT_TIMEOUT_S} s") from None
    if done.returncode != 0:
        message = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["failed"])
        raise GitError(f"git {args[0]}: {message[-1]}")
    return done.stdout


def resolve(ref: str, kb_dir: Path) -> str:
    """The commit id of `ref` in the repository that holds `kb_dir`."""
    if not ref or ref.startswith("-") or any(c.isspace() for c in ref):
        raise GitError(f"'{ref}' is not a git revision")
    try:
        return _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                    kb_dir).decode().strip()
    except GitError:
        raise GitError(f"'{ref}' is not a revision of the repository at {kb_dir} "
                       "(a branch, tag, commit or HEAD~1)") from None


def merge_base(kb_dir: Path, branches: tuple[str, ...] = ("main", "origin/main")) -> str:
    """The merge base of HEAD with main (or origin/main): the default --base."""
    for branch in branches:
        try:
            commit = resolve(branch, kb_dir)
        except GitError:
            continue
        return _git(["merge-base", "HEAD", commit], kb_dir).decode().strip()
    raise GitError("no branch main or origin/main to take the merge base with; give --base REF")


def kb_at_revision(ref: str, kb_dir: Path, dest: Path) -> Path:
    """Extract the KB folder `kb_dir` as it was at `ref` into `dest`; its path there."""
    kb_dir = kb_dir.resolve()
    top = Path(_git(["rev-parse", "--show-toplevel"], kb_dir).decode().strip())
    commit = resolve(ref, kb_dir)
    prefix = _git(["rev-parse", "--show-prefix"], kb_dir).decode().strip()
    if not prefix:
        raise GitError(f"{kb_dir} is the repository's root; the KB must be a folder in it")
    data = _git(["archive", "--format=tar", commit, "--", prefix.rstrip("/")], top)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(dest, filter="data")
    root = dest / prefix
    if not (root / "rules").is_dir():
        raise GitError(f"{prefix.rstrip('/')} has no rules/ folder at {ref}")
    return root
