"""`lambdaserve remove-model`: take a version, or a whole model, out of the repository.

Removing the last version removes the model: its function and index entries leave the
template and its events are deleted. A version that a label or the traffic policy still
names is refused, so default traffic never moves silently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lambdaserve.modelkit import events as model_events
from lambdaserve.modelkit import naming, wiring
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.modelkit.staging import Transaction
from lambdaserve.modelkit.traffic import versions_named
from lambdaserve.repository import ModelRepository


def remove_model(
    project: Project, name: str, version: str | None = None, report: Callable[[str], None] = print
) -> list[str]:
    """Remove `version` (or every version) of `name`; returns the versions removed."""
    naming.check_name(name)
    repo = ModelRepository(project.models)
    if name not in repo.names():
        raise ModelKitError(f"model {name!r} is not in the repository {project.models}")
    versions = repo.versions(name)
    if version is not None:
        version = naming.check_version(version)
        if version not in versions:
            raise ModelKitError(f"model {name!r} has no version {version}")
    whole = version is None or versions == [version]
    if not whole:
        assert version is not None
        users = _users(project.models / name, repo, name, version)
        if users:
            raise ModelKitError(
                f"version {version} of {name!r} is still named by {', '.join(users)}: "
                "point them at another version first"
            )
    template_text = project.template.read_text()
    new_template = template_text
    if whole and name in wiring.Template(template_text).model_functions():
        new_template = wiring.remove_model(template_text, name)
    with Transaction() as tx:
        scratch = tx.scratch(project.models)
        if whole:
            tx.remove_dir(project.models / name, scratch)
            for path in model_events.model_files(project.events, name, repo.names()):
                tx.remove_file(path)
        else:
            assert version is not None
            tx.remove_dir(project.models / name / version, scratch)
            _rewrite_events(tx, project, name)
        if new_template != template_text:
            tx.write_file(project.template, new_template.encode())
    removed = versions if whole else [str(version)]
    what = "model" if whole else "version"
    report(f"removed {what} {name} {', '.join(removed)}")
    return removed


def _users(directory: Path, repo: ModelRepository, name: str, version: str) -> list[str]:
    users = [f"label {k!r}" for k, v in repo.labels(name).items() if v == version]
    if version in versions_named(directory, repo.labels(name)):
        users.append("traffic.json")
    return users


def _rewrite_events(tx: Transaction, project: Project, name: str) -> None:
    """After a version leaves, the model's events are rebuilt from the rows they held."""
    repo = ModelRepository(project.models)
    feeds = model_events.stored_feeds(project.events, repo.manifest(name, repo.resolve(name)))
    model_events.replace_model_events(tx, project, repo, name, feeds)
