"""Charts drawn on the server as SVG: no script, readable by screen readers (a title and
a description of the figures), and the same numbers in a table beside them."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR_COLOUR = "#2f5d8a"


def bars(
    labels: Sequence[str], values: Sequence[int], title: str, width: int = 480, height: int = 160
) -> Markup:
    """A bar chart of counts, one bar per label."""
    top = max(values, default=0) or 1
    count = max(len(values), 1)
    slot = width / count
    gap = min(6.0, slot * 0.2)
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = round((height - 30) * value / top, 1)
        x = round(i * slot + gap / 2, 1)
        y = round(height - 18 - h, 1)
        body.append(
            f'<rect x="{x}" y="{y}" width="{round(slot - gap, 1)}" height="{h}" '
            f'fill="{BAR_COLOUR}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{round(x + (slot - gap) / 2, 1)}" y="{height - 4}" '
            f'text-anchor="middle" font-size="10">{escape(label)}</text>'
        )
    summary = ", ".join(f"{label}: {value}" for label, value in zip(labels, values, strict=True))
    # every text in it went through escape(); the numbers are computed here
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}: {escape(summary)}" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(body)}</svg>"
    )


def progress(done: int, total: int | None, label: str, width: int = 480) -> Markup:
    """A horizontal progress bar; an unknown total draws an empty track."""
    share = min(done / total, 1.0) if total else 0.0
    percent = round(share * 100)
    filled = round(width * share, 1)
    return Markup(  # noqa: S704 (escaped label, computed numbers)
        f'<svg class="chart" viewBox="0 0 {width} 24" role="img" '
        f'aria-label="{escape(label)}: {percent}%" xmlns="http://www.w3.org/2000/svg">'
        f'<rect x="0" y="4" width="{width}" height="16" rx="4" fill="#e4e8ee"/>'
        f'<rect x="0" y="4" width="{filled}" height="16" rx="4" fill="{BAR_COLOUR}"/></svg>'
    )


def histogram(scores: Sequence[int], title: str, buckets: int = 10) -> Markup:
    """Counts of 0-100 scores in equal buckets (``scores`` are counts per bucket already
    when ``len(scores) == buckets``; see ``engagement_buckets``)."""
    size = 100 // buckets
    labels = [
        f"{i * size}-{i * size + size - 1 if i < buckets - 1 else 100}" for i in range(buckets)
    ]
    return bars(labels, list(scores), title)


ERROR_COLOUR = "#b3261e"


def volume(
    labels: Sequence[str],
    processed: Sequence[int],
    failed: Sequence[int],
    title: str,
    width: int = 640,
    height: int = 180,
) -> Markup:
    """Records processed per label (bars), the failed part of each drawn over its foot in
    the error colour, with a legend."""
    top = max(max(processed, default=0), max(failed, default=0)) or 1
    slot = width / max(len(labels), 1)
    gap = min(6.0, slot * 0.2)
    plot = height - 40  # room for the legend above and the labels below
    body = [
        f'<rect x="0" y="2" width="10" height="10" fill="{BAR_COLOUR}"/>'
        '<text x="14" y="11" font-size="10">processed</text>'
        f'<rect x="90" y="2" width="10" height="10" fill="{ERROR_COLOUR}"/>'
        '<text x="104" y="11" font-size="10">failed</text>'
    ]
    rows = zip(labels, processed, failed, strict=True)
    for i, (label, done, bad) in enumerate(rows):
        x = round(i * slot + gap / 2, 1)
        w = round(slot - gap, 1)
        for value, colour, what in ((done, BAR_COLOUR, "processed"), (bad, ERROR_COLOUR, "failed")):
            h = round(plot * value / top, 1)
            body.append(
                f'<rect x="{x}" y="{round(height - 18 - h, 1)}" width="{w}" height="{h}" '
                f'fill="{colour}"><title>{escape(label)}: {value} {what}</title></rect>'
            )
        body.append(
            f'<text x="{round(x + w / 2, 1)}" y="{height - 4}" text-anchor="middle" '
            f'font-size="10">{escape(label)}</text>'
        )
    summary = "; ".join(
        f"{label}: {done} processed, {bad} failed"
        for label, done, bad in zip(labels, processed, failed, strict=True)
    )
    return Markup(  # noqa: S704 (escaped labels, computed numbers)
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}: {escape(summary)}" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(body)}</svg>"
    )


def meter(used: int, limit: int, label: str, width: int = 120) -> Markup:
    """A small bar of ``used`` out of ``limit``: the error colour from 90 % on."""
    share = min(used / limit, 1.0) if limit else 0.0
    colour = ERROR_COLOUR if share >= 0.9 else BAR_COLOUR
    return Markup(  # noqa: S704 (escaped label, computed numbers)
        f'<svg class="meter" width="{width}" height="12" viewBox="0 0 {width} 12" role="img" '
        f'aria-label="{escape(label)}: {round(share * 100)}% used" '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<rect x="0" y="1" width="{width}" height="10" rx="3" fill="#e4e8ee"/>'
        f'<rect x="0" y="1" width="{round(width * share, 1)}" height="10" rx="3" '
        f'fill="{colour}"/></svg>'
    )


def hbars(
    labels: Sequence[str], values: Sequence[float], title: str, decimals: int = 2, width: int = 480
) -> Markup:
    """Horizontal bars of amounts (long labels such as campaign names read on their own
    line); each bar's figure is written beside it."""
    top = max(values, default=0.0) or 1.0
    row, label_h = 30, 12
    height = max(len(values), 1) * row
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = i * row
        w = round((width - 90) * max(value, 0.0) / top, 1)
        figure = f"{value:,.{decimals}f}"
        body.append(
            f'<text x="0" y="{y + label_h - 2}" font-size="11">{escape(label)}</text>'
            f'<rect x="0" y="{y + label_h + 1}" width="{w}" height="12" fill="{BAR_COLOUR}">'
            f"<title>{escape(label)}: {figure}</title></rect>"
            f'<text x="{round(w + 4, 1)}" y="{y + label_h + 11}" font-size="10">{figure}</text>'
        )
    summary = ", ".join(
        f"{label}: {value:,.{decimals}f}" for label, value in zip(labels, values, strict=True)
    )
    return Markup(  # noqa: S704 (escaped labels, computed numbers)
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}: {escape(summary)}" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(body)}</svg>"
    )
