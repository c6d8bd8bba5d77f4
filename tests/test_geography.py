"""Reference geography: the TopoJSON decoder, and the loader the session fixture has already run."""

import hashlib
import re
from collections import Counter
from io import StringIO

import pytest
import us
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from recognition.geography import Shape, decode_shapes, format_tenths, path_numbers
from recognition.geography_loader import load_geography
from recognition.models import Jurisdiction, Level
from tests.html import SVG_NUMBER

from .conftest import PlaceFactory, get_county, get_state

# A hand-made quantized topology, positions in the frame = q * scale + translate.
# Arc 0 runs east along y=50 in ten steps of 0.04: each step rounds to nothing,
# but the absolute positions round to 100, 100.1, ... 100.4, so no drift.
# Arc 1 runs north from (100.4, 50) to (100.4, 52); arc 2 closes the ring west then south.
# Arc 3 closes a triangle east of arc 1, which walks arc 1 backwards (~1).
TINY_TOPOLOGY = {
    "type": "Topology",
    "transform": {"scale": [0.04, 0.5], "translate": [100, 50]},
    "arcs": [
        [[0, 0]] + [[1, 0]] * 10,
        [[10, 0], [0, 4]],
        [[10, 4], [-10, 0], [0, -4]],
        [[10, 0], [10, 0], [-10, 4]],
    ],
    "objects": {
        "shapes": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "id": "01", "arcs": [[0, 1, 2]]},
                {"type": "Polygon", "id": "02", "arcs": [[~1, 3]]},
                {"type": "MultiPolygon", "id": "03", "arcs": [[[0, 1, 2]], [[~1, 3]]]},
                {"type": "Polygon", "arcs": [[0, 1, 2]]},  # no id: nothing to match it to
                {"type": None, "id": "04"},  # no arcs: nothing to draw
            ],
        }
    },
}
# Path numbers run together as SVG allows: a minus sign or a second decimal point starts a new number.
SQUARE = "M100 50l.1 0 .1 0 .1 0 .1 0 0 2-.4 0z"
TRIANGLE = "M100.4 52l0-2 .4 0z"


def all_us_states():
    return us.states.STATES_AND_TERRITORIES


def expected_county_count():
    return sum(len(state.counties or []) for state in all_us_states())


def shapes_checksum():
    rows = Jurisdiction.objects.order_by("fips").values_list("fips", "shape", "shape_viewbox")
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


# The decoder


def test_decode_delta_encoded_arcs_into_one_decimal_relative_path():
    shapes = decode_shapes(TINY_TOPOLOGY, "shapes")

    assert shapes["01"] == Shape(SQUARE, "100 50 0.4 2")


def test_decode_walks_a_negative_arc_index_backwards():
    assert decode_shapes(TINY_TOPOLOGY, "shapes")["02"] == Shape(TRIANGLE, "100.4 50 0.4 2")


def test_decode_multipolygon_draws_every_polygon_and_boxes_them_all():
    assert decode_shapes(TINY_TOPOLOGY, "shapes")["03"] == Shape(SQUARE + TRIANGLE, "100 50 0.8 2")


def test_decode_skips_geometries_without_id_or_arcs():
    assert set(decode_shapes(TINY_TOPOLOGY, "shapes")) == {"01", "02", "03"}


def test_decode_accepts_an_unquantized_topology():
    topology = {
        "arcs": [[[1.04, 2], [3, 2], [3, 4.26], [1.04, 2]]],
        "objects": {"shapes": {"geometries": [{"type": "Polygon", "id": "05", "arcs": [[0]]}]}},
    }

    assert decode_shapes(topology, "shapes")["05"] == Shape("M1 2l2 0 0 2.3z", "1 2 2 2.3")


@pytest.mark.parametrize(
    ("tenths", "text"), [(15, "1.5"), (-20, "-2"), (3, "0.3"), (-3, "-0.3"), (0, "0"), (6484, "648.4")]
)
def test_numbers_are_compact(tenths, text):
    assert format_tenths(tenths) == text


# Small steps (under one unit: ".3") are most of an outline's, and where separators matter.
@given(st.lists(st.integers(-25, 25) | st.integers(-100_000, 100_000), max_size=40))
def test_path_numbers_read_back_as_written(tenths):
    text = path_numbers(tenths)

    assert [round(float(number) * 10) for number in SVG_NUMBER.findall(text)] == tenths
    assert set(text) <= set("0123456789.- ")
    assert "  " not in text and " -" not in text and not re.search(r"(?<![\d.])0\.", text)


@pytest.mark.parametrize(
    ("tenths", "text"),
    [
        ([15, -3, 2], "1.5-.3.2"),  # after a decimal point, ".2" starts a new number
        ([20, 3], "2 .3"),  # after "2", ".3" would continue it
        ([0, 0, -10, 10], "0 0-1 1"),
        ([6484, 3056], "648.4 305.6"),
    ],
)
def test_path_numbers_drop_what_the_grammar_does_not_need(tenths, text):
    assert path_numbers(tenths) == text


# What the session fixture loaded


@pytest.mark.django_db
def test_one_nation_above_every_state():
    nation = Jurisdiction.objects.nation()

    assert (nation.name, nation.slug, nation.fips, nation.usps) == (
        "United States",
        "united-states",
        None,
        "",
    )
    assert Jurisdiction.objects.filter(level=Level.STATE).exclude(parent=nation).count() == 0


@pytest.mark.django_db
def test_fifty_states_dc_and_five_territories():
    states = Jurisdiction.objects.states()

    assert states.count() == 56
    assert set(states.filter(is_territory=True).values_list("usps", flat=True)) == {
        "AS",
        "GU",
        "MP",
        "PR",
        "VI",
    }
    dc = get_state("DC")
    assert (dc.name, dc.fips, dc.slug, dc.is_territory) == (
        "District of Columbia",
        "11",
        "district-of-columbia",
        False,
    )


@pytest.mark.django_db
def test_every_county_us_knows_is_loaded_under_its_state():
    assert Jurisdiction.objects.counties().count() == expected_county_count()
    assert get_state("AL").children.filter(level=Level.COUNTY).count() == 67
    mobile = get_county("01097")
    assert (mobile.name, mobile.slug, mobile.parent.usps) == ("Mobile County", "mobile-county", "AL")
    assert mobile.shape.startswith("M") and mobile.shape.endswith("z")
    assert len(mobile.shape_viewbox.split()) == 4


@pytest.mark.django_db
def test_shapes_for_the_51_drawn_states_and_nearly_every_county():
    states_with_shapes = Jurisdiction.objects.states().exclude(shape="")

    assert states_with_shapes.count() == 51
    assert not states_with_shapes.filter(is_territory=True).exists()
    assert Jurisdiction.objects.counties().exclude(shape="").count() >= 3100


@pytest.mark.django_db
def test_state_path_data_stays_small():
    shapes = dict(Jurisdiction.objects.states().values_list("usps", "shape"))

    assert sum(len(shape) for shape in shapes.values()) < 100_000
    assert len(shapes["TX"]) < 30_000


# Re-running the loader


@pytest.mark.django_db
def test_second_run_changes_nothing(django_assert_max_num_queries):
    count, checksum = Jurisdiction.objects.count(), shapes_checksum()

    with django_assert_max_num_queries(6):  # reads and a transaction, no per-row queries
        report = load_geography()

    assert report.created.total() == report.updated.total() == 0
    assert report.unchanged.total() == 1 + 56 + expected_county_count()
    assert (Jurisdiction.objects.count(), shapes_checksum()) == (count, checksum)


@pytest.mark.django_db
def test_command_reports_an_unchanged_rerun():
    out = StringIO()

    call_command("load_geography", stdout=out)

    assert "0 created, 0 updated" in out.getvalue()


@pytest.mark.django_db
def test_load_from_scratch():
    # Leaves first: parents are protected while anything still hangs below them.
    for level in (Level.PLACE, Level.DISTRICT, Level.COUNTY, Level.STATE, Level.NATION):
        Jurisdiction.objects.filter(level=level).delete()

    report = load_geography()

    assert report.created == Counter(
        {Level.NATION: 1, Level.STATE: 56, Level.COUNTY: expected_county_count()}
    )
    assert report.updated.total() == report.unchanged.total() == 0
    assert report.shapes_attached[Level.STATE] == 51
    assert Jurisdiction.objects.count() == report.created.total()


@pytest.mark.django_db
def test_rerun_repairs_what_drifted_and_only_that():
    mobile, baldwin = get_county("01097"), get_county("01003")
    mobile.shape, mobile.name = "", "Mobile"
    mobile.save()
    baldwin.parent = get_state("MS")
    baldwin.save()

    report = load_geography()

    assert report.updated == Counter({Level.COUNTY: 2})
    mobile.refresh_from_db()
    baldwin.refresh_from_db()
    assert (mobile.name, mobile.slug, baldwin.parent.usps) == ("Mobile County", "mobile-county", "AL")
    assert mobile.shape


@pytest.mark.django_db
def test_places_created_by_staff_survive_a_rerun():
    place = PlaceFactory(name="City of Mobile", population=187_041)
    district = PlaceFactory(level=Level.DISTRICT, name="Mobile County Communications District", county=None)

    report = load_geography()

    assert report.created.total() == report.updated.total() == 0
    place.refresh_from_db()
    assert (place.name, place.slug, place.county.fips, place.population) == (
        "City of Mobile",
        "city-of-mobile",
        "01097",
        187_041,
    )
    assert Jurisdiction.objects.filter(pk=district.pk).exists()


@pytest.mark.django_db
def test_a_staff_slug_is_never_taken_over():
    get_county("01097").delete()
    place = PlaceFactory(name="Mobile County", slug="mobile-county", county=None)

    first, second = load_geography(), load_geography()

    assert get_county("01097").slug == "mobile-county-01097"
    place.refresh_from_db()
    assert place.slug == "mobile-county"
    assert first.created == Counter({Level.COUNTY: 1})
    assert second.created.total() == second.updated.total() == 0


@pytest.mark.django_db
def test_a_county_typed_in_without_fips_is_adopted_not_duplicated():
    get_county("01097").delete()
    typed = Jurisdiction.objects.create(level=Level.COUNTY, name="Mobile County", parent=get_state("AL"))

    report = load_geography()

    assert report.created.total() == 0
    assert get_county("01097").pk == typed.pk


# Atlas and `us` disagree in places: reported, never fatal


@pytest.mark.django_db
def test_mismatches_are_reported_by_fips():
    report = load_geography()

    # The atlas still has Alaska's Valdez-Cordova; `us` has its 2019 successors.
    assert report.unmatched_shapes == {"02261": "Valdez-Cordova"}
    assert {"02063", "02066"} <= set(report.shapeless)
    # Both still have Connecticut's eight old counties, so those match.
    connecticut = Jurisdiction.objects.in_state("CT").filter(level=Level.COUNTY)
    assert connecticut.count() == 8
    assert not connecticut.filter(shape="").exists()
    assert not any(fips.startswith("09") for fips in report.shapeless)
    # Territories are not in the atlas at all.
    assert {"60", "66", "69", "72", "78", "72001"} <= set(report.shapeless)
    # Virginia cities that collapse below a tenth of a unit are named, not drawn as nothing.
    assert report.too_small == {"51610", "51678", "51685"}


@pytest.mark.django_db
def test_command_names_the_mismatches():
    out = StringIO()

    call_command("load_geography", stdout=out)

    assert "02261 Valdez-Cordova" in out.getvalue()
    assert "02063 Chugach Census Area, AK" in out.getvalue()
    assert "in the territories (AS, GU, MP, PR, VI)" in out.getvalue()
