"""Reading a district configuration file: YAML with limits, errors with key paths.

:func:`load_config` reads and validates a file; every mistake is reported with
the file, the key path (``area.bbox[2]``) and the offending value (a bounded
excerpt). The YAML loader refuses duplicate keys, ``!!python`` tags, files over
:data:`~geodistrict.config.models.MAX_CONFIG_BYTES`, nesting deeper than
``MAX_YAML_DEPTH`` and alias bombs.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from geodistrict._validate import excerpt
from geodistrict.config.models import (
    _MAX_ERRORS,
    MAX_CONFIG_BYTES,
    MAX_YAML_ALIASES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    DistrictConfig,
    bbox_size_m,
    check_area_sizes,
)
from geodistrict.errors import ConfigError, InputFileNotFoundError

__all__ = ["load_config"]


def _loc(parts: tuple[int | str, ...]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text or "(top level)"


def _lookup(data: Any, parts: tuple[int | str, ...]) -> Any:
    for part in parts:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _known_keys(parts: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = DistrictConfig
    for part in parts[:-1]:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [k for k in model.model_fields if k != "source_file"]


def _describe(error: Any, data: Any) -> str:
    loc: tuple[int | str, ...] = tuple(error["loc"])
    # Model-level validators report on the section itself; drop pydantic's type tags.
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
    where = _loc(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(loc)
        close = difflib.get_close_matches(str(loc[-1])[:100], known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
        return f"{_cut(where, 200)}: unknown key (value {excerpt(error['input'])}){hint}"
    if kind == "missing":
        return f"{where}: required key is missing"
    message = _cut(error["msg"].removeprefix("Value error, "), 300)
    value = error.get("input", _lookup(data, loc))
    if isinstance(value, dict):
        return f"{where}: {message}"
    return f"{where}: {message} (value {excerpt(value)})"


class _LimitError(yaml.MarkedYAMLError):
    """A YAML document over one of the size limits."""


def _expanded_nodes(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes in ``node`` once every alias is expanded (memoised: aliases share nodes)."""
    if id(node) in memo:
        return memo[id(node)]
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_nodes(item, memo) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded_nodes(k, memo) + _expanded_nodes(v, memo) for k, v in node.value)
    memo[id(node)] = total
    return total


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicated keys instead of keeping the last one.

    It also refuses documents nested deeper than :data:`MAX_YAML_DEPTH`, with
    more than :data:`MAX_YAML_ALIASES` aliases, or more than
    :data:`MAX_YAML_NODES` nodes once aliases are expanded (a "billion laughs"
    document is a few lines that expand to billions of nodes).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise _LimitError(
                    None, None, f"more than {MAX_YAML_ALIASES} aliases (*name)",
                    self.peek_event().start_mark,
                )  # fmt: skip
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _LimitError(
                    None, None, f"nested more than {MAX_YAML_DEPTH} levels deep",
                    self.peek_event().start_mark,
                )  # fmt: skip
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        nodes = _expanded_nodes(node, {})
        if nodes > MAX_YAML_NODES:
            raise _LimitError(
                None, None,
                f"expands to {nodes:,} values once its aliases are resolved, more than "
                f"{MAX_YAML_NODES:,}", node.start_mark,
            )  # fmt: skip
        return self.construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicated key {excerpt(key, limit=60)}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | os.PathLike[str]) -> DistrictConfig:
    """Read and validate a district configuration file.

    Parameters
    ----------
    path : str or path-like
        The YAML file.

    Returns
    -------
    DistrictConfig
        The validated configuration, with input paths resolved and checked.

    Raises
    ------
    InputFileNotFoundError
        If ``path`` does not exist.
    ConfigError
        If the YAML is malformed or does not validate; the message names the
        file, each bad key path and its value.

    Examples
    --------
    >>> from geodistrict.datasets import sample_config_path
    >>> cfg = load_config(sample_config_path())
    >>> cfg.area.bbox is not None
    True
    """
    file = Path(path)
    if file.is_dir():
        raise InputFileNotFoundError(
            f"configuration {str(file)!r} is a folder; give the YAML file in it"
        )
    if not file.is_file():
        kind = "not a regular file" if file.exists() else "not found"
        raise InputFileNotFoundError(f"configuration file {kind}: {str(file)!r}")
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            f"{file}: cannot read the configuration ({exc.strerror or exc})"
        ) from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{file}: larger than {MAX_CONFIG_BYTES // 1000} KB; a district configuration "
            "is a few KB of YAML (is this the right file?)"
        )
    if not raw.strip():
        raise ConfigError(f"{file}: the configuration is empty; see config/sample.yml")
    try:
        text = raw.decode("utf-8")
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        kind = "YAML refused" if isinstance(exc, _LimitError) else "malformed YAML"
        raise ConfigError(f"{file}: {kind}{where}: {_cut(problem, 300)}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{file}: expected a mapping of keys (district, title, area, ...), "
            f"got {type(data).__name__} {excerpt(data)}"
        )
    try:
        config = DistrictConfig.model_validate(data, context={"base_dir": file.parent})
    except ValidationError as exc:
        errors = exc.errors()
        lines = [_describe(err, data) for err in errors[:_MAX_ERRORS]]
        if len(errors) > _MAX_ERRORS:
            lines.append(f"... and {len(errors) - _MAX_ERRORS} more")
        raise ConfigError(
            f"{file}: {len(errors)} error(s)\n" + "\n".join(f"  - {line}" for line in lines)
        ) from None
    config = config.model_copy(update={"source_file": file.resolve()})
    if config.area.bbox is not None:  # other areas are measured by study_area
        try:
            check_area_sizes(config, width_m=bbox_size_m(config.area.bbox)[0],
                             height_m=bbox_size_m(config.area.bbox)[1])  # fmt: skip
        except ConfigError as exc:
            raise ConfigError(f"{file}: {exc}") from None
    return config


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
