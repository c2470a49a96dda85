"""E-mail addresses as idsvc compares them: one comparison key, and a refusal of every form
that only looks like another address.

Addresses enter from an identity provider (the ``email`` claim at sign-in), a CSV
enrolment, SCIM (``userName``, ``emails``), invitations and an organisation's request;
domains enter as an organisation's claimed domains. Each goes through :func:`address_key`
(or :func:`check_domain_text`) before anything is stored or compared, and memberships,
invitations and SCIM look-ups match on the key it returns: ``NFKC(address).casefold()``
(normalised once more, see :func:`address_key`).

Why refuse rather than normalise: the Kelvin sign (U+212A) case-folds to an ASCII "k", so
``Kate@acme.example`` written with it *is* ``kate@acme.example`` under any case-insensitive
comparison, while its owner receives mail at a different mailbox. Folding it silently is
what let a provider that verified the first address claim the second's membership.
Invisible characters do the opposite: ``ka<U+200B>te@acme.example`` compares unequal but
shows as ``kate@acme.example`` in the console and the eligibility report. So an address
that differs from its plain form only in ways a reader cannot see is refused, and the
caller sends the plain form; the address stored and shown is then the one compared.

Refused:

* default-ignorable code points (zero-width spaces and joiners, the soft hyphen,
  variation selectors, tag characters, Hangul fillers) and every other control, format,
  surrogate, private-use or unassigned code point (an unassigned one could gain a case or
  compatibility mapping in a later Unicode version, and change its key);
* a form that NFKC changes (the Kelvin sign, fullwidth letters, ligatures, superscripts,
  decomposed accents): a confusable-only difference from the plain form;
* in an address, any space, and letters of more than one script in the local part or in
  one domain label (UTS 39's "highly restrictive" level, approximated; see ``_script``).

Not refused: whole-script confusables. An all-Cyrillic local part that reads as Latin
(U+0430 CYRILLIC SMALL LETTER A for "a", and so on throughout) is a single-script
string; its key differs from the Latin one, so it claims nothing of it, but the two
display alike. Telling them apart needs UTS 39's confusables data, which the standard
library does not carry.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MAX_KEY_LENGTH",
    "AddressRefused",
    "address_key",
    "address_key_or_none",
    "check_domain_text",
    "check_plain_text",
    "fold_stored",
]

# memberships.email holds the key and allows 320 characters; case folding can lengthen
# text ("ß" becomes "ss"), so the key is what is bounded.
MAX_KEY_LENGTH = 320

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt), spelled out rather than
# derived from categories: some are marks or letters (U+034F, U+115F, U+3164, U+FE00-FE0F),
# not format characters, and Python's unicodedata has no property lookup.
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)

# UTS 39 "highly restrictive": one script, or Latin with the scripts Chinese, Japanese and
# Korean writing mix with Han.
_SCRIPT_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# Character names whose first word is not the script's: None means used by several
# scripts (UTS 24 Common), like digits and punctuation.
_SCRIPT_BY_NAME = {
    "CJK": "HAN",
    "IDEOGRAPHIC": "HAN",
    "KATAKANA-HIRAGANA": None,
    "MODIFIER": None,
}


class AddressRefused(ValueError):
    """An address (or domain, or identifier) is not in plain form. ``reason`` says why in
    words a person can act on, naming characters by code point (the character itself could
    be invisible, or forge the text around it); the caller adds the field."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _code_point(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, '(unnamed)')}"


def check_plain_text(text: str) -> None:
    """Raise AddressRefused if ``text`` holds an invisible, control or unassigned code
    point, or differs from its NFKC form. For identifiers that need not be addresses (a
    SCIM ``userName`` such as ``jdoe``) and for values a look-up compares with them."""
    ignorable = _DEFAULT_IGNORABLE.search(text)
    if ignorable:
        raise AddressRefused(f"contains an invisible character ({_code_point(ignorable[0])})")
    for char in text:
        if unicodedata.category(char).startswith("C"):
            raise AddressRefused(
                f"contains a control, private-use or unassigned character (U+{ord(char):04X})"
            )
    if not unicodedata.is_normalized("NFKC", text):
        changed = next((c for c in text if unicodedata.normalize("NFKC", c) != c), None)
        shown = f" ({_code_point(changed)})" if changed else ""
        raise AddressRefused(
            f"is not in plain form{shown}: send the plain characters it stands for"
        )


def _script(char: str) -> str | None:
    """The script of a letter, from the first word of its Unicode name ("LATIN SMALL
    LETTER A", "CYRILLIC SMALL LETTER A", "CJK UNIFIED IDEOGRAPH-4E00"); None for what is
    not a letter (digits, punctuation, combining marks), which every script uses.

    An approximation of the Script property (not in Python's unicodedata): a letter whose
    name starts otherwise counts as a script of its own, so the rule errs on refusing."""
    if not unicodedata.category(char).startswith("L"):
        return None
    first = unicodedata.name(char, "").split(" ", 1)[0]
    return _SCRIPT_BY_NAME.get(first, first)


def _check_single_script(part: str, where: str) -> None:
    scripts = {s for s in map(_script, part) if s is not None}
    if len(scripts) > 1 and not any(scripts <= mix for mix in _SCRIPT_MIXES):
        names = " and ".join(sorted(s.title() for s in scripts))
        raise AddressRefused(f"mixes letters of different scripts ({names}) in {where}")


def _check_no_space(text: str) -> None:
    space = next((c for c in text if unicodedata.category(c).startswith("Z")), None)
    if space is not None:
        raise AddressRefused(f"contains a space ({_code_point(space)})")


def check_domain_text(domain: str) -> None:
    """Raise AddressRefused unless ``domain`` (as typed, before IDNA) is in plain form with
    each label in one script. IDNA's own mapping (UTS 46) would fold the Kelvin sign and
    fullwidth letters and drop some invisible characters without a word; refusing first
    keeps the claimed name the one the organisation typed."""
    check_plain_text(domain)
    _check_no_space(domain)
    for label in domain.split("."):
        _check_single_script(label, "one label")


def address_key(address: str) -> str:
    """The key ``address`` is stored and compared by, ``NFKC(address).casefold()``; raises
    AddressRefused for an address not in plain form (see the module's docstring). Syntax
    (one ``@``, the domain's form) is the caller's check."""
    check_plain_text(address)
    _check_no_space(address)
    # Normalised again after folding, as Unicode's NFKC_Casefold is: folding can leave a
    # sequence NFKC would compose ("ǰ" folds to "j" and a combining caron), and a key in
    # plain form is its own key, so code handed a key may pass it through here again.
    key = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", address).casefold())
    # Scripts are read from the key: folding turns a few marks into letters (U+0345 into a
    # Greek iota), and the key is what is compared.
    local, _, domain = key.rpartition("@")
    _check_single_script(local, "the local part")
    for label in domain.split("."):
        _check_single_script(label, "one label of the domain")
    if len(key) > MAX_KEY_LENGTH:
        raise AddressRefused(f"is longer than {MAX_KEY_LENGTH} characters once case-folded")
    return key


def address_key_or_none(address: str | None) -> str | None:
    """The key of an address, or None when :func:`address_key` would refuse it. For
    addresses already checked where they entered, and for those stored before the checks
    existed (an account's address from an earlier sign-in): a refused address matches
    nothing, so an old ``<U+212A>ate@`` never passes for ``kate@``."""
    if address is None:
        return None
    try:
        return address_key(address)
    except AddressRefused:
        return None


def fold_stored(text: str) -> str:
    """The key's folding without the checks: for finding stored values that may predate
    them (a SCIM filter over stored attributes, the addresses an erasure removes). Never
    for deciding who an address belongs to: use :func:`address_key_or_none`."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
