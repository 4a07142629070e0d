"""Safe YAML loading that remembers where every key was written.

Only plain YAML is accepted (``yaml.SafeLoader``: no ``!!python`` tags). Duplicate keys,
which PyYAML would silently resolve to the last one, are reported as problems. Each key
path is mapped to its line so that errors can say "scenario.yaml line 12".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from allocator.errors import InputError, Problem

__all__ = ["KeyPath", "LoadedYaml", "load_yaml_file", "parse_scalar"]

KeyPath = tuple[str, ...]


class LoadedYaml:
    """A YAML document with a line number for every key path.

    Parameters
    ----------
    data
        The document as plain Python objects (``dict``, ``list``, scalars).
    lines
        1-based line of each key path, e.g. ``{("solver", "backend"): 12}``.
    label
        How the file is named in messages.
    """

    def __init__(self, data: dict[str, Any], lines: dict[KeyPath, int], label: str) -> None:
        self.data = data
        self.lines = lines
        self.label = label


def _walk(
    node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], problems: list[Problem], label: str
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(
                        label,
                        f"line {line}, key {'.'.join((*path, key))}",
                        f"the key is written twice (first on line {seen[key]}); keep one",
                    )
                )
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, problems, label)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, str(index)), lines, problems, label)


def load_yaml_file(path: Path, *, label: str) -> LoadedYaml:
    """Load one YAML mapping safely.

    Parameters
    ----------
    path
        File to read (UTF-8).
    label
        How the file is named in error messages.

    Returns
    -------
    LoadedYaml
        The mapping and the line of each key.

    Raises
    ------
    InputError
        If the file is missing, empty, not valid YAML, uses Python tags, repeats a key,
        or is not a mapping at the top level.
    """
    if not path.is_file():
        raise InputError([Problem(label, "", "the file does not exist")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(label, "", f"the file is not UTF-8 text ({exc.reason}); save it as UTF-8")]
        ) from None
    if not text.strip():
        raise InputError([Problem(label, "", "the file is empty; expected a YAML mapping")])
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise InputError(
            [
                Problem(
                    label,
                    f"line {line}",
                    "only plain YAML is allowed (no !!python or other custom tags)",
                    str(exc.problem),
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(exc, "problem", None) or str(exc)
        raise InputError([Problem(label, where, f"malformed YAML: {what}")]) from None
    finally:
        loader.dispose()
    if node is None or not isinstance(data, dict):
        raise InputError(
            [Problem(label, "", "expected a mapping of keys at the top level", type(data).__name__)]
        )
    lines: dict[KeyPath, int] = {}
    problems: list[Problem] = []
    _walk(node, (), lines, problems, label)
    if problems:
        raise InputError(problems)
    return LoadedYaml(data, lines, label)


def parse_scalar(text: str) -> Any:
    """Parse the value of a ``--set key=value`` with YAML rules (``45`` is an int).

    Raises
    ------
    yaml.YAMLError
        If the text is not valid YAML.
    """
    return yaml.safe_load(text) if text.strip() else ""
