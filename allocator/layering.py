"""Layering of scenario files: imports, named overrides, ``--set`` and their precedence.

Precedence, highest first::

    --set key=value  >  chosen overrides  >  the scenario file  >  its imports  >  defaults

Mappings are merged key by key; any other value (including a list) replaces what was
there. Two chosen overrides that set the same key (or one sets a key inside the other's)
are an error: the result would depend on their order. Every key remembers which layer set
it, so a validation error names the file and line, the override, or the ``--set`` it came
from.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from allocator.errors import InputError, Problem, raise_if_any
from allocator.scenario import ResolvedScenario, Scenario
from allocator.yamlio import KeyPath, LoadedYaml, load_yaml_file, parse_scalar

__all__ = ["load_scenario"]

LAYERING_KEYS = ("import", "overrides", "scenarios")


@dataclass
class _Layer:
    """One source of keys, lowest precedence first in a list of layers."""

    data: dict[str, Any]
    origin: dict[KeyPath, str]


def _leaf_paths(data: dict[str, Any], prefix: KeyPath = ()) -> list[KeyPath]:
    paths: list[KeyPath] = []
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, dict) and value:
            paths.extend(_leaf_paths(value, path))
        else:
            paths.append(path)
    return paths


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _origin_for(
    lines: dict[KeyPath, int], data: dict[str, Any], label: str, prefix: KeyPath = ()
) -> dict[KeyPath, str]:
    origin: dict[KeyPath, str] = {}
    for path in _leaf_paths(data):
        for depth in range(1, len(path) + 1):
            sub = path[:depth]
            line = lines.get((*prefix, *sub))
            origin[sub] = f"{label} line {line}" if line else label
    return origin


def _rebase_data_paths(data: dict[str, Any], from_dir: Path, to_dir: Path) -> None:
    """Make file paths in an imported file relative to the main scenario file.

    File paths live at ``data.<layer>.path``, ``demand.births.path``,
    ``demand.housing.path``, ``travel.network.path`` and ``rotation.data.<table>.path``.
    """
    refs: list[Any] = []
    if isinstance(data.get("data"), dict):
        refs.extend(data["data"].values())
    if isinstance(data.get("demand"), dict):
        refs.extend(data["demand"].get(key) for key in ("births", "housing"))
    if isinstance(data.get("travel"), dict):
        refs.append(data["travel"].get("network"))
    rotation = data.get("rotation")
    if isinstance(rotation, dict) and isinstance(rotation.get("data"), dict):
        refs.extend(rotation["data"].values())
    for ref in refs:
        if isinstance(ref, dict) and isinstance(ref.get("path"), str):
            absolute = (from_dir / ref["path"]).resolve()
            ref["path"] = Path(os.path.relpath(absolute, to_dir)).as_posix()


def _load_imports(
    doc: LoadedYaml, path: Path, main_dir: Path, chain: tuple[Path, ...], problems: list[Problem]
) -> list[_Layer]:
    """Load the files named under ``import:``, depth first, lowest precedence first."""
    names = doc.data.get("import", [])
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        problems.append(
            Problem(
                doc.label,
                f"line {doc.lines.get(('import',), 0)}, key import",
                "expected a list of file paths",
                repr(names),
            )
        )
        return []
    layers: list[_Layer] = []
    for index, name in enumerate(names):
        target = (path.parent / name).resolve()
        label = Path(os.path.relpath(target, main_dir)).as_posix()
        line = doc.lines.get(("import", str(index)), 0)
        if target in chain:
            problems.append(
                Problem(
                    doc.label,
                    f"line {line}, key import",
                    "import cycle: a file imports itself through this chain",
                    " -> ".join(p.name for p in (*chain, target)),
                )
            )
            continue
        try:
            imported = load_yaml_file(target, label=label)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        for key in ("overrides", "scenarios"):
            if key in imported.data:
                problems.append(
                    Problem(
                        label,
                        f"line {imported.lines[(key,)]}, key {key}",
                        f"'{key}' belongs in the scenario file, not in an import",
                    )
                )
        layers.extend(_load_imports(imported, target, main_dir, (*chain, target), problems))
        body = {k: v for k, v in imported.data.items() if k not in LAYERING_KEYS}
        _rebase_data_paths(body, target.parent, main_dir)
        layers.append(_Layer(body, _origin_for(imported.lines, body, label)))
    return layers


def _choose_overrides(doc: LoadedYaml, choice: str | None, problems: list[Problem]) -> list[str]:
    """Expand ``--scenario`` (a scenario name, an override name, or a comma list) to overrides."""
    overrides = doc.data.get("overrides") or {}
    scenarios = doc.data.get("scenarios") or {}
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        problems.append(
            Problem(
                doc.label,
                "key overrides",
                "expected named mappings: overrides: {name: {key: value}}",
            )
        )
        return []
    if not isinstance(scenarios, dict) or not all(
        isinstance(v, list) and all(isinstance(n, str) for n in v) for v in scenarios.values()
    ):
        problems.append(
            Problem(
                doc.label,
                "key scenarios",
                "expected named lists of overrides: scenarios: {name: [a, b]}",
            )
        )
        return []
    for name, members in scenarios.items():
        for member in members:
            if member not in overrides:
                problems.append(
                    Problem(
                        doc.label,
                        f"key scenarios.{name}",
                        f"unknown override '{member}'{_suggest(member, overrides)}",
                    )
                )
    if choice is None:
        return []
    chosen: list[str] = []
    for name in (part.strip() for part in choice.split(",") if part.strip()):
        if name in scenarios:
            chosen.extend(scenarios[name])
        elif name in overrides:
            chosen.append(name)
        else:
            known = [*scenarios, *overrides]
            problems.append(
                Problem(
                    "--scenario",
                    name,
                    "no scenario or override of that name"
                    f"{_suggest(name, known)}; known: {', '.join(known) or 'none'}",
                )
            )
    return list(dict.fromkeys(chosen))


def _override_layers(
    doc: LoadedYaml, chosen: Sequence[str], problems: list[Problem]
) -> list[_Layer]:
    overrides: dict[str, dict[str, Any]] = doc.data.get("overrides") or {}
    layers: list[_Layer] = []
    claimed: dict[KeyPath, str] = {}
    for name in chosen:
        body = overrides[name]
        for path in _leaf_paths(body):
            for other_path, other in claimed.items():
                shorter = min(len(path), len(other_path))
                if path[:shorter] == other_path[:shorter]:
                    shared = ".".join(path[:shorter])
                    problems.append(
                        Problem(
                            doc.label,
                            f"overrides {other} and {name}",
                            f"both set '{shared}'; the result would depend on "
                            "their order. Set it in one override only",
                        )
                    )
        for path in _leaf_paths(body):
            claimed.setdefault(path, name)
        label = f"override '{name}' in {doc.label}"
        layers.append(_Layer(body, _origin_for(doc.lines, body, label, ("overrides", name))))
    return layers


def _set_layers(sets: Sequence[str], problems: list[Problem]) -> list[_Layer]:
    layers: list[_Layer] = []
    for item in sets:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            problems.append(
                Problem(f"--set {item}", "", "expected key=value, e.g. solver.backend=cbc")
            )
            continue
        try:
            value = parse_scalar(raw)
        except yaml.YAMLError:
            problems.append(Problem(f"--set {item}", "", "the value is not valid YAML", raw))
            continue
        nested: dict[str, Any] = value
        for part in reversed(key.split(".")):
            nested = {part: nested}
        origin = {tuple(key.split(".")[:d]): f"--set {item}" for d in range(1, key.count(".") + 2)}
        layers.append(_Layer(nested, origin))
    return layers


def _suggest(word: str, options: Any) -> str:
    match = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def _model_at(loc: Sequence[str]) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at ``loc`` (None if not a model)."""
    model: type[BaseModel] = Scenario
    for key in loc:
        field = model.model_fields.get(key)
        if field is None:
            return None
        nested = _first_model(field.annotation)
        if nested is None:
            return None
        model = nested
    return model


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _first_model(arg)
            if found is not None:
                return found
    return None


def _describe(error: Any, origin: dict[KeyPath, str], default_label: str) -> Problem:
    loc = tuple(str(part) for part in error["loc"])
    source = default_label
    for depth in range(len(loc), 0, -1):
        if loc[:depth] in origin:
            source = origin[loc[:depth]]
            break
    key = ".".join(loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model else []
        if not loc[:-1]:
            allowed += list(LAYERING_KEYS)
        hint = _suggest(loc[-1], allowed) or (
            f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        )
        return Problem(source, f"key {key}", f"unknown key '{loc[-1]}'{hint}")
    if error["type"] == "missing":
        return Problem(source, f"key {key}", "required key is missing")
    shown = repr(error.get("input"))
    return Problem(source, f"key {key}", error["msg"], shown[:80])


def load_scenario(
    path: str | Path, *, scenario: str | None = None, sets: Sequence[str] = ()
) -> ResolvedScenario:
    """Load, layer and validate a scenario file.

    Parameters
    ----------
    path
        The scenario YAML file. Data paths inside it are relative to its folder.
    scenario
        A named scenario, a named override, or several names separated by commas.
    sets
        ``key=value`` strings (dotted keys, YAML values), applied last.

    Returns
    -------
    ResolvedScenario
        The validated scenario with the overrides and sets that made it.

    Raises
    ------
    InputError
        With every problem found: file, key or line, bad value and what is expected.
    """
    source = Path(path).resolve()
    label = Path(path).as_posix()
    doc = load_yaml_file(source, label=label)
    problems: list[Problem] = []
    layers = _load_imports(doc, source, source.parent, (source,), problems)
    body = {k: v for k, v in doc.data.items() if k not in LAYERING_KEYS}
    layers.append(_Layer(body, _origin_for(doc.lines, body, label)))
    chosen = _choose_overrides(doc, scenario, problems)
    layers.extend(_override_layers(doc, chosen, problems))
    layers.extend(_set_layers(sets, problems))
    raise_if_any(problems)

    merged: dict[str, Any] = {}
    origin: dict[KeyPath, str] = {}
    for layer in layers:
        merged = _merge(merged, layer.data)
        _forget_replaced(origin, layer)
        origin.update(layer.origin)
    try:
        config = Scenario.model_validate(merged)
    except ValidationError as exc:
        raise InputError([_describe(e, origin, label) for e in exc.errors()]) from None
    return ResolvedScenario(config=config, source=source, overrides=tuple(chosen), sets=tuple(sets))


def _forget_replaced(origin: dict[KeyPath, str], layer: _Layer) -> None:
    """Drop the origin of keys below a key that ``layer`` replaces with a non-mapping."""
    replaced = [key for key in layer.origin if not isinstance(_get(layer.data, key), dict)]
    for key in [k for k in origin if any(len(k) > len(r) and k[: len(r)] == r for r in replaced)]:
        del origin[key]


def _get(data: dict[str, Any], path: KeyPath) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node
