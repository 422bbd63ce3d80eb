"""Messages grouped by (model, concrete version): each group is scored in one model call.

A version field may name a version or a label; both resolve to the concrete version, so
`"version": "stable"` and `"version": "1"` land in the same group when they are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import ModelNotFound
from lambdaserve.repository import ModelManifest


@dataclass(slots=True)  # not frozen: a frozen dataclass costs ~1 us to build, per message
class Member:
    """One message's share of a group: where it sits in the event, its rows, its id."""

    index: int
    message_id: str
    caller_id: str | None
    rows: list[Any]  # JSON rows in the model's feature order, checked as a group's block
    single: bool


@dataclass(slots=True)
class Group:
    model: str
    version: str
    members: list[Member] = field(default_factory=list)


class Resolver:
    """Concrete versions (and their manifests) for (model, version-or-label), asked once per
    pair per invocation: a batch usually names a handful of models for many messages."""

    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane
        self._known: dict[tuple[str, str | None], tuple[str, ModelManifest]] = {}

    def __call__(self, model: str, version: str | None) -> str:
        return self.target(model, version)[0]

    def target(self, model: str, version: str | None) -> tuple[str, ModelManifest]:
        key = (model, version)
        found = self._known.get(key)
        if found is None:
            if version is None or version in self.plane.versions(model):
                concrete = self.plane.resolve(model, version)
            elif version in self.plane.labels(model):
                concrete = self.plane.resolve(model, label=version)
            else:
                raise ModelNotFound(f"model {model!r} has no version or label {version!r}")
            found = self._known[key] = (concrete, self.plane.manifest(model, concrete))
        return found


class Groups:
    """Members added in event order; groups kept in order of their first member."""

    def __init__(self, resolver: Resolver | None = None) -> None:
        self._groups: dict[tuple[str, str], Group] = {}
        self._resolver = resolver
        # (model, version or label as the message named it) -> its group and manifest
        self._named: dict[tuple[str, str | None], tuple[Group, ModelManifest]] = {}

    def add(self, model: str, version: str, member: Member) -> None:
        self._group(model, version).members.append(member)

    def slot(self, model: str, version: str | None) -> tuple[Group, ModelManifest]:
        """The group a message naming `version` (a version, a label or None) joins, resolved
        once per name: the per-message path is one dict lookup."""
        key = (model, version)
        found = self._named.get(key)
        if found is None:
            if self._resolver is None:
                raise RuntimeError("Groups.slot needs a Resolver")
            concrete, manifest = self._resolver.target(model, version)
            found = self._named[key] = (self._group(model, concrete), manifest)
        return found

    def _group(self, model: str, version: str) -> Group:
        key = (model, version)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(model, version)
        return group

    def __iter__(self) -> Iterator[Group]:
        return iter(self._groups.values())

    def __len__(self) -> int:
        return len(self._groups)
