"""Trust for kept source: the one place where text from a project file becomes code.

Modelled on Jupyter's notebook trust. When import keeps a class as source, it signs what
will become code (the class name, the source and its imports) with an HMAC keyed by a secret
that never leaves this machine: ``<config folder>/trust.key``, made on first use. A kept
source whose signature does not match (the file came from someone else, or was edited by
hand) is untrusted: ``validate`` reports it, ``generate`` refuses it unless told otherwise,
and the app asks before trusting it. Trusting after review signs it again with this key.

Nothing here runs the source: signing and checking read its text only. Whatever the trust,
a kept source may import only the modules of ``ALLOWED_IMPORTS``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

from graph_schema.document import Block, OpaqueClass, Project

# Top-level modules a kept source may import from (their submodules too): torch, and the
# parts of the standard library that only compute. Nothing that reaches files, processes or
# the network.
ALLOWED_IMPORTS = ("torch", "math", "typing", "collections", "functools", "itertools",
                   "dataclasses")
SCHEME = "hmac-sha256"
KEY_FILE = "trust.key"
KEY_BYTES = 32
CONFIG_ENV = "TORCHCANVAS_CONFIG_DIR"  # overrides the folder (tests, portable installs)


class TrustError(Exception):
    """The trust key cannot be read or made; the message says where and why."""


def import_allowed(module: str) -> bool:
    return module.split(".")[0] in ALLOWED_IMPORTS


def allowed_text() -> str:
    """``torch, math, ... and dataclasses``, for messages."""
    return f"{', '.join(ALLOWED_IMPORTS[:-1])} and {ALLOWED_IMPORTS[-1]}"


def disallowed_imports(opaque: OpaqueClass) -> list[str]:
    return [item.module for item in opaque.imports if not import_allowed(item.module)]


# -- the key -----------------------------------------------------------------------------
def config_dir() -> Path:
    """The user's TorchCanvas config folder (XDG on Linux, the platform's own elsewhere)."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "TorchCanvas"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "TorchCanvas"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "torchcanvas"


def key_path() -> Path:
    return config_dir() / KEY_FILE


_cache: dict[tuple, bytes] = {}  # (path, mtime, size) -> key: validate runs on every edit


def read_key() -> bytes | None:
    """This machine's key, or None when none was made yet (then nothing is trusted)."""
    path = key_path()
    try:
        stat = path.stat()
        stamp = (str(path), stat.st_mtime_ns, stat.st_size)
        if stamp in _cache:
            return _cache[stamp]
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise TrustError(f"cannot read the trust key {path}: {err.strerror or err}") from None
    if len(key) < KEY_BYTES:
        raise TrustError(f"the trust key {path} is damaged (shorter than {KEY_BYTES} bytes); "
                         f"remove it to make a new one (kept sources signed with it will "
                         f"need trusting again)")
    _cache.clear()
    _cache[stamp] = key
    return key


def key(create: bool = False) -> bytes | None:
    """The key; with ``create``, made on first use (readable by this user alone)."""
    found = read_key()
    if found is not None or not create:
        return found
    return _make_key(key_path())


def _make_key(path: Path) -> bytes:
    """Write a fresh key to a private temporary file, then link it into place: two processes
    making it at once agree on one key, and a kill midway leaves no half-written key."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".trust.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(KEY_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError as err:
        raise TrustError(f"cannot make the trust key {path}: {err.strerror or err}") from None
    return read_key() or b""


# -- signatures --------------------------------------------------------------------------
def _signed_text(opaque: OpaqueClass) -> bytes:
    """Everything of a kept class that becomes code, in one canonical form."""
    content = {"class_name": opaque.class_name, "source": opaque.source,
               "imports": [[i.module, i.attribute, i.alias] for i in opaque.imports]}
    return json.dumps(content, sort_keys=True, ensure_ascii=True).encode("ascii")


def signature_of(opaque: OpaqueClass, secret: bytes) -> str:
    digest = hmac.new(secret, _signed_text(opaque), hashlib.sha256).hexdigest()
    return f"{SCHEME}:{digest}"


def is_trusted(opaque: OpaqueClass, secret: bytes | None) -> bool:
    if secret is None or not opaque.signature:
        return False
    return hmac.compare_digest(opaque.signature, signature_of(opaque, secret))


def kept_blocks(project: Project) -> list[Block]:
    return [block for block in project.blocks if block.opaque is not None]


def untrusted_blocks(project: Project, secret: bytes | None = None) -> list[Block]:
    """The kept-source blocks this machine's key did not sign (as they are now)."""
    blocks = kept_blocks(project)
    if not blocks:
        return []
    secret = read_key() if secret is None else secret
    return [block for block in blocks if not is_trusted(block.opaque, secret)]


def signed(opaque: OpaqueClass) -> OpaqueClass:
    """A copy of ``opaque`` signed with this machine's key (made if need be)."""
    secret = key(create=True)
    return opaque.model_copy(update={"signature": signature_of(opaque, secret)})


def trust_blocks(project: Project, names: list[str] | None = None) -> Project:
    """A copy of the project with these kept-source blocks (default: all) signed. Refuses a
    block whose imports are not allowed: trust cannot make those importable."""
    chosen = [b for b in kept_blocks(project) if names is None or b.name in names]
    for block in chosen:
        bad = disallowed_imports(block.opaque)
        if bad:
            raise TrustError(f"block '{block.name}' imports {', '.join(sorted(set(bad)))}; "
                             f"kept source may import only {allowed_text()}, trusted or not")
    signed_by_name = {b.name: b.model_copy(update={"opaque": signed(b.opaque)})
                      for b in chosen}
    blocks = [signed_by_name.get(b.name, b) for b in project.blocks]
    return project.model_copy(update={"blocks": blocks})
