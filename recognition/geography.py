"""Turn the us-atlas TopoJSON into compact SVG path data. Pure functions: no database.

The atlas is already projected to Albers USA in a 975×610 frame, so drawing a
shape only means decoding its arcs. Coordinates are kept as integers in tenths
of a unit: rounding the absolute positions once, then emitting differences of
the rounded values, means relative steps never accumulate rounding drift.
"""

from collections.abc import Sequence
from typing import NamedTuple

Point = tuple[int, int]  # (x, y) in tenths of a frame unit
Ring = list[Point]

MIN_RING_POINTS = 3  # fewer points enclose no area


class Shape(NamedTuple):
    path: str  # SVG path data: "M x y l dx dy ... z" per ring
    viewbox: str  # bounding box "x y w h", for an SVG viewBox


def decode_shapes(topology: dict, object_name: str) -> dict[str, Shape]:
    """{feature id (FIPS): Shape} for the Polygon and MultiPolygon features of one object.

    Features without an id or without arcs have nothing to match or draw, so they are skipped.
    So are rings that collapse to fewer than three points at one decimal: they enclose nothing.
    A feature left with no ring at all (three tiny Virginia cities in the 10m atlas) gets no
    Shape, rather than an invisible path with a zero-size viewBox.
    """
    arcs = decode_arcs(topology)
    shapes = {}
    for geometry in topology["objects"][object_name]["geometries"]:
        feature_id = geometry.get("id")
        rings = [ring for ring in geometry_rings(geometry, arcs) if len(ring) >= MIN_RING_POINTS]
        if feature_id is None or not rings:
            continue
        shapes[str(feature_id)] = Shape(path_data(rings), viewbox(rings))
    return shapes


def shared_borders(topology: dict, object_name: str) -> set[tuple[str, str]]:
    """Pairs of features (ids, the smaller first) that share a border: at least one arc in common.

    A topology stores each border once, as an arc both neighbors use, so this is exact at
    the atlas's scale, across state lines too. The atlas is simplified: counties that meet at
    a point may share a tiny arc there (San Juan, Utah and Montezuma, Colorado at the Four
    Corners do), and count as neighbors.
    """
    users: dict[int, set[str]] = {}
    for geometry in topology["objects"][object_name]["geometries"]:
        feature_id = geometry.get("id")
        if feature_id is None:
            continue
        ring_lists = geometry.get("arcs") or []
        rings = ring_lists if geometry.get("type") == "Polygon" else [r for poly in ring_lists for r in poly]
        for ring in rings:
            for index in ring:
                users.setdefault(~index if index < 0 else index, set()).add(str(feature_id))
    pairs = set()
    for features in users.values():
        ordered = sorted(features)
        pairs.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    return pairs


def decode_arcs(topology: dict) -> list[Ring]:
    """Every arc as absolute points in tenths.

    A quantized topology stores each arc as integer deltas from the previous point,
    mapped to the frame by its transform; an unquantized one stores plain positions.
    """
    transform = topology.get("transform")
    if transform is None:
        return [[to_tenths(x, y) for x, y, *_ in arc] for arc in topology["arcs"]]
    (scale_x, scale_y), (translate_x, translate_y) = transform["scale"], transform["translate"]
    decoded = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy, *_ in arc:
            x += dx
            y += dy
            points.append(to_tenths(x * scale_x + translate_x, y * scale_y + translate_y))
        decoded.append(points)
    return decoded


def to_tenths(x: float, y: float) -> Point:
    return round(x * 10), round(y * 10)


def geometry_rings(geometry: dict, arcs: list[Ring]) -> list[Ring]:
    """The rings of a Polygon (a list of rings) or a MultiPolygon (a list of polygons)."""
    kind, ring_lists = geometry.get("type"), geometry.get("arcs") or []
    if kind == "Polygon":
        return [stitch_ring(ring, arcs) for ring in ring_lists]
    if kind == "MultiPolygon":
        return [stitch_ring(ring, arcs) for polygon in ring_lists for ring in polygon]
    return []


def stitch_ring(arc_indexes: list[int], arcs: list[Ring]) -> Ring:
    """Join a ring's arcs into one list of points, without repeated points.

    A negative index ~i means arc i walked backwards. Consecutive arcs share an
    endpoint, and rounding to tenths can merge neighbouring points, so any point
    equal to the one before it is dropped. A closed ring ends on its first point,
    which "z" already implies, so that point is dropped too.
    """
    ring: Ring = []
    for index in arc_indexes:
        points = arcs[~index][::-1] if index < 0 else arcs[index]
        for point in points:
            if not ring or point != ring[-1]:
                ring.append(point)
    if len(ring) > 1 and ring[-1] == ring[0]:
        ring.pop()
    return ring


def path_data(rings: list[Ring]) -> str:
    return "".join(ring_path(ring) for ring in rings)


def ring_path(ring: Ring) -> str:
    """Path data for one ring, "M x y l dx dy dx dy ... z": the first point absolute, the rest relative,
    the numbers run together as SVG's grammar allows (see `path_numbers`)."""
    (x, y), steps = ring[0], []
    for next_x, next_y in ring[1:]:
        steps += (next_x - x, next_y - y)
        x, y = next_x, next_y
    return f"M{path_numbers(ring[0])}l{path_numbers(steps)}z"


def path_numbers(tenths: Sequence[int]) -> str:
    """Counts of tenths as path data, written as SVG minifiers write it: no leading zero (".3"), and a
    space only where the grammar needs one. A minus sign or a second decimal point starts a new number,
    so "1.5 -0.3 0.2" is "1.5-.3.2": a quarter fewer bytes in the county layer's half megabyte."""
    parts, after_point = [], False
    for value in tenths:
        text = format_tenths(value)
        if text.startswith(("0.", "-0.")):
            text = text.replace("0.", ".", 1)
        if parts and not (text[0] == "-" or (after_point and text[0] == ".")):
            parts.append(" ")
        parts.append(text)
        after_point = "." in text
    return "".join(parts)


def viewbox(rings: list[Ring]) -> str:
    """The rings' bounding box as "x y w h", one decimal."""
    xs = [x for ring in rings for x, _ in ring]
    ys = [y for ring in rings for _, y in ring]
    left, top = min(xs), min(ys)
    return " ".join(format_tenths(value) for value in (left, top, max(xs) - left, max(ys) - top))


def format_tenths(tenths: int) -> str:
    """A count of tenths as compact SVG text: 15 -> "1.5", -20 -> "-2", 3 -> "0.3"."""
    whole, tenth = divmod(abs(tenths), 10)
    sign = "-" if tenths < 0 else ""
    return f"{sign}{whole}.{tenth}" if tenth else f"{sign}{whole}"


def feature_names(topology: dict, object_name: str) -> dict[str, str]:
    """{feature id: its "name" property}, to say which atlas features matched nothing."""
    return {
        str(geometry["id"]): (geometry.get("properties") or {}).get("name", "")
        for geometry in topology["objects"][object_name]["geometries"]
        if geometry.get("id") is not None
    }
