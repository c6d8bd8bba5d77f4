"""The database itself refuses bad records: constraints raise IntegrityError."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from recognition.models import Jurisdiction, Level, Resolution, Source
from tests.conftest import ResolutionFactory, get_county, get_state

pytestmark = pytest.mark.django_db


def assert_refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def new_resolution(**fields):
    defaults = {"jurisdiction": get_state("AL"), "kind": "statute", "status": "adopted", "title": "An act"}
    return Resolution(**(defaults | fields))


class TestResolutionConstraints:
    def test_adopted_before_introduced_is_refused(self):
        resolution = new_resolution()
        resolution.introduced, resolution.adopted = "2022-04-18", "2022-03"
        assert_refused(resolution.save)

    def test_adopted_same_period_at_coarser_precision_is_allowed(self):
        resolution = new_resolution()
        resolution.introduced, resolution.adopted = "2022-04-18", "2022"
        resolution.save()
        assert Resolution.objects.get(pk=resolution.pk).adopted.display() == "2022"

    def test_duplicate_identifier_in_same_jurisdiction_and_kind_is_refused(self):
        new_resolution(identifier="HB 1").save()
        assert_refused(new_resolution(identifier="HB 1").save)

    def test_same_identifier_elsewhere_or_blank_is_allowed(self):
        new_resolution(identifier="HB 1").save()
        new_resolution(identifier="HB 1", jurisdiction=get_state("TX")).save()
        new_resolution(identifier="").save()
        new_resolution(identifier="").save()

    @pytest.mark.parametrize(
        "field, value", [("kind", "decree"), ("status", "maybe"), ("confidence", "sure")]
    )
    def test_unknown_choices_are_refused(self, field, value):
        assert_refused(new_resolution(**{field: value}).save)

    def test_date_without_precision_is_refused(self):
        resolution = new_resolution()
        resolution.adopted_on = resolution.adopted_on_precision = None
        resolution.adopted = "2022"
        resolution.adopted_on_precision = ""
        assert_refused(resolution.save)

    def test_pending_measure_with_an_adoption_date_is_refused(self):
        resolution = new_resolution(status="introduced")
        resolution.adopted = "2022"
        assert_refused(resolution.save)

    def test_low_confidence_is_never_published(self):
        assert_refused(new_resolution(confidence="low", published=True).save)

    def test_source_needs_a_link_or_a_title(self):
        resolution = ResolutionFactory(sources=[])
        assert_refused(lambda: Source.objects.create(resolution=resolution))


class TestResolutionClean:
    def test_publishing_without_a_source_link_is_explained(self):
        resolution = ResolutionFactory(sources=[], published=False, confidence="high")
        resolution.published = True
        with pytest.raises(ValidationError) as error:
            resolution.full_clean()
        assert "Add at least one source with a link" in str(error.value)

    def test_adopted_before_introduced_is_explained(self):
        resolution = new_resolution()
        resolution.introduced, resolution.adopted = "2022-04-18", "2021"
        with pytest.raises(ValidationError) as error:
            resolution.full_clean()
        assert "cannot be before introduced" in str(error.value)


class TestJurisdictionConstraints:
    def test_fips_is_unique(self):
        assert_refused(
            lambda: Jurisdiction.objects.create(
                level=Level.COUNTY, name="Copy", parent=get_state("AL"), fips="01097"
            )
        )

    def test_fips_length_matches_level(self):
        assert_refused(
            lambda: Jurisdiction.objects.create(
                level=Level.COUNTY, name="Odd", parent=get_state("AL"), fips="01"
            )
        )

    def test_slug_unique_within_parent(self):
        assert_refused(
            lambda: Jurisdiction.objects.create(
                level=Level.PLACE, name="Mobile County", parent=get_state("AL")
            )
        )

    def test_only_the_nation_has_no_parent(self):
        assert_refused(lambda: Jurisdiction.objects.create(level=Level.PLACE, name="Nowhere"))
        assert_refused(
            lambda: Jurisdiction.objects.create(level=Level.NATION, name="Second nation", slug="x")
        )

    def test_only_places_and_districts_name_a_county(self):
        assert_refused(
            lambda: Jurisdiction.objects.create(
                level=Level.COUNTY, name="Odd County", parent=get_state("AL"), county=get_county("01097")
            )
        )

    def test_usps_only_for_states(self):
        assert_refused(
            lambda: Jurisdiction.objects.create(
                level=Level.PLACE, name="Odd", parent=get_state("AL"), usps="ZZ"
            )
        )

    def test_clean_explains_a_county_in_another_state(self):
        place = Jurisdiction(
            level=Level.PLACE, name="Border Town", parent=get_state("TX"), county=get_county("01097")
        )
        with pytest.raises(ValidationError) as error:
            place.full_clean()
        assert "Mobile County is not in Texas" in str(error.value)


class TestQuerySetsAndUrls:
    def test_published_and_in_state(self):
        al_law = ResolutionFactory(jurisdiction=get_state("AL"))
        mobile = ResolutionFactory(jurisdiction=get_county("01097"))
        ResolutionFactory(jurisdiction=get_state("TX"))
        draft = ResolutionFactory(jurisdiction=get_county("01097"), published=False)
        in_alabama = set(Resolution.objects.published().in_state("al"))
        assert in_alabama == {al_law, mobile}
        assert draft not in Resolution.objects.published()

    def test_every_public_model_has_a_url(self):
        assert get_state("AL").get_absolute_url() == "/states/al/"
        assert get_county("01097").get_absolute_url() == "/states/al/mobile-county/"
        assert Jurisdiction.objects.nation().get_absolute_url() == "/united-states/"
        resolution = ResolutionFactory()
        assert resolution.get_absolute_url() == f"/resolutions/{resolution.pk}/"
        assert str(get_county("01097")) == "Mobile County, AL"
