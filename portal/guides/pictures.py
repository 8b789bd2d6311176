"""A picture of each guide screen: the window or phone screen drawn as a schematic from
the built guide — its title, its fields in the program's order and wording with the
values filled in, the fields that change marked (before → after), and the button to
press. Only geometry is computed here; templates/guides/_picture.html writes the SVG
(so every text is escaped by the template), as inline SVG with presentation attributes
only (the site's Content-Security-Policy forbids style attributes)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the builder imports this module
    from portal.guides.builder import GuideScreen

WIDTH = 300  # the card is about 300 px wide on a 360 px phone: drawn 1:1 there
PAD = 10  # frame to content
INSET = 14  # content from the picture's edge
LABEL_SIZE = 12
VALUE_SIZE = 13
TITLE_SIZE = 14
NOTE_SIZE = 11
LINE = 1.3  # line height, in font sizes
INK, MUTED, LINE_COLOUR, PAPER = "#1f2328", "#57606a", "#8c959f", "#ffffff"
ACCENT, CHANGED = "#0b5cad", "#b42318"


@dataclass(frozen=True)
class Shape:
    kind: str  # "rect" or "text"
    x: float
    y: float
    w: float = 0
    h: float = 0
    rx: float = 0
    fill: str = "none"
    stroke: str = "none"
    stroke_width: float = 1
    text: str = ""
    size: int = LABEL_SIZE
    weight: str = "normal"
    mono: bool = False
    anchor: str = "start"


@dataclass
class Picture:
    width: int
    height: int
    shapes: list[Shape] = field(default_factory=list)


def text_width(text: str, size: float, mono: bool = False) -> float:
    """Estimated width: East Asian wide characters take a full em, others about 0.6."""
    narrow = 0.62 if mono else 0.56
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * narrow for c in text)


def wrap(text: str, size: float, width: float, mono: bool = False) -> list[str]:
    """Greedy line breaks so that each line fits `width`; breaks after a space, slash or
    dot when a line of Latin text would otherwise break inside a word."""
    lines, line = [], ""
    for char in text:
        if line and text_width(line + char, size, mono) > width:
            cut = max(line.rfind(" "), line.rfind("/"), line.rfind("."))
            if cut > len(line) // 2 and unicodedata.east_asian_width(char) not in "WF":
                lines.append(line[: cut + 1].rstrip())
                line = line[cut + 1 :]
            else:
                lines.append(line)
                line = ""
        line += char
    if line or not lines:
        lines.append(line)
    return lines


def _lines(shapes: list[Shape], lines: list[str], x: float, y: float, size: int, **kw) -> float:
    """Append one text shape per line from baseline y; returns the y below the last."""
    for line in lines:
        y += size
        shapes.append(Shape("text", x, y, text=line, size=size, **kw))
        y += size * (LINE - 1)
    return y


def screen_picture(screen: GuideScreen, device: str, before_word: str) -> Picture:
    """The schematic of one screen, framed as a desktop window or a phone screen."""
    shapes: list[Shape] = []
    inner = WIDTH - 2 * INSET
    top = 30 if device == "window" else 36
    y = top + 10
    y = _lines(shapes, wrap(screen.title, TITLE_SIZE, inner), INSET, y, TITLE_SIZE,
               weight="bold", fill=INK)  # fmt: skip
    y += 8
    for f in screen.fields:
        y = _lines(shapes, wrap(f.label, LABEL_SIZE, inner), INSET, y, LABEL_SIZE, fill=MUTED)
        if f.before is not None:
            y = _lines(shapes, wrap(f"{before_word} {f.before} →", LABEL_SIZE, inner),
                       INSET, y, LABEL_SIZE, fill=CHANGED)  # fmt: skip
        values = wrap(f.value, VALUE_SIZE, inner - 16, mono=True)
        box_top = y + 3
        box_h = 10 + len(values) * VALUE_SIZE * LINE
        changed = f.before is not None
        shapes.append(
            Shape("rect", INSET, box_top, w=inner, h=box_h, rx=3, fill=PAPER,
                  stroke=CHANGED if changed else LINE_COLOUR, stroke_width=2 if changed else 1)
        )  # fmt: skip
        _lines(shapes, values, INSET + 8, box_top + 3, VALUE_SIZE, mono=True, fill=INK,
               weight="bold" if changed else "normal")  # fmt: skip
        y = box_top + box_h + 4
        if f.note:  # e.g. which side a box belongs to when two rows share a label
            y = _lines(shapes, wrap(f.note, NOTE_SIZE, inner), INSET, y, NOTE_SIZE, fill=MUTED)
        y += 5
    if screen.button:
        label = wrap(screen.button, VALUE_SIZE, inner - 24)
        w = min(inner, max(text_width(line, VALUE_SIZE) for line in label) + 28)
        h = 12 + len(label) * VALUE_SIZE * LINE
        x = WIDTH - INSET - w
        shapes.append(Shape("rect", x, y + 4, w=w, h=h, rx=6, fill=ACCENT))
        _lines(shapes, label, x + w / 2, y + 8, VALUE_SIZE, fill=PAPER, weight="bold",
               anchor="middle")  # fmt: skip
        y += h + 8
    height = int(y + PAD + 6)
    frame = [
        Shape("rect", 1, 1, w=WIDTH - 2, h=height - 2, rx=18 if device == "phone" else 6,
              fill="#f6f8fa", stroke=INK, stroke_width=1.5),
    ]  # fmt: skip
    if device == "phone":  # a status bar with the earpiece
        frame.append(Shape("rect", WIDTH / 2 - 28, 9, w=56, h=8, rx=4, fill=INK))
        frame.append(Shape("rect", 2, top - 1, w=WIDTH - 4, h=1, fill=LINE_COLOUR))
    else:  # a title bar with the close button
        frame.append(Shape("rect", 2, 2, w=WIDTH - 4, h=top - 4, rx=5, fill="#d0d7de"))
        frame.append(Shape("text", WIDTH - INSET, 21, text="×", size=TITLE_SIZE, fill=INK,
                           anchor="end"))  # fmt: skip
    return Picture(WIDTH, height, frame + shapes)
