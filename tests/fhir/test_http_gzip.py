"""gzip Content-Encoding decoded with its end checked (probe55 D2): urllib3 does not say whether a gzip
stream ended, so a body cut inside it, with no Content-Length to tell, read as a whole, shorter body."""

from __future__ import annotations

import gzip
import zlib

import pytest

from poems_fhir.fhir.http import GzipStream

BODY = b"".join(b'{"resourceType":"Observation","id":"o%d"}\n' % i for i in range(500))


def decoded(wire: bytes, step: int = 97) -> tuple[bytes, bool]:
    stream = GzipStream()
    out = b"".join(b"".join(stream.decode(wire[i : i + step])) for i in range(0, len(wire), step))
    return out, stream.complete


def test_a_whole_stream_is_decoded_and_complete():
    assert decoded(gzip.compress(BODY)) == (BODY, True)


@pytest.mark.parametrize("keep", [1, 10, 0.5, -8, -1])
def test_a_stream_cut_anywhere_is_not_complete(keep):
    wire = gzip.compress(BODY)
    cut = wire[: int(len(wire) * keep)] if isinstance(keep, float) else wire[:keep]
    assert decoded(cut)[1] is False


def test_several_members_are_one_body_and_trailing_bytes_after_a_member_are_ignored():
    assert decoded(gzip.compress(BODY) + gzip.compress(b"x\n")) == (BODY + b"x\n", True)
    assert decoded(gzip.compress(BODY) + b"\x00\x00junk") == (BODY, True)
    # a second member cut short is a cut body
    assert decoded(gzip.compress(BODY) + gzip.compress(b"x\n")[:-3])[1] is False


def test_an_empty_body_is_complete_and_corrupt_data_raises():
    assert decoded(b"") == (b"", True)
    with pytest.raises(zlib.error):
        decoded(b"\x1f\x8bnot a gzip stream at all")


def test_a_highly_compressed_body_comes_out_in_bounded_pieces():
    stream = GzipStream()
    pieces = stream.decode(gzip.compress(b"a" * 5_000_000))
    assert sum(map(len, pieces)) == 5_000_000 and max(map(len, pieces)) <= 1 << 20 and stream.complete
