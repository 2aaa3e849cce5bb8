"""Reassembly of inbound concatenated parts with a caller-supplied clock."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msghub.sms.errors import SmsDecodeError
from msghub.sms.reassembly import Fragment, Reassembled, Reassembler
from msghub.sms.split import plan_sms

from .helpers import PROPERTY, ucs2_text


def frag(
    seq: int, text: str, total: int = 3, at: float = 0.0,
    key: str = "conn1", sender: str = "+4917", ref: int = 9,
) -> Fragment:
    return Fragment(key, sender, ref, total, seq, text, received_at=at)


def test_out_of_order_parts_complete() -> None:
    r = Reassembler()
    assert r.add(frag(3, "C", at=1)) is None
    assert r.add(frag(1, "A", at=2)) is None
    assert r.pending() == 1
    done = r.add(frag(2, "B", at=3))
    assert done == Reassembled(
        key="conn1", sender="+4917", ref=9, text="ABC", parts_received=3, total=3,
        partial=False, missing=(), received_at=1,
    )
    assert r.pending() == 0


def test_duplicate_is_ignored() -> None:
    r = Reassembler()
    assert r.add(frag(1, "A")) is None
    assert r.add(frag(1, "A")) is None
    assert r.add(frag(2, "B")) is None
    done = r.add(frag(3, "C"))
    assert done is not None and done.text == "ABC" and done.parts_received == 3


def test_single_part_message_passes_straight_through() -> None:
    r = Reassembler()
    done = r.add(frag(1, "solo", total=1))
    assert done is not None and done.text == "solo" and not done.partial
    assert r.pending() == 0


@pytest.mark.parametrize(
    ("seq", "total", "message"),
    [(0, 3, "part 0 is outside 1..3"), (4, 3, "part 4 is outside 1..3"),
     (1, 0, "total must be at least 1, got 0")],
)
def test_invalid_numbers_rejected(seq: int, total: int, message: str) -> None:
    r = Reassembler()
    with pytest.raises(SmsDecodeError, match=message):
        r.add(frag(seq, "x", total=total))
    assert r.pending() == 0


def test_timeout_gives_partial_with_missing() -> None:
    r = Reassembler(timeout_s=60)
    r.add(frag(1, "A", total=4, at=100))
    r.add(frag(3, "C", total=4, at=110))
    assert r.expire(169.9) == []
    [partial] = r.expire(170)
    assert partial.partial
    assert partial.missing == (2, 4)
    assert partial.text == "AC"
    assert (partial.parts_received, partial.total, partial.received_at) == (2, 4, 100)
    assert r.pending() == 0


def test_duplicates_do_not_extend_the_timeout() -> None:
    r = Reassembler(timeout_s=60)
    r.add(frag(1, "A", at=0))
    r.add(frag(1, "A", at=50))
    assert len(r.expire(60)) == 1


def test_new_parts_extend_the_timeout() -> None:
    r = Reassembler(timeout_s=60)
    r.add(frag(1, "A", at=0))
    r.add(frag(2, "B", at=50))
    assert r.expire(60) == []
    assert len(r.expire(110)) == 1


def test_expire_infinity_flushes_everything_in_arrival_order() -> None:
    r = Reassembler()
    r.add(frag(1, "late", ref=2, at=5))
    r.add(frag(1, "early", ref=1, at=1))
    flushed = r.expire(math.inf)
    assert [m.ref for m in flushed] == [1, 2]
    assert all(m.partial and m.missing == (2, 3) for m in flushed)


def test_reused_reference_hands_back_the_old_group() -> None:
    r = Reassembler()
    r.add(frag(1, "old-1", at=0))
    r.add(frag(2, "old-2", at=1))
    displaced = r.add(frag(1, "new-1", at=2))
    assert displaced is not None
    assert (displaced.text, displaced.partial, displaced.missing) == ("old-1old-2", True, (3,))
    r.add(frag(2, "new-2", at=3))
    done = r.add(frag(3, "new-3", at=4))
    assert done is not None and done.text == "new-1new-2new-3" and not done.partial


def test_groups_are_separated_by_key_sender_ref_and_total() -> None:
    r = Reassembler()
    r.add(frag(1, "a", key="conn2"))
    r.add(frag(1, "b", sender="+1"))
    r.add(frag(1, "c", ref=10))
    r.add(frag(1, "d", total=2))
    r.add(frag(1, "e"))
    assert r.pending() == 5


def test_late_part_after_expiry_surfaces_again() -> None:
    r = Reassembler(timeout_s=10)
    r.add(frag(1, "A", total=2, at=0))
    assert r.expire(10)[0].missing == (2,)
    assert r.add(frag(2, "B", total=2, at=11)) is None
    # A copy of the part already delivered must not join the late group.
    assert r.add(frag(1, "A", total=2, at=12)) is None
    [late] = r.expire(22)
    assert (late.text, late.missing) == ("B", (1,))


def test_copy_after_completion_is_ignored() -> None:
    r = Reassembler(timeout_s=10)
    r.add(frag(1, "A", total=2, at=0))
    assert r.add(frag(2, "B", total=2, at=1)) is not None
    assert r.add(frag(1, "A", total=2, at=2)) is None
    assert r.pending() == 0
    assert r.expire(100) == []


def test_memory_of_delivered_groups_ends_after_timeout() -> None:
    r = Reassembler(timeout_s=10)
    r.add(frag(1, "A", total=2, at=0))
    r.add(frag(2, "B", total=2, at=1))
    r.expire(11)  # forgets the delivered message
    assert r.add(frag(1, "A", total=2, at=12)) is None
    assert r.pending() == 1  # now a new message


def test_same_ref_with_new_text_after_completion_is_a_new_message() -> None:
    r = Reassembler()
    r.add(frag(1, "A", total=2))
    r.add(frag(2, "B", total=2))
    assert r.add(frag(1, "X", total=2)) is None
    done = r.add(frag(2, "B", total=2))
    assert done is not None and done.text == "XB"


def test_single_part_copies_are_all_delivered() -> None:
    r = Reassembler()
    assert r.add(frag(1, "ok", total=1)) is not None
    assert r.add(frag(1, "ok", total=1)) is not None


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Reassembler(timeout_s=0)


@PROPERTY
@given(ucs2_text, st.data())
def test_shuffled_and_duplicated_parts_reassemble(text: str, data: st.DataObject) -> None:
    plan = plan_sms(text, ref=77)
    fragments = [
        Fragment("k", "+1", 77, p.total, p.seq, p.text, received_at=float(i))
        for i, p in enumerate(plan.parts)
    ]
    # A single part has no reference to deduplicate by (see the module doc).
    extra = data.draw(st.lists(st.sampled_from(fragments), max_size=5)) if plan.segments > 1 else []
    order = data.draw(st.permutations(fragments + extra))
    r = Reassembler()
    results = [m for m in (r.add(f) for f in order) if m is not None]
    assert len(results) == 1
    assert results[0].text == text
    assert not results[0].partial and results[0].parts_received == plan.segments
    assert r.pending() == 0


@PROPERTY
@given(st.integers(2, 12), st.data())
def test_missing_parts_expire_as_partial(total: int, data: st.DataObject) -> None:
    texts = {seq: f"<{seq}>" for seq in range(1, total + 1)}
    kept = data.draw(st.sets(st.integers(1, total), min_size=1, max_size=total - 1))
    r = Reassembler(timeout_s=30)
    for seq in data.draw(st.permutations(sorted(kept))):
        assert r.add(Fragment("k", "+1", 5, total, seq, texts[seq], received_at=0)) is None
    assert r.expire(29) == []
    [partial] = r.expire(30)
    assert partial.partial
    assert partial.missing == tuple(sorted(set(texts) - kept))
    assert partial.text == "".join(texts[s] for s in sorted(kept))
    assert partial.parts_received == len(kept)
