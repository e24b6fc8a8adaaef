"""The demo reads the family's page through the signed link of the message they received."""

from __future__ import annotations

from services.demo.casework_scene import LINK


def test_the_signed_link_is_found_in_the_message_the_family_received():
    text = ("[Assist] Your Subsistence allowance (dibao) was approved: ¥3,026.25 per month. Why, and to accept or "
            "decline: http://127.0.0.1:8081/c/v1.p3344afc5.o-34b1e85a.1798724453.W6Gti6LJvoeH9otp1XliXA")
    found = LINK.search(text)
    assert found is not None
    assert found.group() == "http://127.0.0.1:8081/c/v1.p3344afc5.o-34b1e85a.1798724453.W6Gti6LJvoeH9otp1XliXA"
    assert LINK.search("no link here") is None
