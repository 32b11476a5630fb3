"""Where in a YAML file a problem is: the key path a person would write and its line number."""

from __future__ import annotations

from typing import Any

import yaml

Loc = tuple[str | int, ...]


def read_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its data, as yaml.SafeLoader reads them.

    libyaml's parser, which PyYAML's wheels include, builds the same nodes and data several times faster than
    the pure-Python one (every process reads all the form files when it starts). A document it refuses is read
    again by the pure-Python parser, so that the error raised, and its wording, stay the same either way.
    """
    fast = getattr(yaml, "CSafeLoader", None)
    for loader_class in [*([fast] if fast else []), yaml.SafeLoader]:
        loader = loader_class(text)
        try:
            root = loader.get_single_node()
            return root, (loader.construct_document(root) if root is not None else None)
        except yaml.YAMLError:
            if loader_class is yaml.SafeLoader:
                raise
        finally:
            loader.dispose()
    raise AssertionError("unreachable: the pure-Python parser returns or raises")


def load_yaml(text: str) -> Any:
    """The document's data as yaml.safe_load reads it, by libyaml where it can (read_yaml)."""
    return read_yaml(text)[1]


def key_path(loc: Loc) -> str:
    """A location as the key path a person would write, e.g. awards[3].group or sections[2].fields[4].when."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(root: yaml.Node | None, loc: Loc) -> int | None:
    """The 1-based line of the deepest node of `loc` present in the file (a missing key points at its parent)."""
    if root is None or not loc:
        return None
    node = root
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1
