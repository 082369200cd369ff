"""Everything gridgov keeps between requests, in one place (created in ``extensions.py``).

What is kept, each in a named region with a bound on its size (least recently used goes first):

- made of rows that change: the signed-in users and their permissions, and drop-downs of
  categories, departments or points rules. Such a region *follows* one of the two version
  counters of migrations 0009 and 0012 (``auth`` or ``reference``), which every change to
  those rows moves in any process; the request reads both numbers once, with its user
  (``set_versions``), and a region filled under other numbers starts again empty.
- made of code, language and permissions only: the menu bar, the page frame, translated
  labels, search fields and the statement that reads one record for a scope. These never go
  stale within a process.

Within one request, ``per_request`` keeps what its pages ask for again and again (the user's
scope, the message catalogue). ``clear()`` drops everything (a test that recreates the
database sets the version counters back)."""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import g, has_app_context

# The version counters a region may follow, in the order ``set_versions`` takes them.
AUTH, REFERENCE = "auth", "reference"
_COUNTERS = (AUTH, REFERENCE)


class Region:
    """One kind of kept thing: at most ``most`` entries, the least recently used dropped first;
    safe to use from several threads."""

    def __init__(self, name: str, most: int, follows: tuple = ()):
        self.name, self.most, self.follows = name, most, follows
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._versions = None  # the numbers of ``follows`` the entries were made under

    def get(self, key, make, versions=None):
        """The entry under ``key``, made by ``make()`` when missing. A region that follows
        counters takes their current numbers (``versions``) and starts again when they moved."""
        with self._lock:
            if self.follows and versions != self._versions:
                self._entries.clear()
                self._versions = versions
            found = self._entries.get(key, _MISSING)
            if found is not _MISSING:
                self._entries.move_to_end(key)
                return found
        value = make()
        with self._lock:
            if not self.follows or versions == self._versions:
                self._entries[key] = value
                while len(self._entries) > self.most:
                    self._entries.popitem(last=False)
        return value

    def set(self, key, value) -> None:
        """Keep ``value`` under ``key`` in place of what was there (a region that follows no
        counters)."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.most:
                self._entries.popitem(last=False)

    def items(self) -> list:
        with self._lock:
            return list(self._entries.items())

    def __contains__(self, key) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._versions = None


_MISSING = object()


class Cache:
    """The regions of what is kept between requests, and the request's version numbers."""

    def __init__(self):
        self._regions: dict[str, Region] = {}
        self._lock = threading.Lock()
        self._made_of_rows = self.region("made of rows", 5000, follows=_COUNTERS)

    def region(self, name: str, most: int, follows: tuple = ()) -> Region:
        """The region ``name``, made on first use (a module asks for its region once, at import)."""
        with self._lock:
            region = self._regions.get(name)
            if region is None:
                region = self._regions[name] = Region(name, most, tuple(follows))
            return region

    # --- the version counters --------------------------------------------------------------
    @staticmethod
    def set_versions(auth: int, reference: int) -> None:
        """The request's numbers of the two counters, read once with its user."""
        g.gridgov_versions = {AUTH: auth, REFERENCE: reference}

    @staticmethod
    def versions() -> dict | None:
        """The request's numbers, or None outside a request or before its user was read."""
        return g.get("gridgov_versions") if has_app_context() else None

    def get(self, region: Region, key, make):
        """``region``'s entry under ``key``. A region that follows counters is used only when
        the request has read them; without them its entry is made afresh and not kept."""
        if not region.follows:
            return region.get(key, make)
        numbers = self.versions()
        if numbers is None:
            return make()
        return region.get(key, make, tuple(numbers[name] for name in region.follows))

    def get_at(self, region: Region, versions: tuple, key, make):
        """``region``'s entry under ``key`` at the counters' numbers ``versions`` (the security
        manager, which reads the numbers, keeps its users this way)."""
        return region.get(key, make, versions)

    def until_changed(self, key, make):
        """``make()``, kept under ``key`` until accounts, grid paths, categories, departments or
        points rules change (both counters): for what is made of those rows only."""
        return self.get(self._made_of_rows, key, make)

    # --- within one request ----------------------------------------------------------------
    @staticmethod
    def per_request(name: str, make):
        """``make()``, kept for the rest of the request under ``name``."""
        if not has_app_context():
            return make()
        memo = g.setdefault("gridgov_memo", {})
        if name not in memo:
            memo[name] = make()
        return memo[name]

    @staticmethod
    def keep_in_request(name: str, value) -> None:
        """Keep ``value`` under ``name`` for the rest of the request (what one part of the
        request learnt and another asks for: the security manager's signed-in user)."""
        g.setdefault("gridgov_memo", {})[name] = value

    @staticmethod
    def in_request(name: str, default=None):
        """What the request keeps under ``name``, or ``default``."""
        return g.get("gridgov_memo", {}).get(name, default) if has_app_context() else default

    def clear(self) -> None:
        """Drop everything kept between requests."""
        with self._lock:
            regions = list(self._regions.values())
        for region in regions:
            region.clear()
