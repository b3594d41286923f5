"""Writing outputs that hold clinical data: whole or not at all, private, never mixed.

- A results file (`atomic_file`) is written to an anonymous file in its folder
  (Linux O_TMPFILE: it has no name, so a crash, a SIGKILL or a power cut leaves
  nothing behind) and given its name only when complete, replacing any older file in
  one step. Where O_TMPFILE is missing, a named temporary file is used and removed on
  any error; one left by a killed process is removed by the next run that writes
  beside it (`remove_stale`).
- A set of files (`write_file_set`, the files of one assessment) is written into a
  temporary folder beside the target and swapped in as a whole: readers see the old
  set or the new one, never a mixture, and files of an older decision do not survive.
- Outputs are created 0600 (folders 0700): they hold a patient's findings, so only
  the owner may read them; share them deliberately (chmod, or copy).
- A target that is not a regular file (a device such as /dev/null, a FIFO, a symlink
  to one of them, or `-` for standard output) is written through, never replaced.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
import stat
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".pumpdx-tmp"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def is_stream(path: Path | str) -> bool:
    """`-` or an existing target that is not a regular file or folder (a device, a FIFO,
    a socket, or a symlink to one): written through, never replaced."""
    if str(path) == "-":
        return True
    try:
        mode = os.stat(path).st_mode  # follows symlinks: /dev/stdout -> /proc/self/fd/1
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _temp_name(path: Path) -> Path:
    """A name beside `path` that holds this process's id (see remove_stale)."""
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(path: Path) -> None:
    """Remove temporary files or folders for `path` left by a process that was killed
    (their name holds its pid; those of a live process are left alone)."""
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return
    prefix = f".{path.name}."
    for entry in siblings:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
            continue
        pid = name[len(prefix):-len(TEMP_SUFFIX)].split(".")[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _anonymous_file(folder: Path) -> int | None:
    """A file descriptor of a nameless file in `folder`, or None where unsupported."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        return os.open(folder, flag | os.O_WRONLY, FILE_MODE)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
            return None
        raise


def _link_anonymous(fd: int, target: Path) -> None:
    """linkat(/proc/self/fd/N, target, AT_SYMLINK_FOLLOW); a dir_fd makes Python call
    linkat (with the default it calls link(), which would not follow the fd link)."""
    fds = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(fd), target, src_dir_fd=fds, follow_symlinks=True)
    finally:
        os.close(fds)


@contextlib.contextmanager
def atomic_file(path: Path, mode: int = FILE_MODE) -> Iterator[BinaryIO]:
    """A handle whose content appears at `path` (0600 unless `mode` says otherwise)
    only when the block ends without error; an older file stays as it was until then."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    named = _temp_name(path)
    fd = _anonymous_file(path.parent)
    anonymous = fd is not None
    if fd is None:
        fd = os.open(named, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    linked = not anonymous
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
            if anonymous:
                # give the nameless file a name, then the final one in one step
                _link_anonymous(handle.fileno(), named)
                linked = True
        os.replace(named, path)
        linked = False
    finally:
        if linked:
            named.unlink(missing_ok=True)


@contextlib.contextmanager
def output_stream(path: Path | str) -> Iterator[BinaryIO]:
    """Where results go: standard output for `-`, the target itself when it is a device
    or a FIFO (written through), else an atomic_file."""
    if str(path) == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    elif is_stream(path):
        with open(path, "wb") as handle:
            yield handle
    else:
        with atomic_file(Path(path)) as handle:
            yield handle


# -- a set of files -------------------------------------------------------------------
_RENAME_EXCHANGE = 2


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the
    system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second),
                       _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def write_file_set(folder: Path, files: Mapping[str, str | bytes],
                   replaceable: frozenset[str] | None = None) -> None:
    """Write `files` (name -> content) as the whole content of `folder`.

    The files are written into a temporary folder beside it, then swapped in as a
    whole; an existing `folder` holding only names in `replaceable` (the outputs of an
    earlier run) is replaced, files and all. Raises FileExistsError when `folder`
    holds anything else (it is not ours to delete), OSError when writing fails (then
    nothing has changed).
    """
    folder = Path(os.path.abspath(folder))
    folder.parent.mkdir(parents=True, exist_ok=True)
    allowed = replaceable if replaceable is not None else frozenset(files)
    if folder.exists() or folder.is_symlink():
        if folder.is_symlink() or not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in allowed
                         or not p.is_file() or p.is_symlink())
        if foreign:
            raise FileExistsError(errno.EEXIST, "holds files that are not outputs of an "
                                  f"assessment ({', '.join(foreign[:3])}); give a new or "
                                  "empty folder", str(folder))
    remove_stale(folder)
    staging = _temp_name(folder)
    os.mkdir(staging, FOLDER_MODE)
    try:
        for name, data in files.items():
            fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
                handle.flush()
                os.fsync(handle.fileno())
        if not folder.exists():
            os.rename(staging, folder)
        elif not _exchange(staging, folder):
            # no atomic swap here: the old set is moved aside, the new one put in place
            old = folder.parent / f".{folder.name}.{os.getpid()}.old{TEMP_SUFFIX}"
            os.rename(folder, old)
            os.rename(staging, folder)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
