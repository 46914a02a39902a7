"""The one YAML reader of riskmodel, and the problem list every spec parser fills.

Every YAML file riskmodel reads (priors, scenarios, propagation parameters, the
learned shock shape, the report's config file) goes through :func:`read_yaml`:

* safe loading only; a file larger than :data:`MAX_BYTES`, a device or a folder is
  refused before it is read, and nesting deeper than :data:`MAX_DEPTH` is an error
  (no ``RecursionError``);
* anchors and aliases (``&a`` / ``*a``) are refused: config files do not need them,
  and a 1 KB "billion laughs" document would otherwise expand without bound;
* a duplicate key is an error (plain YAML keeps the last one silently);
* ``+3`` stays the text ``"+3"`` (a scenario's "three months after the first");
* mappings and lists remember where each entry was written, so that
  :class:`Problems` puts a line and column in front of every message.

A parser walks the document and reports each problem with :meth:`Problems.add`,
giving the field's path (``regimes[1].depth.alpha``); the path is resolved to the
line and column of the deepest entry that exists. All problems are collected and
raised together, once, by :meth:`Problems.raise_if_any`.
"""

from __future__ import annotations

import difflib
import math
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import yaml

from riskmodel.exceptions import PriorsError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Problems",
    "YamlList",
    "YamlMap",
    "parse_yaml",
    "plain",
    "read_yaml",
    "suggest",
]

#: Largest YAML file read (bytes); riskmodel's own files are a few kB.
MAX_BYTES: Final[int] = 2_000_000
#: Deepest nesting of mappings and lists.
MAX_DEPTH: Final[int] = 40
#: Longest echo of a user's value inside a message.
_ECHO: Final[int] = 60

Mark = tuple[int, int]  # 1-based line, column


class YamlMap(dict):  # type: ignore[type-arg]
    """A mapping read from YAML that knows where it and each of its keys were written."""

    mark: Mark = (0, 0)
    key_marks: dict[Any, Mark]


class YamlList(list):  # type: ignore[type-arg]
    """A list read from YAML that knows where it and each of its items were written."""

    mark: Mark = (0, 0)
    item_marks: list[Mark]


def _mark(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _SpecLoader(yaml.SafeLoader):
    """Safe loader: no aliases, bounded depth, duplicate keys recorded, marks kept."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[str] = []
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (&name / *name) are not supported; "
                "write the values out",
                problem_mark=event.start_mark,
            )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                problem=f"nested more than {MAX_DEPTH} levels deep",
                problem_mark=self.peek_event().start_mark,
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_map(self, node: yaml.MappingNode) -> Any:  # type: ignore[override]
        data = YamlMap()
        data.mark = _mark(node)
        data.key_marks = {}
        yield data
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                line, col = _mark(key_node)
                self.problems.append(f"line {line}, column {col}: a key must be plain text")
                continue
            if key in data:
                line, col = _mark(key_node)
                self.problems.append(
                    f"line {line}, column {col}: duplicate key {clip(key)} (first at line "
                    f"{data.key_marks[key][0]}); each key may appear once"
                )
                continue
            data[key] = self.construct_object(value_node, deep=True)
            data.key_marks[key] = _mark(key_node)

    def construct_yaml_seq(self, node: yaml.SequenceNode) -> Any:  # type: ignore[override]
        data = YamlList()
        data.mark = _mark(node)
        data.item_marks = [_mark(child) for child in node.value]
        yield data
        data.extend(self.construct_object(child, deep=True) for child in node.value)


_SpecLoader.add_constructor("tag:yaml.org,2002:map", _SpecLoader.construct_yaml_map)
_SpecLoader.add_constructor("tag:yaml.org,2002:seq", _SpecLoader.construct_yaml_seq)
# "+3" would be read as the integer 3; keep a leading "+" as text so that a
# scenario's "start: +3" means three months after the first, as written.
_SpecLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if not (first == "+" and tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"))
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(
    text: str, *, where: str | Path = "<yaml>", error: type[PriorsError] = PriorsError
) -> Any:
    """Parse YAML text with the rules of this module.

    Parameters
    ----------
    text : str
        The document.
    where : str or pathlib.Path
        Its origin, named in errors.
    error : type
        The :class:`~riskmodel.exceptions.PriorsError` subclass to raise.

    Returns
    -------
    object
        The document: :class:`YamlMap`, :class:`YamlList`, a scalar, or ``None``.

    Raises
    ------
    PriorsError
        For a syntax error, an alias, too deep nesting or duplicate keys (all
        duplicates listed), each with its line and column.
    """
    loader = _SpecLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise error(where, [f"{at}YAML syntax error: {what}"]) from None
    except yaml.YAMLError as exc:
        raise error(where, [f"YAML syntax error: {str(exc)[:_ECHO]}"]) from None
    finally:
        loader.dispose()
    if loader.problems:
        raise error(where, loader.problems)
    return document


def read_yaml(
    path: str | Path, *, error: type[PriorsError] = PriorsError, max_bytes: int = MAX_BYTES
) -> Any:
    """Read and parse one YAML file, bounded in size, with the rules of this module.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    error : type
        The :class:`~riskmodel.exceptions.PriorsError` subclass to raise.
    max_bytes : int
        Refuse larger files.

    Returns
    -------
    object
        See :func:`parse_yaml`.

    Raises
    ------
    PriorsError
        For a missing, unreadable, non-regular, oversized or non-UTF-8 file, and
        everything :func:`parse_yaml` raises.
    """
    file = Path(path)
    try:
        info = file.stat()
        if not stat.S_ISREG(info.st_mode):
            raise error(file, ["not a regular file"])
        if info.st_size > max_bytes:
            raise error(file, [f"file too large ({info.st_size} bytes; at most {max_bytes})"])
        with open(file, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(file, ["file not found"]) from None
    except OSError as exc:
        raise error(file, [f"cannot read the file: {exc.strerror or exc}"]) from None
    if len(data) > max_bytes:
        raise error(file, [f"file too large (more than {max_bytes} bytes)"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(file, [f"not UTF-8 text (byte {exc.start})"]) from None
    return parse_yaml(text, where=file, error=error)


# --------------------------------------------------------------------------------------
# Problems: every message with its place in the file
# --------------------------------------------------------------------------------------

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


class Problems:
    """Collects a parser's problems, each located in the document it came from.

    Parameters
    ----------
    document : object, optional
        The parsed document (:func:`read_yaml`'s result); paths are resolved in it.
    """

    def __init__(self, document: Any = None) -> None:
        self.document = document
        self.messages: list[str] = []

    def __len__(self) -> int:
        return len(self.messages)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def __iter__(self) -> Any:
        return iter(self.messages)

    def locate(self, path: str) -> Mark | None:
        """Return the line and column of the deepest existing entry along ``path``."""
        node, found = self.document, None
        if isinstance(node, YamlMap | YamlList):
            found = node.mark
        for m in _STEP.finditer(path):
            key, index = m.group(1), m.group(2)
            if index is not None and isinstance(node, YamlList) and int(index) < len(node):
                found, node = node.item_marks[int(index)], node[int(index)]
            elif key is not None and isinstance(node, YamlMap) and key in node:
                found, node = node.key_marks[key], node[key]
            else:
                break
        return found if found and found[0] > 0 else None

    def add(self, path: str, message: str) -> None:
        """Record ``message`` about the field at ``path`` (``""`` for the whole file)."""
        mark = self.locate(path) if path else None
        at = f"line {mark[0]}, column {mark[1]}: " if mark else ""
        field = f"{path}: " if path else ""
        self.messages.append(f"{at}{field}{message}")

    def raise_if_any(self, file: str | Path, error: type[PriorsError] = PriorsError) -> None:
        """Raise ``error(file, messages)`` if any problem was recorded."""
        if self.messages:
            raise error(file, self.messages)

    # -- checks shared by every spec parser ---------------------------------------------

    def keys(self, mapping: Mapping[Any, Any], allowed: Sequence[str], path: str) -> None:
        """Report every key of ``mapping`` not in ``allowed``, with a did-you-mean."""
        for key in mapping:
            if key not in allowed:
                self.add(
                    _join(path, str(key)),
                    f"unknown key {clip(key)}{suggest(str(key), allowed)}; "
                    f"allowed: {', '.join(allowed)}",
                )

    def mapping(self, value: Any, path: str, what: str) -> bool:
        """Return whether ``value`` is a mapping, reporting ``what`` it should hold if not."""
        if isinstance(value, Mapping):
            return True
        self.add(path, f"must be a mapping ({what}), got {clip(value)}")
        return False

    def one_line(self, value: Any, path: str) -> str:
        """Return a non-empty one-line text, or report it and return ``""``."""
        if not isinstance(value, str) or not value.strip():
            self.add(path, f"must be a non-empty one-line text, got {clip(value)}")
            return ""
        text = value.strip()
        if "\n" in text:
            self.add(path, "must be one line (it has line breaks)")
        return text

    def number(
        self,
        value: Any,
        path: str,
        *,
        low: float = -math.inf,
        high: float = math.inf,
        open_low: bool = False,
        open_high: bool = False,
        integer: bool = False,
    ) -> float | None:
        """Return a finite number in ``[low, high]``, open at either end if asked.

        A text such as ``"+1.5"`` (which the reader keeps as text) is accepted.
        Report the problem and return ``None`` otherwise.
        """
        if isinstance(value, str) and value.startswith("+"):
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, f"must be a number, got {clip(value)}")
            return None
        if isinstance(value, int) and abs(value) > 2**53:
            self.add(path, f"must be at most 2**53 in size, got {clip(value)}")
            return None
        x = float(value)
        if not math.isfinite(x):
            self.add(path, f"must be finite, got {clip(value)}")
            return None
        if integer and x != int(x):
            self.add(path, f"must be a whole number, got {clip(value)}")
            return None
        if x < low or x > high or (open_low and x <= low) or (open_high and x >= high):
            left, right = "(" if open_low else "[", ")" if open_high else "]"
            self.add(path, f"must lie in {left}{_num(low)}, {_num(high)}{right}, got {_num(x)}")
            return None
        return x

    def names(self, value: Any, path: str, *, single: bool = False) -> tuple[str, ...] | None:
        """Return a non-empty list of distinct non-empty names (a lone name if ``single``)."""
        if single and isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.add(path, f"must be a non-empty list of names, got {clip(value)}")
            return None
        out: list[str] = []
        for k, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.add(f"{path}[{k}]", f"must be a non-empty name, got {clip(item)}")
            elif item.strip() in out:
                self.add(f"{path}[{k}]", f"'{clip(item.strip())}' is listed twice")
            else:
                out.append(item.strip())
        return tuple(out)

    def flag(self, value: Any, path: str) -> bool:
        """Return a true/false value, reporting anything else (as false)."""
        if isinstance(value, bool):
            return value
        self.add(path, f"must be true or false, got {clip(value)}")
        return False


def plain(document: Any) -> Any:
    """Return ``document`` as plain dicts and lists (e.g. to write it back as YAML)."""
    if isinstance(document, Mapping):
        return {key: plain(value) for key, value in document.items()}
    if isinstance(document, list):
        return [plain(item) for item in document]
    return document


def suggest(key: str, allowed: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest allowed name, or ``""``."""
    close = difflib.get_close_matches(str(key)[:_ECHO], list(allowed), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def clip(value: Any) -> str:
    """Return ``repr(value)`` cut to a bounded length (messages never echo a whole file)."""
    text = repr(value)
    return text if len(text) <= _ECHO else f"{text[: _ECHO - 3]}..."


def _num(x: float) -> str:
    """Format a bound or value: whole numbers in full, others compactly."""
    return str(int(x)) if math.isfinite(x) and x == int(x) and abs(x) < 1e16 else f"{x:g}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
