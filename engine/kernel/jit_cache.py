"""numba's cache for the trade kernel: where it lives, and a word before the first compile.

The kernel is compiled once (~10 s of CPU) and numba keeps the machine
code on disk (`cache=True`); later processes load it in a fraction of a second.

1. Where (`configure`, run by engine/kernel/__init__.py before any kernel module
   imports numba, because numba reads NUMBA_CACHE_DIR when it is imported):
   a NUMBA_CACHE_DIR the user set is kept. Otherwise numba's default — a
   `__pycache__` beside the source — is used only when that source directory
   belongs to the current user and is writable; a read-only install, or an
   editable install another user runs, gets `<user cache>/numba` instead
   (`dsl.cache_dir.user_cache_dir`), never a write into someone else's tree.
2. Saying so (`announce_compile`): when the entry points have no machine code
   for the current source yet, one line on stderr before numba starts, so a
   first run does not look hung. Silent when the cache is warm.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from dsl.cache_dir import user_cache_dir

__all__ = ["COMPILE_MESSAGE", "announce_compile", "cache_dir_for", "configure", "kernel_compiled"]

# measured (benchmarks/bench_kernel_load.py --cold): ~9 s of CPU; 35-70 s of wall time on a busy 2-core machine
COMPILE_MESSAGE = ("compiling the trade kernel, once: ~10 s, up to a minute on a busy machine "
                   "(later runs load it from numba's cache in {where})")

_SOURCE_DIR = Path(__file__).resolve().parent
_announced = False


def _usable(path: Path, uid: int | None) -> bool:
    """The directory exists, belongs to `uid` (when the platform has owners) and is writable."""
    try:
        st = path.stat()
    except OSError:
        return False
    if uid is not None and st.st_uid != uid:
        return False
    return os.access(path, os.W_OK)


def cache_dir_for(source: Path, environ: Mapping[str, str], uid: int | None) -> Path | None:
    """The NUMBA_CACHE_DIR to use for kernel code in `source`, or None for numba's in-tree default."""
    if environ.get("NUMBA_CACHE_DIR"):
        return Path(environ["NUMBA_CACHE_DIR"])
    pycache = source / "__pycache__"
    if _usable(source, uid) and (not pycache.exists() or _usable(pycache, uid)):
        return None
    return user_cache_dir() / "numba"


def configure() -> None:
    """Point numba at the cache directory `cache_dir_for` chooses (step 1 of the module docstring)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    target = cache_dir_for(_SOURCE_DIR, os.environ, os.getuid() if hasattr(os, "getuid") else None)
    if target is None:
        return
    os.environ["NUMBA_CACHE_DIR"] = str(target)
    if "numba" in sys.modules:  # imported before the kernel package: make numba read the variable again
        from numba.core import config
        config.reload_config()  # type: ignore[no-untyped-call]  # numba's config module is unannotated


def kernel_compiled() -> bool:
    """True when every kernel entry point has machine code for the current source, in this
    process or in numba's cache. When numba's cache cannot be inspected, True (say nothing)."""
    from engine.kernel._step import ENTRY_POINTS
    for dispatcher in ENTRY_POINTS:
        if dispatcher.overloads:
            continue
        cache: Any = getattr(dispatcher, "_cache", None)  # numba's FunctionCache (private, hence guarded)
        try:  # its index holds the overloads cached for this source stamp; {} when none or stale
            index = cache._cache_file._load_index()
        except (AttributeError, OSError):
            return True
        if not index:
            return False
    return True


def announce_compile(stream: TextIO | None = None) -> bool:
    """Print COMPILE_MESSAGE once per process when the kernel must be compiled first; True if printed.

    `simulate` and `Stepper` call it; a command may call it earlier (before a progress bar).
    """
    global _announced
    if _announced:   # said it, or found the kernel compiled: never look again (an optimizer calls often)
        return False
    _announced = True
    if kernel_compiled():
        return False
    where = os.environ.get("NUMBA_CACHE_DIR") or str(_SOURCE_DIR / "__pycache__")
    print(COMPILE_MESSAGE.format(where=where), file=stream or sys.stderr, flush=True)
    return True
