from ledgerlens.core.privacy import (
    luhn_ok,
    mask_card_id,
    mask_iban,
    mask_pans_in_text,
    scrub_text,
)


def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")


def test_pans_in_text_are_masked_keeping_last_four() -> None:
    text = "CARD 4111 1111 1111 1111 TESCO STORES 2231"
    assert mask_pans_in_text(text) == "CARD **** 1111 TESCO STORES 2231"


def test_non_luhn_digit_runs_in_text_are_kept() -> None:
    # references and account numbers are not card numbers
    assert mask_pans_in_text("REF 1234567890123") == "REF 1234567890123"


def test_card_id_masks_any_long_digit_run() -> None:
    assert mask_card_id("4111111111111112") == "**** 1112"
    assert mask_card_id("card_07") == "card_07"
    assert mask_card_id("**** 1234") == "**** 1234"


def test_scrub_text_removes_ibans_and_pans() -> None:
    out = scrub_text("paid NL91ABNA0417164300 with 5500005555555559")
    assert "0417164300" not in out and "5500005555555559" not in out
    assert mask_iban("NL91ABNA0417164300") == "NL**…4300"
