"""Safe, pure parsing of the SOAP envelopes cameras send back.

Camera firmware varies in namespace prefixes and sometimes in namespaces themselves, so
elements are matched by local name. SOAP forbids DTDs: any DTD, entity or external reference
is rejected (defusedxml), which also stops entity-expansion bombs.
"""

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from adapters.base import AuthenticationFailed, ProtocolError

Prefixes = Mapping[str, str]  # namespace prefix -> URI, as declared where an element sits

_FORBIDDEN = (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden)
_NOT_AUTHORIZED = ("notauthorized", "failedauthentication", "not authorized")
_REASON_LIMIT = 200


class SoapFault(ProtocolError):
    """The camera answered with a SOAP fault; `codes` lets callers react to a specific one."""

    def __init__(self, codes: tuple[str, ...], reason: str) -> None:
        self.codes = codes
        self.reason = reason
        super().__init__(f"the camera answered with a SOAP fault: {' / '.join(codes)}: {reason}")


@dataclass(frozen=True, slots=True)
class SoapDocument:
    body: Element
    prefixes: Mapping[Element, Prefixes]  # in-scope declarations, to resolve QNames in text


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def children(parent: Element, name: str) -> Iterator[Element]:
    return (child for child in parent if local_name(child.tag) == name)


def child(parent: Element | None, name: str) -> Element | None:
    return None if parent is None else next(children(parent, name), None)


def parse_envelope(xml: str | bytes) -> SoapDocument:
    """The envelope's Body. Raises `ProtocolError`, or `AuthenticationFailed` for that fault."""
    root, prefixes = _parse(xml)
    if local_name(root.tag) != "Envelope":
        raise ProtocolError("the answer is XML but not a SOAP envelope")
    body = child(root, "Body")
    if body is None:
        raise ProtocolError("the SOAP envelope has no Body")
    _raise_for_fault(body)
    return SoapDocument(body=body, prefixes=prefixes)


def _parse(xml: str | bytes) -> tuple[Element, dict[Element, Prefixes]]:
    # iterparse reports namespace declarations, which ElementTree otherwise discards.
    source = io.StringIO(xml) if isinstance(xml, str) else io.BytesIO(xml)
    events = safe_et.iterparse(source, events=("start-ns", "start", "end"), forbid_dtd=True)
    prefixes: dict[Element, Prefixes] = {}
    stack: list[Prefixes] = [{}]
    declared: dict[str, str] = {}
    try:
        for event, item in events:
            if event == "start-ns":
                declared[item[0]] = item[1]
            elif event == "start":
                scope = {**stack[-1], **declared} if declared else stack[-1]
                declared = {}
                stack.append(scope)
                prefixes[item] = scope
            else:
                stack.pop()
    except ParseError as exc:
        line, column = exc.position
        raise ProtocolError(
            f"the answer is not well-formed XML (line {line}, column {column})"
        ) from None
    except _FORBIDDEN:
        raise ProtocolError("the answer holds a DTD or entities, which SOAP forbids") from None
    return next(iter(prefixes)), prefixes


def _raise_for_fault(body: Element) -> None:
    fault = child(body, "Fault")
    if fault is None:
        return
    # SOAP 1.2: Code/Value, Code/Subcode/Value…, Reason/Text; SOAP 1.1: faultcode, faultstring.
    codes = tuple(
        _text(element)
        for element in fault.iter()
        if local_name(element.tag) in ("Value", "faultcode") and _text(element)
    )
    # Not `or`: an Element without children is falsy.
    reason_element = child(child(fault, "Reason"), "Text")
    if reason_element is None:
        reason_element = child(fault, "faultstring")
    reason = _text(reason_element)[:_REASON_LIMIT] or "no reason given"
    evidence = " ".join((*codes, reason)).lower()
    if any(marker in evidence for marker in _NOT_AUTHORIZED):
        raise AuthenticationFailed(f"the camera rejected the credentials ({reason})")
    raise SoapFault(codes, reason)


def _text(element: Element | None) -> str:
    # Collapse the indentation pretty-printed firmware puts around values.
    return " ".join((element.text or "").split()) if element is not None else ""
