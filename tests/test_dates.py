import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recognition.dates import PartialDate, PartialDateError, Precision


@pytest.mark.parametrize(
    "text, display, precision",
    [
        ("2022", "2022", Precision.YEAR),
        ("2021-09", "September 2021", Precision.MONTH),
        ("2022-04-18", "April 18, 2022", Precision.DAY),
        ("2024-02-29", "February 29, 2024", Precision.DAY),
    ],
)
def test_displays_at_its_own_precision(text, display, precision):
    date = PartialDate.parse(text)
    assert date.display() == display
    assert date.precision == precision
    assert date.isoformat() == text


@pytest.mark.parametrize(
    "text", ["2022-02-30", "2023-02-29", "2022-13", "2022-00", "22", "2022/04/18", "", "abcd"]
)
def test_rejects_impossible_or_malformed_dates(text):
    with pytest.raises(ValueError):
        PartialDate.parse(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [("1899", "year"), ("2032", "year"), ("2031", None), ("2022-13", "month"), ("2023-02-29", "day")],
)
def test_one_parser_with_the_year_range(text, code):
    """1900 to five years ahead of today (fixed here at 2026): the same rule for forms and imports."""
    today = datetime.date(2026, 11, 30)
    if code is None:
        assert PartialDate.parse(text, today=today).year == int(text)
    else:
        with pytest.raises(PartialDateError) as raised:
            PartialDate.parse(text, today=today)
        assert raised.value.code == code


def test_period_bounds():
    assert PartialDate.parse("2024-02").end == datetime.date(2024, 2, 29)
    assert PartialDate.parse("2022").start == datetime.date(2022, 1, 1)
    assert PartialDate.parse("2022").end == datetime.date(2022, 12, 31)


def test_certainly_before_compares_whole_periods():
    introduced = PartialDate.parse("2022-04-18")
    assert not PartialDate.parse("2022").is_certainly_before(introduced)
    assert not PartialDate.parse("2022-04").is_certainly_before(introduced)
    assert PartialDate.parse("2022-03").is_certainly_before(introduced)
    assert PartialDate.parse("2021").is_certainly_before(introduced)


@given(
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2030, 12, 31)),
    st.sampled_from(list(Precision)),
)
def test_stored_round_trip_keeps_precision(day, precision):
    date = {
        Precision.YEAR: PartialDate(day.year),
        Precision.MONTH: PartialDate(day.year, day.month),
        Precision.DAY: PartialDate(day.year, day.month, day.day),
    }[precision]
    assert PartialDate.from_stored(date.start, date.precision) == date
    assert PartialDate.parse(date.isoformat()) == date


def test_every_month_is_named_in_english():
    """The names are written out (not the process locale's); the C locale's strftime is the oracle."""
    import locale

    assert locale.setlocale(locale.LC_TIME) in ("C", "C.UTF-8", "POSIX")
    for month in range(1, 13):
        day = datetime.date(2021, month, 9)
        assert PartialDate(2021, month, None).display() == day.strftime("%B 2021")
        assert PartialDate(2021, month, 9).display() == day.strftime("%B 9, 2021")
