"""FrameReader: frames from any chunking, garbage dropped, oversized refused."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msghub.connectors.emi import FrameReader, FrameTooLargeError, decode_frame, wrap

PROPERTY = settings(max_examples=200, deadline=None)
ALERT = b"02/00035/O/31/0234765439845/0139/A0"
ACK = b"00/00019/R/60/A//6D"


def test_one_frame_fed_byte_by_byte() -> None:
    reader = FrameReader()
    out: list[bytes | FrameTooLargeError] = []
    for byte in wrap(ALERT):
        out += reader.feed(bytes((byte,)))
    assert out == [ALERT]
    assert reader.buffered == 0 and reader.discarded == 0


def test_several_frames_and_garbage_in_one_chunk() -> None:
    reader = FrameReader()
    data = b"noise" + wrap(ALERT) + b"\r\n" + wrap(ACK) + b"\x03tail\x02unfinished"
    assert reader.feed(data) == [ALERT, ACK]
    assert reader.discarded == len(b"noise") + len(b"\r\n") + len(b"\x03tail")
    assert reader.buffered == len(b"unfinished")
    assert reader.feed(b"/rest\x03") == [b"unfinished/rest"]


def test_stx_inside_a_frame_restarts_it() -> None:
    reader = FrameReader()
    assert reader.feed(b"\x02cut off" + wrap(ALERT)) == [ALERT]
    assert reader.discarded == len(b"\x02cut off")
    assert reader.feed(b"\x02half") == []
    assert reader.feed(wrap(ACK)) == [ACK]


def test_oversized_frame_is_reported_once_and_skipped() -> None:
    reader = FrameReader(max_size=40)
    out = reader.feed(b"\x02" + b"x" * 30)
    assert out == []
    out = reader.feed(b"y" * 30)
    assert len(out) == 1 and isinstance(out[0], FrameTooLargeError)
    assert reader.buffered == 0
    assert reader.feed(b"z" * 5000 + b"\x03") == []  # the rest of it is skipped
    assert reader.feed(wrap(ALERT)) == [ALERT]


def test_frame_of_exactly_max_size_passes() -> None:
    assert FrameReader(max_size=len(ALERT)).feed(wrap(ALERT)) == [ALERT]
    out = FrameReader(max_size=len(ALERT) - 1).feed(wrap(ALERT) + wrap(ACK))
    assert isinstance(out[0], FrameTooLargeError) and out[1:] == [ACK]


def test_max_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        FrameReader(max_size=0)


garbage = st.binary(max_size=20).map(lambda b: b.replace(b"\x02", b"").replace(b"\x03", b""))


@PROPERTY
@given(
    frames=st.lists(st.sampled_from([ALERT, ACK]), max_size=6),
    noise=st.lists(garbage, min_size=7, max_size=7),
    cuts=st.lists(st.integers(0, 400), max_size=10),
)
def test_any_chunking_gives_the_frames(
    frames: list[bytes], noise: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(noise[i] + wrap(frame) for i, frame in enumerate(frames)) + noise[-1]
    reader = FrameReader()
    out: list[bytes | FrameTooLargeError] = []
    start = 0
    for cut in [*sorted({min(cut, len(stream)) for cut in cuts}), len(stream)]:
        out += reader.feed(stream[start:cut])
        start = cut
    assert out == frames
    assert all(decode_frame(frame) for frame in frames)
    assert reader.discarded == sum(len(part) for part in noise[: len(frames)]) + len(noise[-1])


@PROPERTY
@given(st.lists(st.binary(max_size=300), max_size=10), st.integers(1, 200))
def test_random_bytes_never_raise_and_respect_the_limit(chunks: list[bytes], limit: int) -> None:
    reader = FrameReader(max_size=limit)
    for chunk in chunks:
        for item in reader.feed(chunk):
            if isinstance(item, bytes):
                assert len(item) <= limit
                assert b"\x02" not in item and b"\x03" not in item
        assert reader.buffered <= limit
