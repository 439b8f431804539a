"""The history's pure parts: bins, percentiles, merging, and the layout both languages share."""

import re
from importlib import resources
from itertools import pairwise

import pytest

from bananas.queue.history import (
    BASE_MS,
    BINS,
    BYTES_PER_QUEUE,
    DAY_SLOTS,
    HOUR_SLOTS,
    SLOT_BYTES,
    HistoryShape,
    Latency,
    Point,
    bin_edges,
    merge,
    percentile,
)


def lua_lib() -> str:
    return resources.files("bananas.queue").joinpath("lua", "_lib.lua").read_text()


def bins_with(samples: dict[int, int]) -> tuple[int, ...]:
    return tuple(samples.get(b, 0) for b in range(BINS))


def test_the_lua_writer_and_the_python_reader_share_one_layout():
    lib = lua_lib()
    assert int(re.search(r"local HISTORY_SLOT = (\d+)", lib).group(1)) == SLOT_BYTES
    assert int(re.search(r"local HISTORY_BINS = (\d+)", lib).group(1)) == BINS
    assert float(re.search(r"local HISTORY_BASE_MS = ([\d.]+)", lib).group(1)) == BASE_MS
    assert 48 + 2 * 4 * BINS == SLOT_BYTES, "header of 48 bytes, then two histograms of u32"
    assert BYTES_PER_QUEUE == (HOUR_SLOTS + DAY_SLOTS) * SLOT_BYTES == 78_624


def test_bins_are_half_octaves_from_a_quarter_millisecond():
    edges = bin_edges()
    assert len(edges) == BINS and edges[0] == 0 and edges[1] == 0.25
    assert edges[3] == pytest.approx(0.5) and edges[5] == pytest.approx(1.0)
    assert all(b / a == pytest.approx(2 ** 0.5) for a, b in pairwise(edges[1:]))
    assert edges[-1] / 3_600_000 > 13, "the open-ended last bin starts past 13 hours"


def test_percentiles_interpolate_within_a_bin_and_never_pass_the_maximum():
    one_bin = bins_with({17: 100})  # 100 samples in [64, 90.5) ms
    assert percentile(one_bin, 0.5, 90) == pytest.approx(64 + (90 - 64) * 0.5, abs=0.01)
    assert percentile(one_bin, 0.99, 70) <= 70
    two = bins_with({5: 90, 21: 10})  # 90 in [1, 1.41) ms, 10 in [256, 362) ms
    assert 1 <= percentile(two, 0.5, 300) < 1.5 and 256 <= percentile(two, 0.95, 300) <= 300


def test_latency_is_none_without_samples_and_the_mean_comes_from_the_sum():
    assert Latency.of((0,) * BINS, 0, 0) is None
    latency = Latency.of(bins_with({5: 4}), 4 * 1200, 2)
    assert (latency.count, latency.mean_ms, latency.max_ms) == (4, 1.2, 2)


def test_merging_points_adds_counts_and_histograms_and_keeps_the_longest():
    a = Point(0, 60.0, succeeded=3, retried=1, wait_max_ms=5, run_max_ms=9, run_sum_us=9000,
              run_bins=bins_with({10: 4}))
    b = Point(60_000, 60.0, succeeded=2, dead=2, wait_max_ms=7, run_max_ms=4, run_sum_us=3000,
              run_bins=bins_with({10: 1, 12: 3}))
    m = merge([a, b])
    assert (m.start_ms, m.seconds, m.succeeded, m.failed, m.wait_max_ms, m.run_max_ms) == (0, 120.0, 5, 3, 7, 9)
    assert m.run_bins[10] == 5 and m.run_bins[12] == 3 and m.run.count == 8
    assert m.succeeded_per_s == round(5 / 120, 3) and m.failed_per_s == 0.025


def test_a_shape_knows_its_rings_and_refuses_tiny_buckets():
    shape = HistoryShape()
    assert shape.ring("hour") == (60_000, 60) and shape.ring("day") == (900_000, 96)
    assert HistoryShape(enabled=False).script_args()[:2] == [0, 0]
    with pytest.raises(ValueError):
        shape.ring("week")
    with pytest.raises(ValueError, match="at least 10 ms"):
        HistoryShape(hour_bucket_ms=5, day_bucket_ms=10)
    with pytest.raises(ValueError, match="whole number of hour buckets"):
        HistoryShape(hour_bucket_ms=60_000, day_bucket_ms=90_000)
