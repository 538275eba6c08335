"""labelhub.params: the one reading of a boolean flag."""

import pytest

from labelhub.params import is_false, is_true


@pytest.mark.parametrize("value", ["1", "true", "True", "YES", "on", " on ", True, 1])
def test_true_words(value):
    assert is_true(value) is True


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "off", "2", "maybe", False, 0])
def test_anything_else_is_false(value):
    assert is_true(value) is False


def test_missing_takes_the_default():
    assert is_true(None) is False and is_true("", default=True) is True
    assert is_true(None, default=True) is True and is_true("no", default=True) is False


def test_is_false_only_for_an_explicit_no():
    assert is_false("false") and is_false("0") and is_false("OFF")
    assert not is_false(None) and not is_false("") and not is_false("true")
