"""Which map shapes are too small to tap on a phone. Pure: no Django.

WCAG 2.2 (success criterion 2.5.8) asks for targets of at least 24 by 24 CSS px. The maps draw the
975 x 610 us-atlas frame at the width of their box; on a 375 px phone the national map runs edge to
edge (site.css, "Maps on a phone"), so one frame unit is 375/975 CSS px there. A shape whose bounding
box is narrower or shorter than 24 px at that scale cannot hold such a target, and the page lists it
as a tile beside the map instead. Deriving the list from the shapes keeps it right if the atlas changes.
"""

FRAME_WIDTH = 975  # us-atlas's Albers USA frame is 975 x 610
MIN_TARGET_PX = 24  # WCAG 2.2 SC 2.5.8, Target Size (Minimum)
PHONE_MAP_WIDTH_PX = 375  # the national map's width on a 375 px phone: the whole screen


def min_frame_units(map_width_px: float = PHONE_MAP_WIDTH_PX, target_px: float = MIN_TARGET_PX) -> float:
    """The smallest side, in frame units, that is still `target_px` CSS px wide on a map `map_width_px` wide."""
    return target_px * FRAME_WIDTH / map_width_px


def too_small_to_tap(viewbox: str, map_width_px: float = PHONE_MAP_WIDTH_PX) -> bool:
    """True when a shape's bounding box ("x y w h" in the frame) is under the target on either side.

    A shape with no bounding box is not drawn at all, so it cannot be tapped either.
    """
    if not viewbox:
        return True
    _, _, width, height = (float(part) for part in viewbox.split())
    threshold = min_frame_units(map_width_px)
    return width < threshold or height < threshold
