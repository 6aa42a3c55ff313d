"""National ID validation, protection and pinyin name keys."""

from __future__ import annotations

from datetime import date

import pytest

from cases.identity import (
    InvalidNationalId,
    decrypt,
    encrypt,
    name_key,
    national_id_check_digit,
    national_id_hash,
    parse_national_id,
    protect_national_id,
)


def make_id(region: str = "990101", born: date = date(2015, 5, 5), seq: str = "123") -> str:
    """A synthetic ID number with a correct check digit (region 99 does not exist)."""
    first = f"{region}{born:%Y%m%d}{seq}"
    return first + national_id_check_digit(first)


def test_a_valid_id_is_accepted_and_gives_its_birth_date():
    value, born = parse_national_id(make_id(born=date(2014, 2, 28)))
    assert born == date(2014, 2, 28)
    assert len(value) == 18


def test_a_lower_case_x_check_digit_is_normalised():
    # Find a sequence whose check digit is X.
    for seq in range(1000):
        first = f"99010120150505{seq:03d}"
        if national_id_check_digit(first) == "X":
            value, _born = parse_national_id(first + "x")
            assert value.endswith("X")
            return
    pytest.fail("no sequence gave X")


@pytest.mark.parametrize(
    "bad",
    [
        make_id()[:-1] + ("0" if make_id()[-1] != "0" else "1"),  # wrong check digit
        "99010120151345123X",  # month 13
        "9901012015050512",  # too short
        "ABCDEFGHIJKLMNOPQR",
    ],
)
def test_bad_ids_are_refused(bad):
    with pytest.raises(InvalidNationalId):
        parse_national_id(bad)


def test_the_hash_matches_the_same_number_only_and_hides_it():
    number = make_id()
    assert national_id_hash(number) == national_id_hash(number.lower())
    assert national_id_hash(number) != national_id_hash(make_id(seq="124"))
    assert number not in national_id_hash(number)


def test_stored_forms_never_contain_the_number_in_clear():
    number = make_id()
    stored = protect_national_id(number)
    assert number not in str(stored["national_id_encrypted"])
    assert stored["national_id_masked"] == number[:6] + "********" + number[-4:]
    assert decrypt(str(stored["national_id_encrypted"])) == number
    assert decrypt("not-a-token") == ""
    assert encrypt("") == ""


@pytest.mark.parametrize("name", ["張偉", "张伟", "Zhang Wei", "zhangwei", " ZHANG  wei "])
def test_names_meet_in_pinyin(name):
    assert name_key(name) == "zhangwei"
