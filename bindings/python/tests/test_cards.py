"""ID cards through a private pcscd and vsmartcard's virtual reader, with the project's emulated cards.

Skipped, with the reason, where that cannot run (not root, no pcscd, no vpcd).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List

import pytest

import eid
from conftest import Cards, Pki

READER = "Virtual PCD 00 00"


@pytest.fixture()
def ctx(cards: Cards) -> Iterator[eid.CardContext]:
    with eid.CardContext() as c:
        yield c


def test_readers_and_wait(cards: Cards, ctx: eid.CardContext) -> None:
    cards.insert("belpic-1.8")
    readers = ctx.readers()
    assert READER in [r.name for r in readers]
    assert next(r for r in readers if r.name == READER).has_card
    assert ctx.wait(READER, timeout=1)
    assert not ctx.wait_removed(READER, timeout=0.3)  # still there


@pytest.mark.parametrize("name", ["belpic-1.7", "belpic-1.8", "esteid-2018"])
def test_identity(name: str, cards: Cards, ctx: eid.CardContext, pki: Pki) -> None:
    cards.insert(name)
    with ctx.open() as card:
        assert card.reader == READER and card.atr[0] == 0x3B
        assert card.profile == ("belpic" if name.startswith("belpic") else "esteid")
        assert card.description
        ident = card.identity()
        assert card.apdu_count > 0
        cert = card.certificate("sign")
        assert cert[0] == 0x30
    assert ident.surname and ident.surname.upper() == "ØSTER-ŁUKASZ"
    assert ident.fields["surname"] == ident.surname
    if name.startswith("belpic"):
        assert ident.integrity == "valid" and ident.birth_date == "1985-03-15"
        assert ident.photo is not None and ident.photo[:2] == b"\xff\xd8"
        assert ident.address_street == "Rue de l'Église 12"
    else:
        assert ident.integrity == "none" and ident.personal_code == "38503151239"
    d = ident.to_dict()
    assert d["integrity"] == ident.integrity and "photo" not in d
    assert ident.to_json()


def test_identity_signer_checked_against_anchors(cards: Cards, ctx: eid.CardContext, pki: Pki) -> None:
    cards.insert("belpic-1.8")
    with ctx.open() as card:
        with eid.TrustStore([pki.root]) as good, eid.TrustStore([pki / "other-root.crt"]) as bad:
            assert card.identity(trust=good).integrity == "valid"
            ident = card.identity(trust=bad)
    assert ident.integrity == "failed" and ident.signer_checked
    assert "does not chain" in (ident.integrity_reason or "")


@pytest.mark.parametrize("name", ["belpic-1.7-tampered", "belpic-1.8-tampered"])
def test_tampered_identity_is_a_verdict(name: str, cards: Cards, ctx: eid.CardContext) -> None:
    cards.insert(name)
    with ctx.open() as card:
        ident = card.identity()
    assert ident.integrity == "failed"
    assert "national register" in (ident.integrity_reason or "")


def test_pins(cards: Cards, ctx: eid.CardContext) -> None:
    cards.insert("belpic-1.8")
    right = cards.pin("belpic-1.8")
    with ctx.open() as card:
        assert card.pin_tries("auth") == 3
        with pytest.raises(eid.PinWrong) as ei:
            card.verify_pin("9999")
        assert ei.value.tries_left == 2 and "2 tries left" in ei.value.message
        assert card.pin_tries() == 2
        secret = bytearray(right.encode())
        card.verify_pin(secret)
        assert secret == bytearray(len(secret))  # wiped
        assert card.pin_tries() == 3
        card.change_pin(right, lambda: "73915082")
        with pytest.raises(eid.PinWrong):
            card.verify_pin(right)
        card.verify_pin("73915082")
        with pytest.raises(eid.PinInvalid):
            card.verify_pin("12")
        with pytest.raises(eid.Canceled):
            card.verify_pin(lambda: None)


def test_blocked_pin_sends_nothing(cards: Cards, ctx: eid.CardContext) -> None:
    cards.insert("belpic-1.8-blocked-pin")
    with ctx.open() as card:
        with pytest.raises(eid.PinLocked) as ei:
            card.verify_pin("1234")
    assert ei.value.tries_left == 0 and "nothing was sent" in ei.value.message


def test_esteid_pin2_unblock(cards: Cards, ctx: eid.CardContext) -> None:
    cards.insert("esteid-2018")
    with ctx.open() as card:
        assert card.pin_tries("sign") == 3
        for left in (2, 1):
            with pytest.raises(eid.PinWrong) as ei:
                card.verify_pin("11111", which="sign")
            assert ei.value.tries_left == left
        with pytest.raises(eid.PinLocked):
            card.verify_pin("11111", which="sign")
        card.unblock_pin(cards.pin("esteid-2018", "PUK"), "24680", which="sign")
        card.verify_pin("24680", which="sign")


@pytest.mark.parametrize("name", ["belpic-1.8", "esteid-2018"])
def test_card_direct_signing(name: str, cards: Cards, ctx: eid.CardContext, pki: Pki, pdf: Path,
                             txt: Path, tmp_path: Path) -> None:
    cards.insert(name)
    pin = cards.pin(name, "PIN2")
    asked: List[eid.PinRequest] = []

    def ask(req: eid.PinRequest) -> bytearray:
        asked.append(req)
        return bytearray(pin.encode())

    with ctx.open() as card:
        with card.signer("sign", pin=ask) as signer:
            assert signer.certificate == card.certificate("sign")
            eid.sign_pdf(signer, pdf, tmp_path / "card.pdf")
            eid.sign_asic(signer, [txt], tmp_path / "card.asice")
    assert asked and asked[0].token_label
    anchors = [pki.root]
    for f in ("card.pdf", "card.asice"):
        r = eid.verify(tmp_path / f, trust=anchors, untrusted=[pki / "int.crt"], online=True)
        assert r.passed, r.text
        assert r.signatures[0].signer.name and "Łukasz".upper() in r.signatures[0].signer.subject.upper()  # type: ignore[union-attr]


def test_card_wrong_pin_no_signature(cards: Cards, ctx: eid.CardContext, txt: Path, tmp_path: Path) -> None:
    cards.insert("belpic-1.8")
    with ctx.open() as card, card.signer(pin=lambda r: "9999") as signer:
        with pytest.raises(eid.PinWrong) as ei:
            eid.sign_cades(signer, txt, tmp_path / "x.p7s")
    assert ei.value.tries_left == 2
    assert not (tmp_path / "x.p7s").exists()


def test_closing_the_card_closes_its_signer(cards: Cards, ctx: eid.CardContext) -> None:
    cards.insert("belpic-1.8")
    card = ctx.open()
    signer = card.signer(pin=lambda r: "1234")
    ctx.close()  # the context closes the card, which closes the signer
    assert card.closed and signer.closed
    with pytest.raises(ValueError):
        signer.name


def test_unknown_card_and_no_card(cards: Cards, ctx: eid.CardContext) -> None:
    cards.insert("unknown")
    with pytest.raises(eid.Unsupported):
        ctx.open()
    import subprocess

    from conftest import script

    subprocess.run(["bash", script("tests", "card", "pcsc.sh"), "remove", str(cards.pcsc), "0"], check=True,
                   capture_output=True)
    with pytest.raises(eid.NotFound):
        ctx.open()
    assert not ctx.wait(timeout=0.2)
    cards.insert("belpic-1.8")
    with eid.open_card() as card:
        assert card.profile == "belpic"
    assert card.closed and card.context.closed
