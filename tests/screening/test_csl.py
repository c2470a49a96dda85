"""Reading Consolidated Screening List files: any column order, optional columns absent,
multi-valued cells, and clear errors for files that cannot be a list."""

from __future__ import annotations

import pytest

from idsvc.screening.csl import CslError, parse_csl
from idsvc.screening.names import normalize_name


def test_columns_in_any_order_and_optional_ones_missing() -> None:
    data = (
        "\ufeffName , SOURCE,alt_names,programs,_id,type\n"
        'Acme Ltd,SDN,"Acme Trading; Acme Trading;  ; ACME",IRAN; NPWMD,sdn-1,Entity\n'
        "Bolt Co,EL,,,,\n"
    ).encode()
    first, second = parse_csl(data)
    assert first.source == "SDN"
    assert first.name == "Acme Ltd"
    assert first.alt_names == ("Acme Trading", "ACME")  # blanks and repeats dropped
    assert first.programs == ("IRAN", "NPWMD")
    assert first.entry_key == "SDN|sdn-1"
    assert first.type == "Entity"
    assert second.entry_key == "EL|Bolt Co"  # no _id, no entity number: source and name
    assert second.alt_names == ()
    assert second.type is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"source,title\nSDN,x\n", "missing required column(s): name"),
        (b"name\nAcme\n", "missing required column(s): source"),
        (b"source,name\nSDN,\n", "line 2"),
        (b"source,name\n\xff\xfe,x\n", "not UTF-8"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(CslError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_csl(data)


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        ("Société Générale S.A.", "generale societe"),
        ("OOO «Romashka»", "romashka"),
        ("KIM, Jong Un", "jong kim un"),
        ("Müller & Söhne GmbH", "muller sohne"),
        ("Ørsted Æther L.L.C.", "aether orsted"),
        ("Bank of China", "bank china"),
        ("Holding AG", "ag holding"),  # nothing but legal forms: kept, never empty
        ("O'Neil Industries Inc.", "industries oneil"),
    ],
)
def test_names_normalise_case_accents_legal_forms_and_order(name: str, normal: str) -> None:
    assert normalize_name(name) == normal
