"""Request body decoding, done once per request so that recording and handling agree.

Multipart bodies are parsed here from the raw bytes instead of with ``request.multipart()``,
because the recorder has already consumed the stream and because tests must see the parts
byte-exact and in wire order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp.multipart import content_disposition_filename, parse_content_disposition
from multidict import CIMultiDict, MultiDict
import ormsgpack

from .state import RecordedPart

MSGPACK_TYPES = frozenset({"application/msgpack", "application/x-msgpack"})


class BodyError(ValueError):
    """The body cannot be decoded as its content type says."""


@dataclass(slots=True)
class DecodedBody:
    """A decoded request body."""

    value: Any = None
    parts: list[RecordedPart] = field(default_factory=list)


def _content_type_params(content_type_header: str) -> Message:
    message = Message()
    message["content-type"] = content_type_header
    return message


def parse_multipart(body: bytes, boundary: str) -> list[RecordedPart]:
    """Split a ``multipart/form-data`` body into its parts, byte-exact.

    Raises:
        BodyError: The body does not follow RFC 7578 framing.
    """
    delimiter = b"--" + boundary.encode("latin-1")
    start = body.find(delimiter)
    if start < 0:
        raise BodyError("multipart body without its boundary")
    parts: list[RecordedPart] = []
    pos = start + len(delimiter)
    while not body.startswith(b"--", pos):
        if not body.startswith(b"\r\n", pos):
            raise BodyError("malformed multipart delimiter line")
        pos += 2
        end = body.find(b"\r\n" + delimiter, pos)
        if end < 0:
            raise BodyError("unterminated multipart body")
        raw = body[pos:end]
        if raw.startswith(b"\r\n"):  # a part without headers
            head, data = b"", raw[2:]
        else:
            head, sep, data = raw.partition(b"\r\n\r\n")
            if not sep:
                raise BodyError("multipart part without a header terminator")
        headers: CIMultiDict[str] = CIMultiDict()
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers.add(name.strip(), value.strip())
        _, params = parse_content_disposition(headers.get("Content-Disposition"))
        parts.append(
            RecordedPart(
                name=params.get("name"),
                filename=content_disposition_filename(params, "filename"),
                content_type=headers.get("Content-Type"),
                data=data,
                headers=headers,
            )
        )
        pos = end + 2 + len(delimiter)
    return parts


def decode_body(content_type_header: str, body: bytes) -> DecodedBody:
    """Decode ``body`` according to ``content_type_header``.

    Returns msgpack and JSON as Python values, urlencoded bodies as ``MultiDict[str]`` and
    multipart bodies as ``MultiDict[str | bytes]`` (file parts as bytes) plus the parts.
    Unknown types and empty bodies decode to None.

    Raises:
        BodyError: The body is not valid for its declared type.
    """
    if not body:
        return DecodedBody()
    params = _content_type_params(content_type_header)
    mime = params.get_content_type()
    if mime in MSGPACK_TYPES:
        try:
            return DecodedBody(ormsgpack.unpackb(body))
        except ormsgpack.MsgpackDecodeError as err:
            raise BodyError(f"Invalid msgpack body: {err}") from None
    if mime == "application/json":
        try:
            return DecodedBody(json.loads(body))
        except ValueError as err:
            raise BodyError(f"Invalid JSON body: {err}") from None
    if mime == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True)
        except ValueError as err:
            raise BodyError(f"Invalid form body: {err}") from None
        return DecodedBody(MultiDict(pairs))
    if mime == "multipart/form-data":
        boundary = params.get_param("boundary")
        if not isinstance(boundary, str) or not boundary:
            raise BodyError("multipart body without a boundary parameter")
        parts = parse_multipart(body, boundary)
        fields: MultiDict[str | bytes] = MultiDict()
        for part in parts:
            fields.add(part.name or "", part.data if part.filename is not None else part.text)
        return DecodedBody(fields, parts)
    return DecodedBody()
