"""The one rule for addresses (idsvc.accounts.addresses): the comparison key, and the
refusal of forms that differ from the plain one only in what a reader cannot see."""

from __future__ import annotations

import unicodedata

import pytest

from idsvc.accounts import addresses
from idsvc.accounts.addresses import (
    AddressRefused,
    address_key,
    address_key_or_none,
    check_domain_text,
    check_plain_text,
    fold_stored,
)

# Default_Ignorable_Code_Point, as Unicode's DerivedCoreProperties.txt lists it (15.1).
DEFAULT_IGNORABLE = [
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
]  # fmt: skip


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("Kate@Acme.Example", "kate@acme.example"),
        ("kate@acme.example", "kate@acme.example"),
        # Full case folding, not lower(): these are one mailbox name, so one key.
        ("Straße@example.de", "strasse@example.de"),
        ("STRASSE@example.de", "strasse@example.de"),
        # Scripts that Japanese, Chinese and Korean writing mix are one script here.
        ("やまだ太郎@example.jp", "やまだ太郎@example.jp"),
        ("홍길동@example.kr", "홍길동@example.kr"),
        ("josé.müller@example.com", "josé.müller@example.com"),
        ("ann+tag_1@sub.example.com", "ann+tag_1@sub.example.com"),
    ],
)
def test_plain_addresses_get_their_key(address: str, key: str) -> None:
    assert address_key(address) == key
    # A key is in plain form itself: code handed a key may check it again.
    assert address_key(key) == key
    assert address_key_or_none(address) == key


@pytest.mark.parametrize(
    ("address", "named"),
    [
        # Python's lower() and casefold() both turn the Kelvin sign into an ASCII k.
        ("\u212aate@acme.example", "U+212A KELVIN SIGN"),
        ("\uff4bate@acme.example", "U+FF4B FULLWIDTH LATIN SMALL LETTER K"),
        ("\ufb01nn@acme.example", "U+FB01 LATIN SMALL LIGATURE FI"),
        ("kate\u00b2@acme.example", "U+00B2 SUPERSCRIPT TWO"),
        ("kate@acme.exampl\u212f", "U+212F SCRIPT SMALL E"),
        ("ka\u200bte@acme.example", "U+200B ZERO WIDTH SPACE"),
        ("kate\u200d@acme.example", "U+200D ZERO WIDTH JOINER"),
        ("ka\u00adte@acme.example", "U+00AD SOFT HYPHEN"),
        ("kate\ufe0f@acme.example", "U+FE0F VARIATION SELECTOR-16"),
        ("kate\U000e0041@acme.example", "U+E0041 TAG LATIN CAPITAL LETTER A"),
        ("kate@acme\u2060.example", "U+2060 WORD JOINER"),
        ("ka te@acme.example", "U+0020 SPACE"),
        ("kate\u3000@acme.example", "U+3000 IDEOGRAPHIC SPACE"),
    ],
)
def test_confusable_only_differences_are_refused_naming_the_character(
    address: str, named: str
) -> None:
    with pytest.raises(AddressRefused) as refused:
        address_key(address)
    assert named in refused.value.reason
    assert address_key_or_none(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "kat\u0065\u0301@acme.example",  # e + combining acute: NFKC composes it
        "kate\u0007@acme.example",  # a control character
        "kate\ue000@acme.example",  # private use: displays as anything
        "kate\u0378@acme.example",  # unassigned: could gain a mapping in a later Unicode
        "\ud800kate@acme.example",  # a lone surrogate
        "ka\u00a0te@acme.example",  # a no-break space (NFKC makes it a space)
    ],
)
def test_other_invisible_or_unstable_forms_are_refused(address: str) -> None:
    with pytest.raises(AddressRefused):
        address_key(address)


def test_every_default_ignorable_code_point_is_refused() -> None:
    for first, last in DEFAULT_IGNORABLE:
        for code_point in range(first, last + 1):
            with pytest.raises(AddressRefused, match="invisible"):
                check_plain_text(f"ka{chr(code_point)}te@acme.example")


def test_mixed_scripts_are_refused_in_the_local_part_and_in_a_domain_label() -> None:
    # U+0430 CYRILLIC SMALL LETTER A in "kate": reads as kate, is not NFKC-equal to it, so
    # only the script rule tells them apart.
    with pytest.raises(AddressRefused, match="Cyrillic and Latin"):
        address_key("k\u0430te@acme.example")
    with pytest.raises(AddressRefused, match="Cyrillic and Latin"):
        address_key("kate@\u0430cme.example")
    with pytest.raises(AddressRefused, match="Greek and Latin"):
        address_key("kat\u03b5@acme.example")
    # Folding can make a letter of a mark (U+0345 becomes a Greek iota): the key is read.
    with pytest.raises(AddressRefused, match="Greek and Latin"):
        address_key("ka\u0345te@acme.example")
    # Scripts may differ between parts: a Cyrillic local part at a Latin domain.
    assert address_key("\u043a\u0430\u0442\u044f@acme.example") == "катя@acme.example"


def test_a_whole_script_confusable_is_left_alone_and_claims_nothing() -> None:
    """All-Cyrillic "касе" looks like Latin "kace". Telling them apart needs UTS 39's
    confusables data; what matters here is that its key is not the Latin one."""
    cyrillic = "\u043a\u0430\u0441\u0435@acme.example"
    assert address_key(cyrillic) != address_key("kace@acme.example")


def test_the_key_is_nfkc_then_casefold_for_every_plain_address() -> None:
    """The documented key (NFKC, then case-folded) for every assigned code point that may
    stand in an address, and a key is its own key."""
    for code_point in range(0x21, 0x30000):
        address = f"a{chr(code_point)}b@example.com"
        key = address_key_or_none(address)
        if key is None:
            continue
        assert key == unicodedata.normalize(
            "NFKC", unicodedata.normalize("NFKC", address).casefold()
        )
        assert address_key(key) == key


def test_the_key_is_bounded_after_folding() -> None:
    # 64 "ß" fold to 128 characters: a key longer than memberships.email holds is refused.
    assert len(address_key("ß" * 64 + "@" + "a" * 63 + ".example")) == 128 + 1 + 63 + 8
    with pytest.raises(AddressRefused, match="longer than 320"):
        address_key("ß" * 160 + "@example.com")


def test_domains_as_typed() -> None:
    check_domain_text("Bücher.Example")
    check_domain_text("xn--bcher-kva.example")
    for bad in ("acme\u200b.example", "\u212aate.example", "\u0430cme.example", "ac me.example"):
        with pytest.raises(AddressRefused):
            check_domain_text(bad)


def test_stored_values_fold_without_the_checks() -> None:
    # For finding what was stored before the checks (erasure, SCIM filters), never for
    # deciding who an address belongs to.
    assert fold_stored("\u212aate@Acme.example") == "kate@acme.example"
    assert address_key_or_none("\u212aate@Acme.example") is None
    assert address_key_or_none(None) is None


def test_all_is_complete() -> None:
    public = {
        name
        for name, value in vars(addresses).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == addresses.__name__
    }
    assert public <= set(addresses.__all__)
