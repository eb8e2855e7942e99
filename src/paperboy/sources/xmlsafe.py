"""Safe XML parsing for the feeds (defusedxml): no entity expansion, no external entities.

Every XML source parses through :func:`parse_xml`, which turns both malformed XML and refused
constructs (entity declarations: the "billion laughs" attack) into :class:`XMLProblem` with a
one-line message, so a source can report the page as rejected instead of crashing.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class XMLProblem(ValueError):
    """A document that is not well-formed or that declares entities."""


def parse_xml(data: bytes | str) -> Element:
    try:
        return fromstring(data)
    except DefusedXmlException as exc:
        raise XMLProblem(
            f"XML refused: it declares entities or a DTD ({type(exc).__name__}); "
            "entity expansion is never performed"
        ) from None
    except ParseError as exc:
        raise XMLProblem(f"XML error: {exc}") from None


def text(el: Element | None, path: str | None = None, ns: dict | None = None) -> str | None:
    """Whitespace-normalized text of ``el`` (or of its child at ``path``), None when absent/empty."""
    if el is not None and path is not None:
        el = el.find(path, ns or {})
    if el is None or el.text is None:
        return None
    value = " ".join(el.text.split())
    return value or None
