"""The signature scheme: HMAC-SHA256 over "<t>.<body>", a ±300 s window."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from aftersales.channels.webhooks import signing

SECRET = "whsec_abc"
BODY = '{"type":"ticket.create","data":{"subject":"漏水"}}'.encode()


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    header = signing.sign(SECRET, BODY, timestamp=1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_a_valid_signature_verifies_and_returns_its_timestamp():
    header = signing.sign(SECRET, BODY, timestamp=1_700_000_000)
    assert signing.verify(secret=SECRET, header=header, body=BODY, now=1_700_000_100) == 1_700_000_000


def test_one_matching_v1_is_enough_while_a_secret_is_rotated():
    good = signing.sign(SECRET, BODY, timestamp=1_700_000_000).split(",")[1]
    header = f"t=1700000000,v1={'0' * 64},{good}"
    assert signing.verify(secret=SECRET, header=header, body=BODY, now=1_700_000_000) == 1_700_000_000


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "t=1700000000",
        "v1=" + "a" * 64,
        "t=abc,v1=" + "a" * 64,
        "t=1700000000,v1=xyz",
        "t=1700000000,v1=" + "a" * 64,
        "t=1700000000,v1=" + "a" * 5000,
    ],
)
def test_a_missing_malformed_or_wrong_signature_is_refused(header):
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(secret=SECRET, header=header, body=BODY, now=1_700_000_000)


def test_a_changed_body_or_another_secret_does_not_verify():
    header = signing.sign(SECRET, BODY, timestamp=1_700_000_000)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(secret=SECRET, header=header, body=BODY + b" ", now=1_700_000_000)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(secret="whsec_other", header=header, body=BODY, now=1_700_000_000)


def test_re_dating_a_signature_breaks_it():
    header = signing.sign(SECRET, BODY, timestamp=1_700_000_000)
    redated = header.replace("t=1700000000", "t=1700000500")
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(secret=SECRET, header=redated, body=BODY, now=1_700_000_500)


@pytest.mark.parametrize("offset", [301, -301, 86_400])
def test_a_timestamp_outside_five_minutes_is_refused(offset):
    header = signing.sign(SECRET, BODY, timestamp=1_700_000_000)
    with pytest.raises(signing.TimestampOutOfRange):
        signing.verify(secret=SECRET, header=header, body=BODY, now=1_700_000_000 + offset)


@pytest.mark.parametrize("offset", [300, -300, 0])
def test_a_timestamp_within_five_minutes_is_accepted(offset):
    header = signing.sign(SECRET, BODY, timestamp=1_700_000_000)
    assert signing.verify(secret=SECRET, header=header, body=BODY, now=1_700_000_000 + offset)


def test_v2_signs_the_event_id_too_and_v1_stays_beside_it():
    header = signing.sign(SECRET, BODY, timestamp=1_700_000_000, event_id="evt-1")
    v1 = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    v2 = hmac.new(SECRET.encode(), b"1700000000.evt-1." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={v1},v2={v2}"


def test_verify_event_prefers_v2_and_refuses_a_v2_for_another_id():
    header = signing.sign(SECRET, BODY, timestamp=1_700_000_000, event_id="evt-1")
    only_v2 = ",".join(part for part in header.split(",") if not part.startswith("v1="))
    verified = signing.verify_event(
        secret=SECRET, header=only_v2, body=BODY, event_id="evt-1", now=1_700_000_000
    )
    assert (verified.timestamp, verified.version) == (1_700_000_000, "v2")
    with pytest.raises(signing.SignatureInvalid):
        signing.verify_event(secret=SECRET, header=only_v2, body=BODY, event_id="evt-2", now=1_700_000_000)
    legacy = signing.verify_event(
        secret=SECRET, header=header, body=BODY, event_id="evt-2", now=1_700_000_000
    )
    assert legacy.version == "v1"
