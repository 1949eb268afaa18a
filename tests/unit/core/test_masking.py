"""Masked fingerprints and duplicate-detection digests."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.masking import ELLIPSIS, key_digest, mask_key


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A", "vmPU…Eh8A"),
        ("ABCDEFGHIJKLMNOP", "ABCD…MNOP"),  # 16 characters: first 4 … last 4
        ("ABCDEFGHIJKLMNO", "AB…NO"),  # shorter keys show less so most of the key stays hidden
        ("ABCDEFGH", "AB…GH"),
        ("ABCDEFG", "…"),
        ("", "…"),
        ("  ABCDEFGHIJKLMNOPQR \n", "ABCD…OPQR"),
        ("N//icZiyFScwpnyZV4FGgHZ7MpiNtkjyqV4yZjQun8y03d/6BldswObi", "N//i…wObi"),  # Kraken: base64 with "/"
    ],
)
def test_mask_key(key: str, masked: str) -> None:
    assert mask_key(key) == masked


@given(st.text(min_size=1, max_size=200))
def test_mask_never_reveals_more_than_half_of_a_key(key: str) -> None:
    masked = mask_key(key)
    shown = len(masked) - len(ELLIPSIS)
    assert masked.count(ELLIPSIS) >= 1
    assert shown <= len(key.strip()) // 2


def test_digest_is_sha256_salted_with_the_exchange_and_ignores_case_of_the_exchange_only() -> None:
    d = key_digest("Binance", " abc123 ")
    assert d == hashlib.sha256(b"binance\0abc123").hexdigest()
    assert key_digest("binance", "abc123") == d
    assert key_digest("okx", "abc123") != d
    assert key_digest("binance", "ABC123") != d
    assert len(d) == 64


def test_coinbase_key_names_mask_the_key_id_not_the_path() -> None:
    from keyhygiene.core.masking import mask_key

    name = "organizations/1b2c3d4e-aaaa-bbbb-cccc-000000000001/apiKeys/9f8e7d6c-1234-5678-9abc-def012345678"
    masked = mask_key(name)
    assert masked == "9f8e…5678"
    assert "organizations" not in masked


def test_base64_keys_with_slashes_are_masked_whole() -> None:
    from keyhygiene.core.masking import mask_key

    kraken = "C4vlAb/cdEFghIJ+klmNO/pqRSTuvwxYZ01234/TFqA"
    assert mask_key(kraken) == "C4vl…TFqA"
