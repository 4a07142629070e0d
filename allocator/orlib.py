"""OR-Library facility-location instances: readers and conversion to siting inputs.

Two families of J.E. Beasley's OR-Library are read, both as a flat stream of
whitespace-separated tokens (line breaks carry no meaning):

* ``pmedK`` (uncapacitated p-median): ``n m p``, then ``m`` edges ``i j c`` (1-based
  vertices, integer length). Repeated vertex pairs: **the last occurrence wins** (Beasley's
  rule; it is not the minimum). The problem is defined on the all-pairs shortest-path matrix;
  every vertex is a client of weight 1 and a candidate site.
* ``capXY`` (capacitated warehouse location, split demand): ``m n``, ``m`` lines
  ``capacity fixed_cost``, then per customer its demand and ``m`` allocation costs. An
  allocation cost ``a_ij`` is the cost of serving **all** of customer ``j``'s demand from
  warehouse ``i``, not a cost per unit.

:func:`pmedian_siting_input` and :func:`cap_siting_input` turn an instance into a
:class:`allocator.siting.SitingInput`, so both problems run through the project's own siting
model (see ``tests/data/orlib/README.md`` for provenance and published optima).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from allocator.siting import Formulation, SitingInput, SitingWeights

__all__ = [
    "CapInstance",
    "PMedianInstance",
    "cap_siting_input",
    "instance_name",
    "parse_cap",
    "parse_pmed",
    "pmedian_siting_input",
    "read_cap",
    "read_pmed",
    "vertex_ids",
]

STAGE = "all"  # the one stage of an OR-Library instance in the siting model


@dataclass(frozen=True, eq=False)
class PMedianInstance:
    """An OR-Library p-median instance with its shortest-path matrix.

    Attributes
    ----------
    name
        Instance name (file name without extension, e.g. ``pmed1``).
    n
        Number of vertices (each a client of weight 1 and a candidate site).
    p
        Number of medians to open.
    edges
        Number of edge lines in the file (duplicates included).
    distances
        ``n × n`` int64 matrix of shortest-path lengths (length units of the file),
        zero diagonal, symmetric; vertex ``k`` of the file is row ``k - 1``.
    """

    name: str
    n: int
    p: int
    edges: int
    distances: npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class CapInstance:
    """An OR-Library capacitated warehouse-location instance (split demand).

    Attributes
    ----------
    name
        Instance name (file name without extension, e.g. ``cap71``).
    capacities
        Capacity of each of the ``m`` warehouses (demand units).
    fixed_costs
        Fixed opening cost of each warehouse (cost units).
    demands
        Demand of each of the ``n`` customers (demand units).
    allocation_costs
        ``m × n`` matrix: ``a[i, j]`` is the cost of serving all of customer ``j``'s demand
        from warehouse ``i`` (cost units per customer, not per demand unit).
    """

    name: str
    capacities: npt.NDArray[np.float64]
    fixed_costs: npt.NDArray[np.float64]
    demands: npt.NDArray[np.float64]
    allocation_costs: npt.NDArray[np.float64]

    @property
    def m(self) -> int:
        """Number of candidate warehouses."""
        return len(self.capacities)

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.demands)


# --------------------------------------------------------------------------- tokens


class _Tokens:
    """Whitespace-separated tokens of a file, read in order, with positions for errors."""

    def __init__(self, text: str, source: str) -> None:
        self._source = source
        self._items = [
            (token, line)
            for line, content in enumerate(text.splitlines(), start=1)
            for token in content.split()
        ]
        self._next = 0

    def _fail(self, what: str, detail: str) -> ValueError:
        return ValueError(f"{self._source}: {detail} (expected {what})")

    def _take(self, what: str) -> str:
        if self._next >= len(self._items):
            raise self._fail(what, f"unexpected end of file at token {self._next + 1}")
        token, _ = self._items[self._next]
        self._next += 1
        return token

    def _where(self) -> str:
        token, line = self._items[self._next - 1]
        return f"token {self._next} (line {line}) {token!r}"

    def integer(self, what: str, low: int | None = None, high: int | None = None) -> int:
        """Next token as an integer in ``[low, high]``."""
        token = self._take(what)
        try:
            value = int(token)
        except ValueError:
            raise self._fail(what, f"{self._where()} is not an integer") from None
        if (low is not None and value < low) or (high is not None and value > high):
            low_text = "-inf" if low is None else str(low)
            bounds = f"[{low_text}, {'inf' if high is None else high}]"
            raise self._fail(what, f"{self._where()} is out of range {bounds}")
        return value

    def number(self, what: str) -> float:
        """Next token as a finite number >= 0."""
        token = self._take(what)
        try:
            value = float(token)
        except ValueError:
            raise self._fail(what, f"{self._where()} is not a number") from None
        if not (math.isfinite(value) and value >= 0):
            raise self._fail(what, f"{self._where()} is not a finite number >= 0")
        return value

    def end(self) -> None:
        """Fail if tokens are left over."""
        if self._next < len(self._items):
            token, line = self._items[self._next]
            raise ValueError(
                f"{self._source}: unexpected extra token {self._next + 1} (line {line}) "
                f"{token!r} after the end of the instance"
            )


def _read_text(path: Path) -> str:
    """File contents; bytes that are not ASCII become U+FFFD (and fail as tokens)."""
    return path.read_text(encoding="ascii", errors="replace")


def instance_name(path: str | Path) -> str:
    """Instance name of a file: its name without the extension (``pmed1.txt`` -> ``pmed1``)."""
    return Path(path).stem


# --------------------------------------------------------------------------- p-median


def _shortest_paths(lengths: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """All-pairs shortest paths by Floyd–Warshall (``inf`` = no edge), vectorised per pivot."""
    dist = lengths.copy()
    for k in range(len(dist)):
        np.minimum(dist, dist[:, k, None] + dist[None, k, :], out=dist)
    return dist


def parse_pmed(text: str, name: str, source: str | None = None) -> PMedianInstance:
    """Parse the text of an OR-Library p-median file.

    Parameters
    ----------
    text
        File contents.
    name
        Instance name.
    source
        File name for error messages (default ``name``).

    Returns
    -------
    PMedianInstance
        The instance with its shortest-path matrix (last-occurrence-wins edge lengths).

    Raises
    ------
    ValueError
        Malformed input (the message names the file and the token position), a self-loop,
        or a disconnected graph.
    """
    tokens = _Tokens(text, source or name)
    n = tokens.integer("number of vertices n", low=1)
    m = tokens.integer("number of edges m", low=0)
    p = tokens.integer("number of medians p (1 <= p <= n)", low=1, high=n)
    edges: dict[tuple[int, int], int] = {}
    for e in range(1, m + 1):
        i = tokens.integer(f"first vertex of edge {e} (1..{n})", low=1, high=n)
        j = tokens.integer(f"second vertex of edge {e} (1..{n})", low=1, high=n)
        c = tokens.integer(f"integer length >= 0 of edge {e}", low=0)
        if i == j:
            raise ValueError(f"{source or name}: edge {e} is a self-loop at vertex {i}")
        edges[(min(i, j), max(i, j))] = c  # last occurrence wins
    lengths = np.full((n, n), np.inf)
    np.fill_diagonal(lengths, 0.0)
    for (i, j), c in edges.items():
        lengths[i - 1, j - 1] = lengths[j - 1, i - 1] = float(c)
    tokens.end()
    dist = _shortest_paths(lengths)
    if not np.isfinite(dist).all():
        a, b = np.argwhere(~np.isfinite(dist))[0]
        raise ValueError(
            f"{source or name}: the graph is disconnected (no path from vertex {a + 1} "
            f"to vertex {b + 1})"
        )
    return PMedianInstance(name=name, n=n, p=p, edges=m, distances=dist.astype(np.int64))


def read_pmed(path: str | Path) -> PMedianInstance:
    """Read an OR-Library p-median file (``pmedK.txt``).

    Parameters
    ----------
    path
        File path; the instance is named after the file without its extension.

    Returns
    -------
    PMedianInstance
        The instance with its shortest-path matrix.

    Raises
    ------
    ValueError
        Malformed input (the message names the file and the token position).
    OSError
        If the file cannot be read.
    """
    path = Path(path)
    return parse_pmed(_read_text(path), instance_name(path), str(path))


# --------------------------------------------------------------------------- cap


def parse_cap(text: str, name: str, source: str | None = None) -> CapInstance:
    """Parse the text of an OR-Library capacitated warehouse-location file.

    Parameters
    ----------
    text
        File contents.
    name
        Instance name.
    source
        File name for error messages (default ``name``).

    Returns
    -------
    CapInstance
        Capacities, fixed costs, demands and per-customer allocation costs.

    Raises
    ------
    ValueError
        Malformed input (the message names the file and the token position); also the
        ``capacity`` placeholder of the capa/capb/capc files, whose capacities the user
        must supply.
    """
    where = source or name
    tokens = _Tokens(text, where)
    m = tokens.integer("number of warehouses m", low=1)
    n = tokens.integer("number of customers n", low=1)
    capacities = np.empty(m)
    fixed = np.empty(m)
    for i in range(m):
        try:
            capacities[i] = tokens.number(f"capacity of warehouse {i + 1}")
        except ValueError as exc:
            if "'capacity'" in str(exc):
                raise ValueError(
                    f"{where}: warehouse {i + 1} has the placeholder 'capacity' instead of a "
                    "number (capa/capb/capc files); write the capacity into the file"
                ) from None
            raise
        fixed[i] = tokens.number(f"fixed cost of warehouse {i + 1}")
    demands = np.empty(n)
    costs = np.empty((m, n))
    for j in range(n):
        demands[j] = tokens.number(f"demand of customer {j + 1}")
        for i in range(m):
            costs[i, j] = tokens.number(
                f"allocation cost of customer {j + 1} from warehouse {i + 1}"
            )
    tokens.end()
    return CapInstance(
        name=name, capacities=capacities, fixed_costs=fixed, demands=demands, allocation_costs=costs
    )


def read_cap(path: str | Path) -> CapInstance:
    """Read an OR-Library capacitated warehouse-location file (``capXY.txt``).

    Parameters
    ----------
    path
        File path; the instance is named after the file without its extension.

    Returns
    -------
    CapInstance
        Capacities, fixed costs, demands and per-customer allocation costs.

    Raises
    ------
    ValueError
        Malformed input (the message names the file and the token position).
    OSError
        If the file cannot be read.
    """
    path = Path(path)
    return parse_cap(_read_text(path), instance_name(path), str(path))


# --------------------------------------------------------------------------- siting inputs


def vertex_ids(count: int, prefix: str) -> list[str]:
    """Zero-padded ids ``<prefix>001`` ... so that string order is numeric order."""
    width = max(3, len(str(count)))
    return [f"{prefix}{k:0{width}d}" for k in range(1, count + 1)]


def _empty_existing() -> pd.DataFrame:
    return pd.DataFrame({"school_id": pd.Series([], dtype=str), "stage": [], "seats": []})


def pmedian_siting_input(
    instance: PMedianInstance, formulation: Formulation = "auto"
) -> SitingInput:
    """The p-median as a siting input: open exactly ``p`` sites, uncapacitated, min travel.

    Zones ``v001`` ... and sites ``s001`` ... are the vertices; every zone has demand 1 and
    a pair to every site at its shortest-path distance (file length units, entered as
    ``distance_m``); each site has one option with ``n`` seats (never binding) and cost 0.
    Weighted mode with ``travel_weight = 1`` and an unmet penalty above the largest
    distance, so every client is served and the objective is the p-median objective.

    Parameters
    ----------
    instance
        The p-median instance.
    formulation
        Siting formulation (see :class:`allocator.siting.SitingInput`).

    Returns
    -------
    SitingInput
        Input whose optimal objective is the p-median optimum (length units).
    """
    n = instance.n
    zones = vertex_ids(n, "v")
    sites = vertex_ids(n, "s")
    dist = instance.distances
    return SitingInput(
        demand=pd.DataFrame({"zone_id": zones, "stage": STAGE, "children": 1.0}),
        existing=_empty_existing(),
        options=pd.DataFrame(
            {"site_id": sites, "stage": STAGE, "classes": 1, "seats": float(n), "cost_cny": 0.0}
        ),
        pairs=pd.DataFrame(
            {
                "zone_id": np.repeat(zones, n),
                "school_id": np.tile(sites, n),
                "stage": STAGE,
                "distance_m": dist.reshape(-1).astype(np.float64),
            }
        ),
        weights=SitingWeights(
            unmet_penalty=float(dist.max()) + 1.0, cost_weight=0.0, travel_weight=1.0
        ),
        open_exactly=instance.p,
        formulation=formulation,
    )


def cap_siting_input(instance: CapInstance, formulation: Formulation = "auto") -> SitingInput:
    """The capacitated warehouse-location problem (split demand) as a siting input.

    Warehouses ``w001`` ... become candidate sites with one option (seats = capacity,
    ``cost_cny`` = fixed cost); customers ``c001`` ... become zones with their demand and a
    pair to every warehouse whose ``distance_m`` is the per-unit cost ``a_ij / d_j``, so that
    ``Σ distance · flow = Σ a_ij · (fraction of j served by i)``. Lexicographic mode with
    ``cost_weight = travel_weight = 1``: phase 1 serves every customer it can, phase 2
    minimises fixed plus allocation cost (cost units of the file).

    Parameters
    ----------
    instance
        The warehouse-location instance.
    formulation
        Siting formulation (see :class:`allocator.siting.SitingInput`).

    Returns
    -------
    SitingInput
        Input whose optimal (phase-2) objective is the published optimum.
    """
    warehouses = vertex_ids(instance.m, "w")
    customers = vertex_ids(instance.n, "c")
    demand = instance.demands
    per_unit = np.divide(
        instance.allocation_costs,
        demand[None, :],
        out=np.zeros_like(instance.allocation_costs),
        where=demand[None, :] > 0,
    )  # m × n
    return SitingInput(
        demand=pd.DataFrame({"zone_id": customers, "stage": STAGE, "children": demand}),
        existing=_empty_existing(),
        options=pd.DataFrame(
            {
                "site_id": warehouses,
                "stage": STAGE,
                "classes": 1,
                "seats": instance.capacities,
                "cost_cny": instance.fixed_costs,
            }
        ),
        pairs=pd.DataFrame(
            {
                "zone_id": np.repeat(customers, instance.m),
                "school_id": np.tile(warehouses, instance.n),
                "stage": STAGE,
                "distance_m": per_unit.T.reshape(-1),
            }
        ),
        weights=SitingWeights(cost_weight=1.0, travel_weight=1.0),
        lexicographic=True,
        formulation=formulation,
    )
