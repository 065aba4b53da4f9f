"""Server-made SVG charts: labels escaped, bars in proportion, the figures in the label."""

from __future__ import annotations

import re

import pytest

from crmsync.web.charts import hbars


def _widths(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'<rect x="0" y="[\d.]+" width="([\d.]+)"', svg)]


@pytest.mark.parametrize(
    ("values", "widths"),
    [
        ([4.0, 2.0, 1.0], [390.0, 195.0, 97.5]),
        ([0.0, 0.0], [0.0, 0.0]),  # nothing to scale by: no bar, no division by zero
        ([3.0], [390.0]),
    ],
)
def test_horizontal_bars_in_proportion(values: list[float], widths: list[float]) -> None:
    svg = str(hbars([f"l{i}" for i in range(len(values))], values, "t"))
    assert _widths(svg) == widths
    assert svg.count("<text") == 2 * len(values)


def test_labels_are_escaped_and_summarised_for_screen_readers() -> None:
    svg = str(hbars(['<script>"x"</script>', "email"], [1234.5, 0.25], "Value by <campaign>"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    label = re.search(r'aria-label="([^"]*)"', svg)
    assert label is not None
    assert label.group(1).startswith("Value by &lt;campaign&gt;: ")
    assert "1,234.50" in label.group(1) and "email: 0.25" in label.group(1)
    assert 'role="img"' in svg
