"""Two charts on one screen keep their own accessible names: the insight page shows the forecast
and, after a what-if preview, the re-forecast; every id in the document stays unique and each
chart's aria-labelledby/aria-describedby point at its own <title> and <desc>."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow

_IDS = """() => {
  const ids = [...document.querySelectorAll("[id]")].map((el) => el.id);
  const refs = [];
  for (const attr of ["aria-labelledby", "aria-describedby"]) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const ref of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        const target = document.getElementById(ref);
        refs.push({ attr, ref, found: !!target, own: !!target && el.contains(target) });
      }
    }
  }
  const charts = [...document.querySelectorAll("svg.chart")].map((svg) => ({
    title: svg.querySelector("title")?.textContent,
    labelledBy: svg.getAttribute("aria-labelledby"),
    describedBy: svg.getAttribute("aria-describedby"),
  }));
  return { ids, refs, charts };
}"""


def _check(page: Any, charts: int) -> dict[str, Any]:
    found = page.evaluate(_IDS)
    ids = found["ids"]
    assert len(found["charts"]) == charts, found["charts"]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"repeated ids: {dupes}"
    missing = [r for r in found["refs"] if not r["found"]]
    assert not missing, f"aria references to no element: {missing}"
    for chart in found["charts"]:
        assert chart["labelledBy"] and chart["describedBy"], chart
    chart_refs = [r for r in found["refs"] if r["ref"].startswith("chart-")]
    assert len(chart_refs) == 2 * charts and all(r["own"] for r in chart_refs), chart_refs
    return found


def test_two_charts_on_the_insight_page_have_unique_ids(page: Any) -> None:
    page.get_by_test_id("open-gap").click()
    page.get_by_test_id("drivers").wait_for()
    _check(page, charts=1)
    page.locator("[data-testid^=whatif-]").first.click()
    page.get_by_test_id("whatif-result").wait_for()
    page.locator("svg.chart").nth(1).wait_for()
    found = _check(page, charts=2)
    titles = [c["title"] for c in found["charts"]]
    assert titles[1] == "After this action", titles
    # each chart is named by its own title, not the first chart's
    name_of = "(svg) => document.getElementById(svg.getAttribute('aria-labelledby')).textContent"
    names = [page.locator("svg.chart").nth(i).evaluate(name_of) for i in range(2)]
    assert names == titles
