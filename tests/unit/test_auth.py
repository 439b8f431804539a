"""Stored secrets: salted scrypt, parsed strictly, checked in constant time."""

import re

import pytest

from bananas.auth import hash_secret, parse_stored, verify_secret
from bananas.errors import ConfigError

FAST = {"n": 2**10, "r": 8, "p": 1}  # the format is the same; tests need not pay for 2^14


def test_a_secret_verifies_against_its_stored_form_and_nothing_else():
    stored = hash_secret("s3cret-token", **FAST)
    assert verify_secret("s3cret-token", stored)
    assert not verify_secret("s3cret-tokem", stored)
    assert not verify_secret("", stored)


def test_the_stored_form_names_scheme_and_parameters_and_is_salted():
    a, b = hash_secret("same", **FAST), hash_secret("same", **FAST)
    assert a.startswith("scrypt$1024$8$1$") and a.count("$") == 5
    assert a != b, "a fresh salt each time"
    assert verify_secret("same", a) and verify_secret("same", b)


def test_the_default_cost_is_scrypt_n_2_14():
    assert hash_secret("x").startswith("scrypt$16384$8$1$")


@pytest.mark.parametrize("bad", ["", "plain-text", "bcrypt$12$x", "scrypt$1000$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
                                 "scrypt$16384$8$1$!!$AAAA", f"scrypt${2**22}$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"])
def test_a_malformed_or_too_costly_stored_form_is_a_config_error_naming_the_key(bad):
    with pytest.raises(ConfigError, match=re.escape("http.tokens[0].secret_hash")):
        parse_stored(bad, "http.tokens[0].secret_hash")


def test_an_empty_or_huge_secret_cannot_be_hashed():
    with pytest.raises(ValueError, match="empty"):
        hash_secret("")
    with pytest.raises(ValueError, match="longer"):
        hash_secret("x" * 5000)
