"""Charts drawn on the server as SVG (no script, nothing fetched): what templates/insights/
_bars.svg.html and _columns.svg.html draw. Each chart is shown next to a table of the same
figures, which screen readers read (the SVG is hidden from them)."""
from __future__ import annotations

WIDTH = 480  # the viewBox: its text stays readable on a 390 px screen


def bars(values: list[tuple[str, int, str]], *, bar: int = 16, gap: int = 10) -> dict:
    """Horizontal bars, one per (label, value, value as text), scaled to the largest; each
    label on its own line above its bar, so that long names stay whole on a phone."""
    top = max((value for _label, value, _text in values), default=0) or 1
    room = WIDTH - 90
    row = 17 + bar + gap
    items = [{"label": label if len(label) <= 60 else label[:59] + "…", "text": text,
              "y": i * row, "bar_y": i * row + 17,
              "length": max(1, round(room * value / top)) if value > 0 else 0}
             for i, (label, value, text) in enumerate(values)]
    return {"bars": items, "width": WIDTH, "height": max(1, len(values)) * row, "bar": bar}


def columns(values: list[tuple[str, int]], *, height: int = 110, top_text: str = "") -> dict:
    """Vertical columns over time, one per (label, value): the first and last labels are
    written under the axis, and the largest value (`top_text`) above it."""
    top = max((value for _label, value in values), default=0) or 1
    left, bottom = 4, 22
    count = max(1, len(values))
    step = (WIDTH - left * 2) / count
    width = max(1.0, step * 0.75)
    items = [{"x": round(left + i * step, 2), "w": round(width, 2),
              "h": round((height - 18) * value / top, 2) if value > 0 else 0}
             for i, (_label, value) in enumerate(values)]
    for item in items:
        item["y"] = round(height - item["h"], 2)
    return {"columns": items, "width": WIDTH, "height": height + bottom, "base": height,
            "first": values[0][0] if values else "", "last": values[-1][0] if values else "",
            "top_text": top_text}
