"""Component labels: the names of the parts of a model that analyses measure.

One small dataclass per type of component, each with its label (``str(component)``),
and ``parse`` for the way back:

    L1H0        Head(1, 0)           head 0 of layer 1
    L1N37       Neuron(1, 37)        neuron 37 of the MLP of layer 1
    MLP0        Mlp(0)               the MLP of layer 0, as a whole (its output)
    top@L1      Group("top", 1)      the neurons of a named group that sit in layer 1
    L0H1>MLP1   Path(Head(0, 1), 1)  head L0H1's output into the input of MLP1 only

Head and neuron labels are TransformerLens' own (the labels of
``ActivationCache.get_full_resid_decomposition``), so attribution tables and the lab's
sites name a component the same way. Tables, figure axes and metric names show
labels; code that needs the layer or the index parses them here, never by regex or
prefix of its own. ``slug`` turns a label (or any display name) into the form metric
names take (``L1H0`` -> ``l1h0``, ``top 40 neurons`` -> ``top_40_neurons``).

torch-free: labels are plain strings and ints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Head:
    """Attention head ``head`` of layer ``layer``: ``L{layer}H{head}``."""

    layer: int
    head: int

    def __str__(self) -> str:
        return f"L{self.layer}H{self.head}"


@dataclass(frozen=True)
class Neuron:
    """Neuron ``neuron`` of the MLP of layer ``layer``: ``L{layer}N{neuron}``."""

    layer: int
    neuron: int

    def __str__(self) -> str:
        return f"L{self.layer}N{self.neuron}"


@dataclass(frozen=True)
class Mlp:
    """The MLP of layer ``layer`` as a whole: ``MLP{layer}``."""

    layer: int

    def __str__(self) -> str:
        return f"MLP{self.layer}"


@dataclass(frozen=True)
class Group:
    """The members in layer ``layer`` of a named group of neurons (a neuron family, the
    top neurons): ``{name}@L{layer}``. The name may hold spaces but not ``@``."""

    name: str
    layer: int

    def __post_init__(self):
        if not self.name or "@" in self.name:
            raise ValueError(f"a group name must be non-empty and without '@', got {self.name!r}")

    def __str__(self) -> str:
        return f"{self.name}@L{self.layer}"


@dataclass(frozen=True)
class Path:
    """Head ``head``'s output into the input of the MLP of layer ``mlp_layer`` only,
    the residual stream untouched (path patching): ``L{layer}H{head}>MLP{mlp_layer}``."""

    head: Head
    mlp_layer: int

    def __str__(self) -> str:
        return f"{self.head}>{Mlp(self.mlp_layer)}"


Component = Head | Neuron | Mlp | Group | Path

# Full-match patterns, one per component type; a group's name is anything without "@", so a
# family name such as "carry in (right sum >= 10)" is a valid group name.
_PATTERNS: list[tuple[re.Pattern, type]] = [
    (re.compile(r"L(\d+)H(\d+)>MLP(\d+)"), Path),
    (re.compile(r"L(\d+)H(\d+)"), Head),
    (re.compile(r"L(\d+)N(\d+)"), Neuron),
    (re.compile(r"MLP(\d+)"), Mlp),
    (re.compile(r"([^@]+)@L(\d+)"), Group),
]

FORMS = "L<layer>H<head>, L<layer>N<neuron>, MLP<layer>, <group>@L<layer> or L<layer>H<head>>MLP<layer>"


def parse(label: str) -> Component:
    """The component ``label`` names; ValueError, listing the forms, for anything else."""
    for pattern, cls in _PATTERNS:
        match = pattern.fullmatch(label)
        if match is None:
            continue
        groups = match.groups()
        if cls is Path:
            return Path(Head(int(groups[0]), int(groups[1])), int(groups[2]))
        if cls is Group:
            return Group(groups[0], int(groups[1]))
        return cls(*map(int, groups))
    raise ValueError(f"{label!r} is not a component label; labels are {FORMS} (e.g. L1H0, L1N37, MLP0)")


def parse_as(label: str, cls: type) -> Component:
    """``parse(label)``, which must be a ``cls`` (e.g. ``Neuron``); ValueError otherwise."""
    component = parse(label)
    if not isinstance(component, cls):
        raise ValueError(f"{label!r} names a {type(component).__name__.lower()}, not a {cls.__name__.lower()}")
    return component


def is_a(label: str, cls: type) -> bool:
    """Whether ``label`` names a ``cls``; False for labels that name no component
    (``embed``, ``bias`` in attribution tables)."""
    try:
        return isinstance(parse(label), cls)
    except ValueError:
        return False


def heads(n_layers: int, n_heads: int) -> list[Head]:
    """Every head, layer by layer: the order of flattened ``[layer, head]`` axes."""
    return [Head(layer, head) for layer in range(n_layers) for head in range(n_heads)]


def head_labels(n_layers: int, n_heads: int) -> list[str]:
    """``L0H0``, ``L0H1``, ... in the order of flattened ``[layer, head]`` axes."""
    return [str(head) for head in heads(n_layers, n_heads)]


def slug(label: str) -> str:
    """``label`` in the form of a metric name: lower case, spaces as underscores."""
    return label.replace(" ", "_").lower()
