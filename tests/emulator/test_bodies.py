"""Body decoding, in particular the byte-exact multipart parser."""

from __future__ import annotations

from multidict import MultiDict
import pytest

from emulator.bodies import BodyError, decode_body, parse_multipart


def test_multipart_parts_are_byte_exact() -> None:
    body = (
        b"preamble\r\n--b\r\n"
        b'Content-Disposition: form-data; name="title"\r\n\r\n'
        b"T\r\n--b\r\n"
        b"Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''%C3%A9.wav\r\n"
        b"Content-Type: audio/wav\r\n\r\n"
        b"\r\n--x\r\n\r\n\r\n--b\r\n"
        b"\r\nno headers\r\n--b--\r\nepilogue"
    )
    title, file_part, bare = parse_multipart(body, "b")
    assert (title.name, title.filename, title.text) == ("title", None, "T")
    assert file_part.name == "f"
    assert file_part.filename == "é.wav"
    assert file_part.content_type == "audio/wav"
    assert file_part.data == b"\r\n--x\r\n\r\n"
    assert (bare.name, bare.data) == (None, b"no headers")


@pytest.mark.parametrize(
    "body",
    [
        b"nothing",
        b"--bXX",
        b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nunterminated",
        b"--b\r\nno header end\r\n--b--",
    ],
)
def test_multipart_framing_errors(body: bytes) -> None:
    with pytest.raises(BodyError):
        parse_multipart(body, "b")


def test_decode_body_by_type() -> None:
    assert decode_body("application/json", b'{"a": 1}').value == {"a": 1}
    assert decode_body("application/x-msgpack", b"\x81\xa1a\x01").value == {"a": 1}
    assert decode_body("application/x-www-form-urlencoded", b"a=1&a=2").value == MultiDict(
        [("a", "1"), ("a", "2")]
    )
    assert decode_body("text/plain", b"x").value is None
    assert decode_body("application/json", b"").value is None
    with pytest.raises(BodyError, match="Invalid JSON"):
        decode_body("application/json", b"{")
    with pytest.raises(BodyError, match="boundary"):
        decode_body("multipart/form-data", b"--b--")
