"""WS-Discovery messages, pure: the Probe we send and the ProbeMatch answers we accept."""

from xml.etree.ElementTree import fromstring

from adapters.onvif.discovery import (
    NS_DN,
    NS_WSA,
    NS_WSD,
    PROBE_ACTION,
    parse_probe_matches,
    probe_message,
)

OURS = "urn:uuid:8f0d7c4e-0000-4000-8000-000000000001"
ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"
  xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
  xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery">
 <SOAP-ENV:Header>
  <wsa:MessageID>urn:uuid:11111111-2222-4333-8444-555555555555</wsa:MessageID>
  <wsa:RelatesTo>{relates_to}</wsa:RelatesTo>
  <wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>
 </SOAP-ENV:Header>
 <SOAP-ENV:Body>{body}</SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""
MATCHES = """<wsd:ProbeMatches>
 <wsd:ProbeMatch>
  <wsa:EndpointReference><wsa:Address>urn:uuid:aaaa-1</wsa:Address></wsa:EndpointReference>
  <wsd:Types>dn:NetworkVideoTransmitter tds:Device</wsd:Types>
  <wsd:Scopes>onvif://www.onvif.org/type/video_encoder
   onvif://www.onvif.org/name/Gate%203%20North onvif://www.onvif.org/hardware/DS-2CD2043
   onvif://www.onvif.org/location/city/Seoul</wsd:Scopes>
  <wsd:XAddrs>http://admin:secret@192.0.2.10/onvif/device_service ftp://192.0.2.10/x
   http://[fe80::1]/onvif/device_service</wsd:XAddrs>
  <wsd:MetadataVersion>10</wsd:MetadataVersion>
 </wsd:ProbeMatch>
 <wsd:ProbeMatch>
  <wsd:XAddrs>http://192.0.2.11:8080/onvif/device_service</wsd:XAddrs>
 </wsd:ProbeMatch>
 <wsd:ProbeMatch><wsd:Types>dn:NetworkVideoTransmitter</wsd:Types></wsd:ProbeMatch>
</wsd:ProbeMatches>"""


def test_probe_asks_for_onvif_video_transmitters_under_our_message_id() -> None:
    root = fromstring(probe_message(OURS))
    header, body = root[0], root[1]
    assert header.findtext(f"{{{NS_WSA}}}Action") == PROBE_ACTION
    assert header.findtext(f"{{{NS_WSA}}}MessageID") == OURS
    assert body.findtext(f"{{{NS_WSD}}}Probe/{{{NS_WSD}}}Types") == "dn:NetworkVideoTransmitter"
    # The QName's prefix is bound to ONVIF's network namespace, as devices match on it.
    assert f'xmlns:dn="{NS_DN}"'.encode() in probe_message(OURS)


def test_probe_escapes_the_message_id() -> None:
    message = probe_message("urn:x<&>")
    assert fromstring(message)[0].findtext(f"{{{NS_WSA}}}MessageID") == "urn:x<&>"


def test_probe_matches_give_endpoint_addresses_and_decoded_scopes() -> None:
    data = ENVELOPE.format(relates_to=OURS, body=MATCHES).encode()
    first, second = parse_probe_matches(data, OURS, "192.0.2.10")
    assert first.endpoint == "urn:uuid:aaaa-1" and first.source == "192.0.2.10"
    # Userinfo is dropped and non-HTTP addresses are ignored.
    assert first.xaddrs == (
        "http://192.0.2.10/onvif/device_service",
        "http://[fe80::1]/onvif/device_service",
    )
    assert first.types == ("dn:NetworkVideoTransmitter", "tds:Device")
    assert (first.name, first.hardware, first.location) == (
        "Gate 3 North",
        "DS-2CD2043",
        "city/Seoul",
    )
    assert len(first.scopes) == 4
    # Without an endpoint reference, the device is known by its first address; a match with
    # neither says nothing usable and is left out.
    assert second.endpoint == "http://192.0.2.11:8080/onvif/device_service"
    assert second.name is None and second.scopes == ()


def test_a_probe_match_directly_in_the_body_is_accepted() -> None:
    # As ipycam and some firmware send it: no ProbeMatches wrapper.
    body = "<wsd:ProbeMatch>" + MATCHES.split("<wsd:ProbeMatch>")[1]
    [device] = parse_probe_matches(ENVELOPE.format(relates_to=OURS, body=body).encode(), OURS, "h")
    assert device.endpoint == "urn:uuid:aaaa-1"


def test_answers_to_other_probes_and_hellos_are_ignored() -> None:
    other = ENVELOPE.format(relates_to="urn:uuid:someone-else", body=MATCHES).encode()
    assert parse_probe_matches(other, OURS, "h") == []
    hello = ENVELOPE.replace("<wsa:RelatesTo>{relates_to}</wsa:RelatesTo>", "")
    assert parse_probe_matches(hello.format(body=MATCHES).encode(), OURS, "h") == []


def test_malformed_or_hostile_datagrams_give_nothing() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>'
    )
    cut = ENVELOPE.format(relates_to=OURS, body=MATCHES).encode()[:700]
    not_soap = f"<html><RelatesTo>{OURS}</RelatesTo></html>".encode()
    for data in (b"", b"\x00\xff garbage", bomb, cut, not_soap):
        assert parse_probe_matches(data, OURS, "h") == []
