"""Wire a model into template.yaml, or out of it, keeping every other byte as it was.

ruamel.yaml reads the template (structure and line numbers); the edits are spliced into
the original text: a whole-file ruamel round-trip would rewrite flow mappings and drop a
comment of ours. A new model copies an existing model's block (routes, memory, and
whatever else that model has: alias, alarms, per-model parameters and conditions, found
by the model's CamelCase token in their logical ids), and joins every model map (the index's
forwarding, the PreTraffic hook's replays) and its invoke policies, copied from the same
model's entries.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lambdaserve.model_store import DEFAULT_PREFIX as STORE_PREFIX
from lambdaserve.modelkit import naming
from lambdaserve.modelkit.errors import ModelKitError

FUNCTION = "AWS::Serverless::Function"
MODEL_ENV = "MODEL_NAME"
INDEX_ENV = "LAMBDASERVE_MODEL_FUNCTIONS"
SECTIONS = ("Parameters", "Conditions", "Rules", "Resources", "Outputs")
MODEL_ROUTES = (
    ("GET", "/models/{m}"),
    ("ANY", "/models/{m}/{proxy+}"),
    ("GET", "/v1/models/{m}"),
    ("ANY", "/v1/models/{m}/{proxy+}"),
    ("GET", "/v2/models/{m}"),
    ("ANY", "/v2/models/{m}/{proxy+}"),
)


STORE_ENV = "LAMBDASERVE_MODEL_BUCKET"
STORE_BUCKET = "ModelStoreBucket"
STORE_SNAPSTART_MB = 512


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _text(value: Any) -> str | None:
    """The string inside a scalar, tagged (`!Ref X`) or not."""
    from ruamel.yaml.comments import TaggedScalar

    if isinstance(value, TaggedScalar):
        return str(value.value)
    return value if isinstance(value, str) else None


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    else:
        text = _text(node)
        if text is not None:
            yield text


class Tokens:
    """One model's CamelCase token, blind to longer tokens of other models (Iris vs IrisV2)."""

    def __init__(self, camel: str, all_camels: set[str]) -> None:
        self.camel = camel
        self.pattern = naming.token_pattern(camel)
        longer = [c for c in all_camels if c != camel and self.pattern.search(c)]
        self.longer = (
            re.compile("|".join(naming.token_pattern(c).pattern for c in longer))
            if longer
            else None
        )

    def _pieces(self, text: str) -> list[str]:
        """`text` split so that odd pieces are other models' longer tokens."""
        if self.longer is None:
            return [text]
        pieces, last = [], 0
        for match in self.longer.finditer(text):
            pieces += [text[last : match.start()], match.group(0)]
            last = match.end()
        return [*pieces, text[last:]]

    def found(self, text: str) -> bool:
        return any(self.pattern.search(p) for p in self._pieces(text)[::2])

    def replace(self, text: str, new: str) -> str:
        pieces = self._pieces(text)
        return "".join(self.pattern.sub(new, p) if i % 2 == 0 else p for i, p in enumerate(pieces))


def _blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


@dataclass
class Template:
    """The template's text plus its ruamel tree; edits are queued, applied bottom-up."""

    text: str

    def __post_init__(self) -> None:
        from ruamel.yaml.error import YAMLError

        try:
            self.doc = _yaml().load(self.text)
        except YAMLError as exc:
            raise ModelKitError(f"template does not parse: {' '.join(str(exc).split())}") from None
        if not isinstance(self.doc, dict) or not isinstance(self.doc.get("Resources"), dict):
            raise ModelKitError("template is not a SAM template: no Resources mapping")
        self.lines = self.text.splitlines(keepends=True)
        self._edits: list[tuple[int, int, list[str]]] = []  # (start, stop, new lines)

    # -- what the template holds
    def model_functions(self) -> dict[str, str]:
        """Model name -> logical id of the function serving it."""
        found: dict[str, str] = {}
        for logical_id, resource in self.doc["Resources"].items():
            name = _text(self._variables(resource).get(MODEL_ENV))
            if name:
                found[name] = str(logical_id)
        return found

    def index_functions(self) -> list[str]:
        """Functions that carry a model -> function map (the index's forwarding, the canary
        PreTraffic hook's replays): each gains and loses a model's entry with its function."""
        return [
            str(logical_id)
            for logical_id, resource in self.doc["Resources"].items()
            if INDEX_ENV in self._variables(resource)
        ]

    def index_map(self, index: str) -> dict[str, str]:
        """A function's model map as written: model name -> `${IrisFunction}` etc."""
        raw = _text(self._variables(self.doc["Resources"][index])[INDEX_ENV]) or "{}"
        try:
            mapping = json.loads(raw)
        except ValueError:
            raise ModelKitError(f"{index}: {INDEX_ENV} is not a JSON object") from None
        if not isinstance(mapping, dict):
            raise ModelKitError(f"{index}: {INDEX_ENV} is not a JSON object")
        return {str(k): str(v) for k, v in mapping.items()}

    @staticmethod
    def _variables(resource: Any) -> dict[str, Any]:
        if not isinstance(resource, dict) or resource.get("Type") != FUNCTION:
            return {}
        props = resource.get("Properties") or {}
        variables = (props.get("Environment") or {}).get("Variables") or {}
        return variables if isinstance(variables, dict) else {}

    def routes(self, logical_id: str) -> set[tuple[str, str]]:
        """(method, path) of every HttpApi event of a function, as written."""
        props = self.doc["Resources"][logical_id].get("Properties") or {}
        found = set()
        for event in (props.get("Events") or {}).values():
            if isinstance(event, dict) and event.get("Type") == "HttpApi":
                p = event.get("Properties") or {}
                found.add((str(_text(p.get("Method")) or "ANY").upper(), str(_text(p.get("Path")))))
        return found

    def owned(self, section: str, camel: str) -> list[str]:
        """Logical ids in a section that belong to the model with this CamelCase token."""
        entries = self.doc.get(section)
        if not isinstance(entries, dict):
            return []
        camels = {naming.token(n) for n in self.model_functions()} | {camel}
        owned = []
        for key in entries:
            matches = [c for c in camels if naming.token_pattern(c).search(str(key))]
            if matches and max(matches, key=len) == camel:
                owned.append(str(key))
        return owned

    def references(self, ids: list[str], skip: set[str]) -> list[str]:
        """Where the template still names any of `ids` (as `place (id)`), outside `skip`."""
        patterns = {i: re.compile(rf"(?<![A-Za-z0-9]){re.escape(i)}(?![A-Za-z0-9])") for i in ids}
        places = []
        for section in SECTIONS:
            for key, value in (self.doc.get(section) or {}).items():
                if str(key) in skip:
                    continue
                texts = list(_strings(value))
                named = [i for i, p in patterns.items() if any(p.search(t) for t in texts)]
                if named:
                    places.append(f"{section}.{key} ({', '.join(named)})")
        return places

    # -- line spans
    def _section_stop(self, section: str) -> int:
        keys = list(self.doc.keys())
        after = keys[keys.index(section) + 1 :]
        return self.doc.lc.key(after[0])[0] if after else len(self.lines)

    def _trim(self, start: int, stop: int) -> int:
        while stop > start + 1 and _blank_or_comment(self.lines[stop - 1]):
            stop -= 1
        return stop

    def entry_span(self, section: str, key: str) -> tuple[int, int]:
        """Lines of one entry of a top-level section, without trailing blanks/comments."""
        entries = self.doc[section]
        keys = list(entries.keys())
        start = entries.lc.key(key)[0]
        following = keys[keys.index(key) + 1 :]
        stop = entries.lc.key(following[0])[0] if following else self._section_stop(section)
        return start, self._trim(start, stop)

    def _item_spans(self, seq: Any, stop: int) -> list[tuple[int, int]]:
        starts = [seq.lc.item(i)[0] for i in range(len(seq))]
        ends = [*starts[1:], stop]
        return [(s, self._trim(s, e)) for s, e in zip(starts, ends, strict=True)]

    # -- edits
    def replace(self, start: int, stop: int, new: list[str]) -> None:
        self._edits.append((start, stop, new))

    def result(self) -> str:
        lines = list(self.lines)
        for start, stop, new in sorted(self._edits, key=lambda e: (e[0], e[1]), reverse=True):
            lines[start:stop] = new
        return "".join(lines)

    def dump(self, node: Any, indent: int) -> list[str]:
        """`node` as block text at `indent`, without full-line comments it carried along."""
        stream = io.StringIO()
        _yaml().dump(node, stream)
        lines = [ln for ln in stream.getvalue().splitlines(keepends=True) if ln.strip()]
        lines = [ln for ln in lines if not ln.lstrip().startswith("#")]
        margin = min(len(ln) - len(ln.lstrip(" ")) for ln in lines)
        return [" " * indent + ln[margin:] for ln in lines]


def _rename(node: Any, ids: Tokens, new_camel: str, old_name: str, new_name: str) -> Any:
    """A deep copy of `node` with ids and model-name values moved to the new model."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

    # The model's name as a word of a longer value (an SSM parameter path in a !Sub, an
    # alarm's description): never inside another name (iris in iris_v2 or irises).
    word = re.compile(rf"(?<![\w.-]){re.escape(old_name)}(?![\w-])")

    def text(value: str) -> str:
        value = ids.replace(value, new_camel)
        if value == old_name:
            return new_name
        if value.startswith("/"):  # an API path: rename whole segments only
            parts = re.split(r"([/:])", value)
            return "".join(new_name if p == old_name else p for p in parts)
        return word.sub(lambda _: new_name, value)

    def walk(value: Any) -> Any:
        if isinstance(value, CommentedMap):
            for position, key in enumerate(list(value.keys())):
                new_key = text(key) if isinstance(key, str) else key
                if new_key == key:
                    value[key] = walk(value[key])
                else:  # rename in place: flow style and order stay
                    value.insert(position, new_key, walk(value.pop(key)))
            return value
        if isinstance(value, CommentedSeq):
            for i, item in enumerate(value):
                value[i] = walk(item)
            return value
        if isinstance(value, TaggedScalar):
            value.value = text(str(value.value))
            return value
        if isinstance(value, str):
            return type(value)(text(value)) if type(value) is not str else text(value)
        return value

    return walk(copy.deepcopy(node))


def _mapping(key: str, value: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap

    wrapper = CommentedMap()
    wrapper[key] = value
    return wrapper


def _sequence(item: Any) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    return CommentedSeq([item])


def add_model(
    text: str, name: str, memory: int | None, description: str, s3_storage_mb: int | None = None
) -> str:
    """The template with a function (and its companions) for `name`, copied from a model.

    `s3_storage_mb`: the model is kept in the model store bucket; its function gets the
    bucket, a read permission on its own prefix only, and that much ephemeral storage.
    """
    tpl = Template(text)
    functions = tpl.model_functions()
    new_id = naming.function_id(name)
    if name in functions:
        raise ModelKitError(f"template already has {functions[name]} serving model {name!r}")
    new_camel = naming.token(name)
    new_tokens = Tokens(new_camel, {naming.token(n) for n in functions})
    for section in SECTIONS:
        taken = [k for k in (tpl.doc.get(section) or {}) if new_tokens.found(str(k))]
        if taken:
            raise ModelKitError(
                f"model name {name!r} would reuse logical ids already in the template "
                f"({', '.join(map(str, taken[:3]))}): pick another name"
            )
    if not functions:
        raise ModelKitError(
            "the template has no model function to copy (a function with MODEL_NAME)"
        )
    old_name, old_id = next(iter(functions.items()))
    old_camel = naming.token(old_name)
    if old_id != naming.function_id(old_name):
        old_camel = old_id.removesuffix("Function")
    tokens = Tokens(old_camel, {naming.token(n) for n in functions})
    for section in SECTIONS:
        owned = tpl.owned(section, old_camel)
        if not owned:
            continue
        entries = tpl.doc[section]
        # After the last entry of any model; spaced like that entry from the one before it.
        models = [k for n in functions for k in tpl.owned(section, naming.token(n))]
        anchor = max(models or owned, key=lambda k: tpl.entry_span(section, k)[0])
        start = tpl.entry_span(section, anchor)[0]
        gap = ["\n"] if start > 0 and not tpl.lines[start - 1].strip() else []
        if section == "Resources":
            # Keep the copied companions (alarms ...) after the new function, in order.
            owned = [old_id, *[o for o in owned if o != old_id]]
        block: list[str] = []
        for key in owned:
            clone = _rename(_mapping(key, entries[key]), tokens, new_camel, old_name, name)
            (new_key,) = clone.keys()
            if key == old_id:
                _set_function(clone[new_key], name, memory, description)
                if s3_storage_mb is not None:
                    _read_from_store(clone[new_key]["Properties"], name, s3_storage_mb)
            column = entries.lc.key(key)[1]
            block += [*gap, *tpl.dump(clone, column)]
        _, stop = tpl.entry_span(section, anchor)
        tpl.replace(stop, stop, block)
    copied = {k for section in SECTIONS for k in tpl.owned(section, old_camel)}
    _clone_items(
        tpl,
        tokens,
        copied,
        lambda node: _rename(node, tokens, new_camel, old_name, name),
    )
    _add_to_index(tpl, old_name, tokens, name, new_camel)
    return _checked(tpl.result(), name, new_id, present=True)


def _set_function(resource: Any, name: str, memory: int | None, description: str) -> None:
    props = resource["Properties"]
    if memory is not None:
        props["MemorySize"] = memory
    if "Description" in props:
        props["Description"] = description or f"{name} model API"


def _read_from_store(props: Any, name: str, storage_mb: int) -> None:
    """An S3-stored model's function: its bucket, read access to its prefix, room in /tmp."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

    variables = props["Environment"]["Variables"]
    variables[STORE_ENV] = TaggedScalar(STORE_BUCKET, tag="!Ref")
    statement = CommentedMap()
    statement["Effect"] = "Allow"
    statement["Action"] = "s3:GetObject"
    statement["Resource"] = TaggedScalar(
        f"${{{STORE_BUCKET}.Arn}}/{STORE_PREFIX}{name}/*", tag="!Sub"
    )
    policy = CommentedMap()
    policy["Statement"] = CommentedSeq([statement])
    policy.fa.set_flow_style()
    props["Policies"].append(policy)
    if storage_mb > STORE_SNAPSTART_MB:
        # Lambda refuses SnapStart with more than 512 MB of ephemeral storage.
        props["EphemeralStorage"]["Size"] = storage_mb
        props["SnapStart"]["ApplyOn"] = "None"


def reads_store(text: str, name: str) -> bool:
    """Whether the function serving `name` has the model store bucket in its environment."""
    tpl = Template(text)
    function = tpl.model_functions().get(name)
    if function is None:
        return False
    props = tpl.doc["Resources"][function].get("Properties") or {}
    return STORE_ENV in ((props.get("Environment") or {}).get("Variables") or {})


def _add_to_index(tpl: Template, old_name: str, tokens: Tokens, name: str, new_camel: str) -> None:
    for index in tpl.index_functions():
        variables = tpl.doc["Resources"][index]["Properties"]["Environment"]["Variables"]
        mapping = tpl.index_map(index)
        if old_name in mapping:
            mapping[name] = tokens.replace(mapping[old_name], new_camel)
        else:
            mapping[name] = "${" + naming.function_id(name) + "}"
        _rewrite_index_map(tpl, variables, mapping)


def _last_line(node: Any, line: int) -> int:
    """The last line any part of `node` starts on (its block ends there for one-line scalars)."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return line

    data = lc.data or {}  # flow collections may not record their parts' positions
    for part, value in node.items() if isinstance(node, dict) else enumerate(node):
        where = data.get(part) or ()
        line = max([line, *(int(n) for n in where[::2])])  # key (and value) lines
        line = _last_line(value, line)
    return line


def _model_lists(tpl: Template, skip: set[str], tokens: Tokens) -> Iterator[Any]:
    """The outermost sequences with items naming the model, outside the entries in `skip`
    (per-model blocks are copied whole); each item is one line span of the template."""

    def walk(node: Any) -> Iterator[Any]:
        if isinstance(node, dict):
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            node = _any(node)
            mine = [any(tokens.found(s) for s in _strings(item)) for item in node]
            if any(mine):
                if node.fa.flow_style():
                    raise ModelKitError(
                        f"the template lists {tokens.camel} in a flow sequence (line "
                        f"{node.lc.line + 1}): write it as a block list to let it be edited"
                    )
                yield node
            for item, named in zip(node, mine, strict=True):
                if not named:
                    yield from walk(item)

    for section in SECTIONS:
        for key, value in (tpl.doc.get(section) or {}).items():
            if str(key) not in skip:
                yield from walk(value)


def _item_span(tpl: Template, seq: Any, position: int) -> tuple[int, int]:
    start = _item_line(seq, position)
    return start, _last_line(seq[position], start) + 1


def _clone_items(tpl: Template, tokens: Tokens, skip: set[str], rename: Any) -> None:
    """List items naming the copied model (invoke policies, rule assertions ...) are copied."""
    camels = {naming.token(n) for n in tpl.model_functions()}
    for seq in _model_lists(tpl, skip, tokens):
        mine = [i for i, item in enumerate(seq) if any(tokens.found(s) for s in _strings(item))]
        if not mine:
            continue
        last = max(
            i
            for i, item in enumerate(seq)
            if any(naming.token_pattern(c).search(s) for c in camels for s in _strings(item))
        )
        first = tpl.lines[_item_line(seq, mine[0])]
        column = len(first) - len(first.lstrip(" "))  # where the item's dash sits
        block: list[str] = []
        for i in mine:
            block += tpl.dump(rename(_sequence(seq[i])), column)
        stop = _item_span(tpl, seq, last)[1]
        tpl.replace(stop, stop, block)


def _remove_items(tpl: Template, tokens: Tokens, skip: set[str]) -> None:
    for seq in _model_lists(tpl, skip, tokens):
        for i, item in enumerate(seq):
            if any(tokens.found(s) for s in _strings(item)):
                tpl.replace(*_item_span(tpl, seq, i), [])


def _any(value: Any) -> Any:
    """ruamel's collections, typed as what they are at run time (isinstance narrows to list)."""
    return value


def _item_line(seq: Any, position: int) -> int:
    return int(seq.lc.item(position)[0])


def _rewrite_index_map(tpl: Template, variables: Any, mapping: dict[str, str]) -> None:
    from ruamel.yaml.comments import TaggedScalar

    line, _ = variables.lc.key(INDEX_ENV)
    nxt = line + 1
    if nxt < len(tpl.lines) and not _blank_or_comment(tpl.lines[nxt]):
        indent = len(tpl.lines[nxt]) - len(tpl.lines[nxt].lstrip(" "))
        if indent > len(tpl.lines[line]) - len(tpl.lines[line].lstrip(" ")):
            raise ModelKitError(f"keep {INDEX_ENV} on one line in the template to let it be edited")
    old = variables[INDEX_ENV]
    value = json.dumps(mapping, separators=(",", ":"))
    new: Any = value
    if isinstance(old, TaggedScalar):
        new = TaggedScalar(value=value, style=old.style, tag=str(old.tag))
    column = variables.lc.key(INDEX_ENV)[1]
    tpl.replace(line, line + 1, tpl.dump({INDEX_ENV: new}, column))


def remove_model(text: str, name: str) -> str:
    """The template without `name`'s function, its companions and its index entries."""
    tpl = Template(text)
    functions = tpl.model_functions()
    if name not in functions:
        raise ModelKitError(f"template has no function serving model {name!r}")
    logical_id = functions[name]
    camel = naming.token(name)
    if logical_id != naming.function_id(name):
        camel = logical_id.removesuffix("Function")
    removed: dict[str, list[str]] = {s: tpl.owned(s, camel) for s in SECTIONS}
    if logical_id not in removed["Resources"]:
        removed["Resources"].append(logical_id)
    ids = [i for keys in removed.values() for i in keys]
    for section, keys in removed.items():
        for key in keys:
            start, stop = tpl.entry_span(section, key)
            # Take the blank line that separated it from the entry before it.
            if start > 0 and not tpl.lines[start - 1].strip():
                start -= 1
            tpl.replace(start, stop, [])
    for index in tpl.index_functions():
        mapping = tpl.index_map(index)
        mapping.pop(name, None)
        variables = tpl.doc["Resources"][index]["Properties"]["Environment"]["Variables"]
        _rewrite_index_map(tpl, variables, mapping)
    _remove_items(tpl, Tokens(camel, {naming.token(n) for n in functions}), set(ids))
    result = tpl.result()
    after = Template(result)
    dangling = after.references(ids, skip=set())
    if dangling:
        raise ModelKitError(
            f"the template still refers to what {name!r} removes: {', '.join(dangling[:5])}; "
            "remove those references first"
        )
    return _checked(result, name, logical_id, present=False)


def _checked(text: str, name: str, logical_id: str, present: bool) -> str:
    """Re-read the edited text: the model is (or is no longer) wired, routes and index alike."""
    tpl = Template(text)
    functions = tpl.model_functions()
    maps = {index: tpl.index_map(index) for index in tpl.index_functions()}
    if present:
        wanted = {(m, p.replace("{m}", name)) for m, p in MODEL_ROUTES}
        if functions.get(name) != logical_id or not wanted <= tpl.routes(logical_id):
            raise ModelKitError(f"internal error: {logical_id} was not wired with its routes")
        missing = [index for index, mapping in maps.items() if name not in mapping]
        if missing:
            raise ModelKitError(f"internal error: {name!r} missing from {missing[0]}'s {INDEX_ENV}")
    elif name in functions or any(name in mapping for mapping in maps.values()):
        raise ModelKitError(f"internal error: {name!r} is still wired into the template")
    return text
