from hypothesis import given
from hypothesis import strategies as st

from enrollment import user_numbers


def test_generated_numbers_have_14_digits_and_a_valid_check_digit() -> None:
    for _ in range(200):
        number = user_numbers.generate()
        assert len(number) == 14 and number.isdigit() and number[0] != "0"
        assert user_numbers.is_valid(number)


@given(st.integers(min_value=0, max_value=13), st.integers(min_value=1, max_value=9))
def test_any_single_mistyped_digit_is_caught(position: int, delta: int) -> None:
    number = user_numbers.generate()
    wrong = str((int(number[position]) + delta) % 10)
    typo = number[:position] + wrong + number[position + 1 :]
    assert not user_numbers.is_valid(typo)


def test_swapping_two_adjacent_different_digits_is_caught_except_09_pairs() -> None:
    number = "1234567890123" + user_numbers.luhn_check_digit("1234567890123")
    swapped = number[1] + number[0] + number[2:]
    assert not user_numbers.is_valid(swapped)


def test_copied_numbers_with_spaces_and_dots_are_normalised() -> None:
    assert user_numbers.normalise(" 1234 5678.9012-34 ") == "12345678901234"


def test_non_ascii_digits_are_not_valid() -> None:
    assert not user_numbers.is_valid("١٢٣٤٥٦٧٨٩٠١٢٣٤")
