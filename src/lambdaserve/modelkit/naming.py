"""Names the template uses for a model: `breast_cancer` -> `BreastCancer` + `Function`.

A model's resources in the template are recognised by its CamelCase token in their
logical ids (`IrisFunction`, `IrisErrorsAlarm`, `HasIrisProvisionedConcurrency`), so
whatever other tooling adds per model is cloned and removed with it.
"""

from __future__ import annotations

import re

from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.repository import NAME_PATTERN, VERSION_PATTERN


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise ModelKitError(
            f"invalid model name {name!r}: use letters, digits, '_', '.', '-' "
            "(starting with a letter or digit, at most 128)"
        )
    if not re.search(r"[A-Za-z]", name):
        raise ModelKitError(f"invalid model name {name!r}: it needs at least one letter")
    return name


def check_version(version: str) -> str:
    if not VERSION_PATTERN.fullmatch(version):
        raise ModelKitError(f"invalid version {version!r}: versions are whole numbers")
    return str(int(version))


def token(name: str) -> str:
    """The model's CamelCase token: `breast_cancer` -> `BreastCancer`, `gpt-2.v1` -> `Gpt2V1`."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", name) if p]
    text = "".join(p[:1].upper() + p[1:] for p in parts)
    if not text[:1].isalpha():
        text = "Model" + text
    return text


def function_id(name: str) -> str:
    return token(name) + "Function"


def token_pattern(camel: str) -> re.Pattern[str]:
    """`camel` as a whole CamelCase word: `Iris` in `HasIrisAlarm`, not in `Irises`/`XIris`."""
    return re.compile(rf"(?<![A-Z]){re.escape(camel)}(?![a-z0-9])")


def name_pattern(name: str) -> re.Pattern[str]:
    """`name` as a path segment or a whole value: `iris` in `/models/iris/{proxy+}`."""
    return re.compile(rf"(?<![A-Za-z0-9_.-]){re.escape(name)}(?![A-Za-z0-9_-])")
