"""The file's candidate pairs: KeyChains gives what the per-key history definition gives.

The definition (how StreamMatcher found a row's earlier rows before it used chains): per
blocking pass, each key keeps the list of its file rows in file order; a row's
candidates under a key are the last ``memory`` entries of that list before it, and the
row then joins the list. Rows are taken one at a time, so batches cannot matter.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.dedup.engine.stream import KeyChains, PassChains, refined_keys


def defined_pairs(keys: list[list[int | None]], memory: int) -> set[tuple[int, int]]:
    """``keys[row][pass]`` (None: the row has no key in that pass) -> (row, earlier) pairs."""
    history: list[dict[int, list[int]]] = [{} for _ in keys[0]] if keys else []
    pairs: set[tuple[int, int]] = set()
    for row, row_keys in enumerate(keys):
        for p, key in enumerate(row_keys):
            if key is None:
                continue
            seen = history[p].setdefault(key, [])
            pairs.update((row, earlier) for earlier in seen[-memory:])
            seen.append(row)
    return pairs


def chained_pairs(
    keys: list[list[int | None]], memory: int, cuts: list[int]
) -> list[tuple[int, int]]:
    """The same through KeyChains, the rows added in batches ending at ``cuts``."""
    passes = len(keys[0]) if keys else 0
    chains = [KeyChains() for _ in range(passes)]
    out: list[tuple[int, int]] = []
    start = 0
    for end in [*sorted({min(c, len(keys)) for c in cuts}), len(keys)]:
        if end <= start:
            continue
        found: list[np.ndarray] = []
        for p, chain in enumerate(chains):
            rows = [r for r in range(start, end) if keys[r][p] is not None]
            hashes = np.array([keys[r][p] for r in rows], dtype=np.int64)
            owner, earlier = chain.add(np.array(rows, dtype=np.int64), hashes, memory)
            assert np.all(owner >= start) and np.all(owner < end) and np.all(earlier < owner)
            found.append((owner << 32) | earlier)
        packed = np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)
        out += list(zip((packed >> 32).tolist(), (packed & 0xFFFFFFFF).tolist(), strict=True))
        start = end
    return out


# small key alphabets, so keys repeat often and histories outgrow ``memory``; large
# hashes (as Python's are) and negative ones
_KEY = st.one_of(
    st.none(),
    st.integers(0, 4),
    st.sampled_from([-(2**63), 2**63 - 1, -1, 123456789012345]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda passes: st.lists(st.lists(_KEY, min_size=passes, max_size=passes), max_size=80)
    ),
    st.integers(1, 6),
    st.lists(st.integers(0, 80), max_size=8),
)
def test_chains_equal_the_history_definition(
    keys: list[list[int | None]], memory: int, cuts: list[int]
) -> None:
    got = chained_pairs(keys, memory, cuts)
    assert got == sorted(defined_pairs(keys, memory))  # distinct, ordered by row then earlier


def test_one_batch_and_row_by_row_agree_on_a_long_run_of_one_key() -> None:
    keys: list[list[int | None]] = [[7, 7 if row % 3 else None] for row in range(500)]
    whole = chained_pairs(keys, 20, [])
    one_by_one = chained_pairs(keys, 20, list(range(500)))
    assert whole == one_by_one == sorted(defined_pairs(keys, 20))
    # a row deep in the run with one key has exactly ``memory`` earlier rows, the latest
    assert [earlier for row, earlier in whole if row == 399] == list(range(379, 399))


def refined_definition(keys: list[tuple[int, int] | None], memory: int) -> set[tuple[int, int]]:
    """One pass, ``keys[row]`` = (key, sort) or None: while a key has had at most
    ``memory`` rows, a row's candidates are all of them; after, the latest ``memory``
    earlier rows with its key and sort."""
    by_key: dict[int, list[int]] = {}
    by_sort: dict[tuple[int, int], list[int]] = {}
    pairs: set[tuple[int, int]] = set()
    for row, keyed in enumerate(keys):
        if keyed is None:
            continue
        seen = by_key.setdefault(keyed[0], [])
        same = by_sort.setdefault(keyed, [])
        chosen = seen if len(seen) <= memory else same[-memory:]
        pairs.update((row, earlier) for earlier in chosen)
        seen.append(row)
        same.append(row)
    return pairs


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.tuples(st.integers(0, 2), st.integers(0, 3))), max_size=90),
    st.integers(1, 6),
    st.lists(st.integers(0, 90), max_size=8),
)
def test_pass_chains_equal_the_refined_definition(
    keys: list[tuple[int, int] | None], memory: int, cuts: list[int]
) -> None:
    """A common key's rows are looked up by key and sort string, whatever the batches."""
    chains = PassChains()
    got: set[tuple[int, int]] = set()
    start = 0
    for end in [*sorted({min(c, len(keys)) for c in cuts}), len(keys)]:
        rows = [r for r in range(start, max(end, start)) if keys[r] is not None]
        start = max(end, start)
        hashes = np.array([keys[r][0] for r in rows], dtype=np.int64)  # type: ignore[index]
        sorts = [str(keys[r][1]) for r in rows]  # type: ignore[index]
        owner, earlier = chains.add(
            np.array(rows, dtype=np.int64), hashes, refined_keys(hashes, sorts), memory
        )
        assert np.all(earlier < owner)
        got.update(zip(owner.tolist(), earlier.tolist(), strict=True))
    assert got == refined_definition(keys, memory)


def test_a_common_key_keeps_a_bounded_number_of_candidates() -> None:
    """Past ``memory`` rows, a key's newcomers meet only the rows with their sort string."""
    keys: list[tuple[int, int] | None] = [(7, row % 50) for row in range(2000)]
    pairs = refined_definition(keys, 20)
    assert max(sum(1 for r, _e in pairs if r == row) for row in range(1900, 2000)) == 20
    assert all(keys[e] == keys[r] for r, e in pairs if r > 20)


def test_only_common_keys_are_chained_by_sort_string() -> None:
    """Rows of keys that stay few never join the sort-string chains; a key that becomes
    common in the middle of a batch brings its earlier rows, so its rows still meet the
    latest earlier rows with their sort string."""
    memory = 3
    # key 1 stays at 3 rows; key 2 reaches 8 rows, crossing ``memory`` in the second batch
    keys: list[tuple[int, int] | None] = [
        (1, 0), (2, 5), (2, 6), (1, 1), (2, 5),  # first batch: rows 0-4
        (2, 6), (2, 5), (1, 0), (2, 5), (2, 6), (2, 5),  # second batch: rows 5-10
    ]  # fmt: skip
    chains = PassChains()
    got: set[tuple[int, int]] = set()
    for start, end in ((0, 5), (5, len(keys))):
        rows = list(range(start, end))
        hashes = np.array([keys[r][0] for r in rows], dtype=np.int64)  # type: ignore[index]
        sorts = [str(keys[r][1]) for r in rows]  # type: ignore[index]
        owner, earlier = chains.add(
            np.array(rows, dtype=np.int64), hashes, refined_keys(hashes, sorts), memory
        )
        got.update(zip(owner.tolist(), earlier.tolist(), strict=True))
        if end == 5:  # no key has had more than ``memory`` rows yet
            assert not chains.refined.state
    assert got == refined_definition(keys, memory)
    # key 2's rows (8) joined the sort-string chains, key 1's (3) did not
    assert len(chains.refined.state) == 2
    assert (10, 8) in got and (10, 6) in got and (10, 4) in got and (10, 9) not in got
