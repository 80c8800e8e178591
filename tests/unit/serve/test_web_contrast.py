"""The web app's colours meet WCAG 2.1 AA, computed from the colours the app actually uses.

Parses ``app.css`` (custom properties and rules, ``var()`` resolved) and ``chart.js``, then
checks with the WCAG relative-luminance formula:

- text (1.4.3): every rule's text colour against its own background, or against the page and
  card surfaces when it sets none; every background a rule sets against the inherited ink;
  the chart's SVG text; 4.5:1, or 3:1 for large text (>= 24 px, or >= 18.66 px bold);
- graphics that carry meaning (1.4.11, 3:1): the balance band's edge, the shortfall week's
  outline, the bars, the median, the legend swatches (all against the card the chart sits on and
  the fills they touch) and the focus ring against every surface a focusable element sits on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import ledgerlens.serve

WEB = Path(ledgerlens.serve.__file__).parent / "web"
TEXT_AA, LARGE_AA, GRAPHIC_AA = 4.5, 3.0, 3.0

Rgb = tuple[float, float, float]


# --- WCAG arithmetic --------------------------------------------------------------------------


def parse_colour(value: str) -> Rgb:
    v = value.strip().lower()
    v = {"white": "#ffffff", "black": "#000000"}.get(v, v)
    m = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", v)
    if not m:
        raise ValueError(f"not a colour this test understands: {value!r}")
    h = m.group(1)
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255)


def luminance(c: Rgb) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(v) for v in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Rgb, b: Rgb) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def over(fg: Rgb, alpha: float, bg: Rgb) -> Rgb:
    """``fg`` painted at ``alpha`` opacity on ``bg`` (8-bit rounded, as a browser shows it)."""
    r, g, b = (
        round((alpha * f + (1 - alpha) * u) * 255) / 255 for f, u in zip(fg, bg, strict=True)
    )
    return (r, g, b)


# --- app.css ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    selector: str
    decls: dict[str, str]


def parse_rules(css: str) -> list[Rule]:
    """Style rules in source order; rules inside at-blocks (``@media`` …) are included."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules: list[Rule] = []
    stack: list[str] = []
    buf = ""
    for ch in css:
        if ch == "{":
            stack.append(buf.strip())
            buf = ""
        elif ch == "}":
            selector = stack.pop() if stack else ""
            if not selector.startswith("@"):
                decls = {}
                for part in buf.split(";"):
                    if ":" in part:
                        k, v = part.split(":", 1)
                        decls[k.strip().lower()] = v.strip()
                rules.append(Rule(selector, decls))
            buf = ""
        else:
            buf += ch
    return rules


class Css:
    def __init__(self, text: str) -> None:
        self.rules = parse_rules(text)
        self.props: dict[str, str] = {}
        for r in self.rules:
            if r.selector == ":root":
                self.props.update({k: v for k, v in r.decls.items() if k.startswith("--")})

    def resolve(self, value: str, depth: int = 0) -> str:
        assert depth < 10, f"var() cycle in {value!r}"

        def sub(m: re.Match[str]) -> str:
            name, fallback = m.group(1), m.group(2)
            if name in self.props:
                return self.resolve(self.props[name], depth + 1)
            assert fallback is not None, f"undefined custom property {name}"
            return fallback.strip()

        return re.sub(r"var\(\s*(--[\w-]+)\s*(?:,([^()]*))?\)", sub, value).strip()

    def rule(self, selector: str) -> Rule:
        found = [r for r in self.rules if r.selector == selector]
        assert found, f"app.css has no rule {selector!r}"
        return found[-1]

    def colour(self, selector: str, prop: str) -> Rgb:
        decls = self.rule(selector).decls
        assert prop in decls, f"{selector} sets no {prop}"
        return self.colour_of(decls[prop])

    def colour_of(self, value: str) -> Rgb:
        """A colour value, or the colour token of a shorthand (``3px solid #abc``)."""
        value = self.resolve(value)
        tokens = [t for t in value.split() if t.startswith("#") or t in ("white", "black")]
        if len(tokens) == 1 and value.split() != tokens:
            return parse_colour(tokens[0])
        return parse_colour(value)

    def var(self, name: str) -> Rgb:
        return parse_colour(self.resolve(f"var({name})"))


@pytest.fixture(scope="module")
def css() -> Css:
    return Css((WEB / "app.css").read_text(encoding="utf-8"))


# --- the arithmetic itself --------------------------------------------------------------------


def test_the_formula_gives_the_known_ratios() -> None:
    white, black = parse_colour("#fff"), parse_colour("#000000")
    assert contrast(white, black) == pytest.approx(21.0)
    assert contrast(white, white) == pytest.approx(1.0)
    assert contrast(parse_colour("#777777"), white) == pytest.approx(4.48, abs=0.01)


def test_the_audited_failures_are_detected() -> None:
    """The colours the audit measured before the fix come out below 3:1 here too."""
    white = parse_colour("#ffffff")
    band = over(parse_colour("#b9d4ee"), 0.6, white)
    assert contrast(band, white) == pytest.approx(1.28, abs=0.01)
    assert contrast(parse_colour("#fde3e1"), white) == pytest.approx(1.22, abs=0.01)
    assert contrast(parse_colour("#f0a000"), white) == pytest.approx(2.16, abs=0.01)


# --- text -------------------------------------------------------------------------------------


def _rem_px(value: str) -> float | None:
    m = re.fullmatch(r"([\d.]+)(rem|em|px)", value.strip())
    if not m:
        return None
    return float(m.group(1)) * (1 if m.group(2) == "px" else 16)


def _needed(decls: dict[str, str]) -> float:
    px = _rem_px(decls.get("font-size", "")) or 0.0
    bold = decls.get("font-weight", "") in ("bold", "bolder", "700", "800", "900")
    return LARGE_AA if px >= 24 or (bold and px >= 18.66) else TEXT_AA


def _background(css: Css, decls: dict[str, str]) -> Rgb | None:
    value = decls.get("background-color", decls.get("background"))
    return None if value is None else css.colour_of(value)


def text_pairs(css: Css) -> list[tuple[str, Rgb, Rgb, float]]:
    """(what, text colour, background, required ratio) for every text colour in app.css."""
    ink = parse_colour(css.resolve(css.rule(":root").decls["color"]))
    surfaces = {"--bg": css.var("--bg"), "--card": css.var("--card")}
    pairs = [(f":root text on {name}", ink, bg, TEXT_AA) for name, bg in surfaces.items()]
    for r in css.rules:
        if "::" in r.selector or r.selector == ":root":
            continue  # legend swatches and the like: graphics, checked below
        need, bg = _needed(r.decls), _background(css, r.decls)
        if "color" in r.decls:
            fg = css.colour_of(r.decls["color"])
            if bg is not None:
                pairs.append((r.selector, fg, bg, need))
            else:  # no background of its own: on the page or on a card
                pairs += [(f"{r.selector} on {n}", fg, b, need) for n, b in surfaces.items()]
        elif bg is not None:  # its text inherits the ink
            pairs.append((f"{r.selector} (inherited ink)", ink, bg, need))
        if "fill" in r.decls and "font-size" in r.decls:  # SVG text, drawn on the card
            fill = css.colour_of(r.decls["fill"])
            pairs.append((f"{r.selector} (svg text)", fill, surfaces["--card"], need))
    return pairs


def test_every_text_colour_meets_aa_on_its_background(css: Css) -> None:
    pairs = text_pairs(css)
    assert len(pairs) > 20  # the parser found the stylesheet's text colours
    failures = [
        f"{what}: {contrast(fg, bg):.2f}:1 < {need}:1"
        for what, fg, bg, need in pairs
        if contrast(fg, bg) < need
    ]
    assert not failures, failures


# --- graphics ---------------------------------------------------------------------------------


def graphic_pairs(css: Css) -> list[tuple[str, Rgb, Rgb]]:
    card = css.var("--card")  # every chart sits in a .card
    band_rule = css.rule(".chart .band").decls
    band_fill = css.colour_of(band_rule["fill"])
    alpha = float(band_rule.get("fill-opacity", "1"))
    band_on_card = over(band_fill, alpha, card)
    gap_fill = css.colour(".chart .gap-week", "fill")
    band_on_gap = over(band_fill, alpha, gap_fill)
    stroke = css.resolve(band_rule.get("stroke", "none"))
    # without an outline the band is seen by its fill alone
    band_edge = band_on_card if stroke == "none" else css.colour_of(stroke)
    gap_edge = css.colour(".chart .gap-edge", "stroke")
    ring = css.colour(":focus-visible", "outline")
    skip = css.rule(".skip:focus").decls
    # the skip link shows over the header; its ring stays inside its own box only with a
    # negative offset, otherwise the header's colour is the ring's neighbour
    inside = skip.get("outline-offset", "").startswith("-")
    skip_neighbour = _background(css, skip if inside else css.rule(".top").decls)
    assert skip_neighbour is not None
    return [
        ("band edge / card", band_edge, card),
        ("band edge / band fill", band_edge, band_on_card),
        ("band edge / shortfall week fill", band_edge, gap_fill),
        ("band edge / band over shortfall week", band_edge, band_on_gap),
        ("shortfall week outline / card", gap_edge, card),
        ("shortfall week outline / its fill", gap_edge, gap_fill),
        ("shortfall week outline / band", gap_edge, band_on_card),
        ("shortfall week outline / band over it", gap_edge, band_on_gap),
        ("inflow bar / card", css.colour(".chart .inflow", "fill"), card),
        ("outflow bar / card", css.colour(".chart .outflow", "fill"), card),
        ("median / card", css.colour(".chart .median", "stroke"), card),
        ("median / band", css.colour(".chart .median", "stroke"), band_on_card),
        ("zero line / card", css.colour(".chart .zero", "stroke"), card),
        ("legend: money in / card", css.colour(".k-in::before", "background"), card),
        ("legend: money out / card", css.colour(".k-out::before", "background"), card),
        ("legend: band edge / card", css.colour(".k-band::before", "border"), card),
        ("legend: band edge / fill", css.colour(".k-band::before", "border"), band_fill),
        ("legend: week at risk / card", css.colour(".k-gap::before", "border"), card),
        ("legend: week at risk / fill", css.colour(".k-gap::before", "border"), gap_fill),
        ("focus ring / page", ring, css.var("--bg")),
        ("focus ring / card", ring, card),
        ("focus ring / nav", ring, css.colour("nav", "background")),
        ("focus ring / skip link's surroundings", ring, skip_neighbour),
    ]


def test_meaningful_graphics_and_the_focus_ring_meet_3_to_1(css: Css) -> None:
    failures = [
        f"{what}: {contrast(a, b):.2f}:1 < {GRAPHIC_AA}:1"
        for what, a, b in graphic_pairs(css)
        if contrast(a, b) < GRAPHIC_AA
    ]
    assert not failures, failures


def test_the_chart_draws_the_outline_over_the_band_and_styles_every_class(css: Css) -> None:
    js = (WEB / "chart.js").read_text(encoding="utf-8")
    order = {c: js.find(f'class: "{c}"') for c in ("gap-week", "band", "inflow", "gap-edge")}
    assert min(order.values()) >= 0, order
    # the fill lies under the band and the bars; the outline is drawn on top of them
    assert order["gap-week"] < order["band"] < order["inflow"] < order["gap-edge"], order
    selectors = " ".join(r.selector for r in css.rules)
    for cls in sorted(set(re.findall(r'class: "([\w-]+)"', js))):
        styled = re.search(rf"\.{cls}(?![\w-])", selectors)
        assert styled, f"chart.js uses the class {cls}, app.css does not style it"
