"""A deterministic DOT writer and the Graphviz rendering of its output.

The writer sorts everything it writes (clusters, nodes, edges, attributes) by
explicit keys, so the same graph always gives byte-identical DOT, whatever the
insertion order, the dict or set order or PYTHONHASHSEED. Rendering to SVG, PNG
or PDF needs Graphviz's `dot` program; without it, `render` raises RenderError
with a message saying what to install, and DOT is still available.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

import graphviz

from pumpdx.kb.controls import printable

FORMATS = ("dot", "svg", "png", "pdf")
INSTALL_HINT = ("install Graphviz (Debian: apt-get install graphviz; or run scripts/setup.sh)")


class Html(str):
    """An attribute value written as a Graphviz HTML-like label (<...>), unquoted."""

    __slots__ = ()


SortKey = tuple[object, ...]


@dataclass
class DotNode:
    id: str
    attrs: dict[str, str]
    key: SortKey
    cluster: str | None = None


@dataclass
class DotEdge:
    tail: str
    head: str
    attrs: dict[str, str]
    key: SortKey


@dataclass
class DotSpec:
    """Everything one DOT file holds; `source()` writes it in a fixed order."""

    name: str
    graph: dict[str, str] = field(default_factory=dict)
    node_defaults: dict[str, str] = field(default_factory=dict)
    edge_defaults: dict[str, str] = field(default_factory=dict)
    clusters: dict[str, dict[str, str]] = field(default_factory=dict)
    cluster_keys: dict[str, SortKey] = field(default_factory=dict)
    nodes: list[DotNode] = field(default_factory=list)
    edges: list[DotEdge] = field(default_factory=list)
    ranks: list[tuple[str, list[str]]] = field(default_factory=list)

    def source(self) -> str:
        ids = [n.id for n in self.nodes]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate node ids in the DOT graph")
        unknown = sorted({c for c in (n.cluster for n in self.nodes) if c is not None}
                         - set(self.clusters))
        if unknown:
            raise ValueError(f"nodes in undeclared clusters: {', '.join(unknown)}")
        out = [f"digraph {quote(self.name)} {{"]
        out += _defaults("graph", self.graph)
        out += _defaults("node", self.node_defaults)
        out += _defaults("edge", self.edge_defaults)
        nodes = sorted(self.nodes, key=lambda n: (n.key, n.id))
        free = [n for n in nodes if n.cluster is None]
        for n in free:
            out.append(f"  {quote(n.id)}{attr_list(n.attrs)};")
        for cid in sorted(self.clusters, key=lambda c: (self.cluster_keys.get(c, ()), c)):
            out.append(f"  subgraph {quote('cluster_' + cid)} {{")
            out += ["  " + line for line in _defaults("graph", self.clusters[cid])]
            for n in nodes:
                if n.cluster == cid:
                    out.append(f"    {quote(n.id)}{attr_list(n.attrs)};")
            out.append("  }")
        order = {n.id: i for i, n in enumerate(nodes)}
        for e in sorted(self.edges, key=lambda e: (e.key, order.get(e.tail, -1),
                                                    order.get(e.head, -1), e.tail, e.head)):
            out.append(f"  {quote(e.tail)} -> {quote(e.head)}{attr_list(e.attrs)};")
        for rank, members in self.ranks:
            if members:
                listed = " ".join(quote(m) for m in sorted(members, key=lambda m: (
                    order.get(m, -1), m)))
                out.append(f"  {{ rank={rank}; {listed}; }}")
        out.append("}")
        return "\n".join(out) + "\n"


BOX_MARK = "@box:"


def copy_id(node: str, box: str | None) -> str:
    """The DOT id of a node drawn once per box (`node` itself when drawn outside boxes).

    A node read in many places (a review section, a shared conclusion) is drawn once
    in each algorithm box that uses it, so that its edges stay short.
    """
    return f"{node}{BOX_MARK}{box}" if box else node


def original_id(dot_id: str) -> str:
    """The graph node that a DOT node draws (inverse of `copy_id`)."""
    return dot_id.rsplit(BOX_MARK, 1)[0] if BOX_MARK in dot_id else dot_id


def quote(value: str) -> str:
    """A double-quoted DOT string: backslashes and quotes escaped, newlines as \\n,
    other control characters written as escapes (Graphviz refuses some of them)."""
    text = printable(str(value), keep="\r\n").replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{text}"'


def _value(value: str) -> str:
    return str(value) if isinstance(value, Html) else quote(value)


def attr_list(attrs: Mapping[str, str]) -> str:
    if not attrs:
        return ""
    return " [" + ", ".join(f"{k}={_value(attrs[k])}" for k in sorted(attrs)) + "]"


def _defaults(kind: str, attrs: Mapping[str, str]) -> list[str]:
    if not attrs:
        return []
    return [f"  {kind}{attr_list(attrs)};"]


# -- rendering --------------------------------------------------------------

class RenderError(Exception):
    """Graphviz could not render; str() is one line; `missing` when `dot` is absent."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def dot_available() -> bool:
    return shutil.which("dot") is not None


def missing_message(fmt: str = "svg") -> str:
    return (f"{fmt.upper()} output needs Graphviz's 'dot' program, which was not found: "
            f"{INSTALL_HINT}")


def render(source: str, fmt: str) -> bytes:
    """The DOT `source` rendered by Graphviz as `fmt` (dot, svg, png or pdf)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown graph format '{fmt}'; allowed: {', '.join(FORMATS)}")
    if fmt == "dot":
        return source.encode("utf-8")
    if not dot_available():
        raise RenderError(missing_message(fmt), missing=True)
    try:
        data: bytes = graphviz.pipe("dot", fmt, source.encode("utf-8"), quiet=True)
        return data
    except graphviz.ExecutableNotFound:
        raise RenderError(missing_message(fmt), missing=True) from None
    except graphviz.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RenderError("Graphviz dot failed" + (f": {detail[0]}" if detail else "")) from None


def svg_for_html(svg: bytes) -> str:
    """dot's SVG without the XML prolog, doctype and comments, to inline into HTML."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    if start < 0:
        raise RenderError("Graphviz dot produced no SVG element")
    body = text[start:]
    out: list[str] = []
    i = 0
    while True:
        j = body.find("<!--", i)
        if j < 0:
            out.append(body[i:])
            break
        out.append(body[i:j])
        k = body.find("-->", j)
        if k < 0:
            break
        i = k + 3
    return "".join(out).strip() + "\n"
