"""An import file kept between its preview and the user's confirmation (台账导入).

The file itself is kept, never what the browser says it contained: the confirmation reads and
checks it again. It lies under the instance directory (``instance/imports/``, shared by every
worker process) with a random name, bound to the user who uploaded it and to that browser's
signed session; it is removed when it is applied or cancelled, when the same user uploads
another file of the same kind, and after ``PENDING_SECONDS``.

A confirmation first ``claim``s the file: renaming it is atomic, so of simultaneous confirmations
of one token exactly one applies it; the others find nothing (404). A confirmation that is refused
because the records changed ``release``s it for the new preview."""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass

from flask import current_app, session

PENDING_SECONDS = 3600
_SESSION_KEY = "gridgov_imports"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class Pending:
    token: str
    kind: str
    filename: str
    digest: str
    data: bytes


def _folder() -> str:
    folder = os.path.join(current_app.config["INSTANCE_DIR"], "imports")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def _paths(token: str) -> tuple[str, str]:
    folder = _folder()
    return os.path.join(folder, token + ".data"), os.path.join(folder, token + ".json")


def _claimed_path(token: str) -> str:
    return os.path.join(_folder(), token + ".claimed")


def claim(pending: Pending) -> bool:
    """Take the kept file for this confirmation alone: False if another request took it first (or
    it is gone)."""
    data_path, _ = _paths(pending.token)
    try:
        os.rename(data_path, _claimed_path(pending.token))
    except OSError:
        return False
    return True


def release(pending: Pending) -> None:
    """Give a claimed file back: its confirmation was refused and a new preview shows it."""
    data_path, _ = _paths(pending.token)
    try:
        os.rename(_claimed_path(pending.token), data_path)
    except OSError:
        pass


def sweep() -> None:
    """Remove every kept file older than PENDING_SECONDS."""
    folder, now = _folder(), time.time()
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if now - os.path.getmtime(path) > PENDING_SECONDS:
                os.remove(path)
        except OSError:  # another process removed it first
            pass


def keep(user_id: int, kind: str, filename: str, data: bytes, digest: str) -> str:
    """Keep the file for its confirmation; the token names it in the confirm form."""
    sweep()
    tokens = dict(session.get(_SESSION_KEY) or {})
    if tokens.get(kind):
        discard(tokens[kind])
    token = secrets.token_urlsafe(24)
    data_path, meta_path = _paths(token)
    with open(os.open(data_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
        fh.write(data)
    with open(os.open(meta_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as fh:
        json.dump({"user": user_id, "kind": kind, "filename": filename, "digest": digest}, fh)
    tokens[kind] = token
    session[_SESSION_KEY] = tokens
    return token


def find(token: str | None, user_id: int, kind: str) -> Pending | None:
    """The kept file, if ``token`` names one this user uploaded in this session for ``kind`` and it
    has not expired."""
    if not token or not _TOKEN.match(token) or (session.get(_SESSION_KEY) or {}).get(kind) != token:
        return None
    data_path, meta_path = _paths(token)
    try:
        if time.time() - os.path.getmtime(meta_path) > PENDING_SECONDS:
            discard(token)
            return None
        with open(meta_path, encoding="utf-8") as fh:
            meta = json.load(fh)
        with open(data_path, "rb") as fh:
            data = fh.read()
    except (OSError, ValueError):
        return None
    if meta.get("user") != user_id or meta.get("kind") != kind:
        return None
    return Pending(token, kind, meta.get("filename") or "", meta.get("digest") or "", data)


def confirmed_again(pending: Pending, digest: str) -> None:
    """The preview was shown anew (the records changed meanwhile): this one is what is confirmed now."""
    _, meta_path = _paths(pending.token)
    with open(meta_path, encoding="utf-8") as fh:
        meta = json.load(fh)
    meta["digest"] = digest
    with open(meta_path, "w", encoding="utf-8") as fh:
        json.dump(meta, fh)


def discard(token: str) -> None:
    if not token or not _TOKEN.match(token):
        return
    for path in (*_paths(token), _claimed_path(token)):
        try:
            os.remove(path)
        except OSError:
            pass
    tokens = dict(session.get(_SESSION_KEY) or {})
    for kind, kept in list(tokens.items()):
        if kept == token:
            del tokens[kind]
    session[_SESSION_KEY] = tokens
