// The forecast chart as SVG: weekly inflow and outflow bars, the p10-p90 balance band, the
// median line and the shortfall week highlighted; always with a table as its text alternative.
import { h, money, day } from "./views.js";

const NS = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const k of kids) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

// the chart's week (7 days from its start) that holds the gap week's first day
export function gapIndex(points, gapStart) {
  if (!gapStart) return -1;
  const t = Date.parse(`${gapStart}T00:00:00Z`);
  return points.findIndex((p) => {
    const s0 = Date.parse(`${p.start}T00:00:00Z`);
    return t >= s0 && t < s0 + 7 * 86400000;
  });
}

// each chart's <title>/<desc> ids are unique in the document (a screen may show two charts)
let chartCount = 0;

export function forecastChart(points, currency, gapStart, title) {
  const uid = `chart-${++chartCount}`;
  const W = 340, H = 200, L = 8, R = 8, T = 10, B = 24;
  const vals = points.flatMap((p) => [+p.p10, +p.p90, +p.inflow, +p.outflow, 0]);
  const lo = Math.min(...vals), hi = Math.max(...vals);
  const span = hi - lo || 1;
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / span);
  const step = (W - L - R) / Math.max(points.length, 1);
  const x = (i) => L + step * i;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart",
    "aria-labelledby": `${uid}-title`, "aria-describedby": `${uid}-desc` });
  const gap = gapIndex(points, gapStart);
  const desc = gap >= 0
    ? `Shortfall risk highlighted in the week starting ${day(points[gap].start)}.`
    : "No week at risk of a shortfall.";
  svg.append(s("title", { id: `${uid}-title` }, title), s("desc", { id: `${uid}-desc` }, desc));
  // back to front: the risk week's fill, the balance band, the bars, the median, then the risk
  // week's outline, so neither the band nor a bar covers the outline or the bars
  const gapBox = gap >= 0 ? { x: x(gap), y: T, width: step, height: H - T - B } : null;
  if (gapBox) svg.append(s("rect", { ...gapBox, class: "gap-week", "data-testid": "gap-week" }));
  const top = points.map((p, i) => `${x(i) + step / 2},${y(+p.p90)}`);
  const bottom = points.map((p, i) => `${x(i) + step / 2},${y(+p.p10)}`).reverse();
  svg.append(s("polygon", { points: [...top, ...bottom].join(" "), class: "band" }));
  svg.append(s("line", { x1: L, x2: W - R, y1: y(0), y2: y(0), class: "zero" }));
  points.forEach((p, i) => {
    const bw = Math.max(step / 2 - 1, 1);
    svg.append(s("rect", { x: x(i) + 1, y: y(Math.max(+p.inflow, 0)), width: bw,
      height: Math.abs(y(0) - y(+p.inflow)), class: "inflow" }));
    svg.append(s("rect", { x: x(i) + 1 + bw, y: y(0), width: bw,
      height: Math.abs(y(+p.outflow) - y(0)), class: "outflow" }));
  });
  svg.append(s("polyline", { points: points.map((p, i) => `${x(i) + step / 2},${y(+p.p50)}`)
    .join(" "), class: "median" }));
  if (gapBox) svg.append(s("rect", { ...gapBox, class: "gap-edge", "aria-hidden": "true" }));
  [0, Math.floor(points.length / 2), points.length - 1].forEach((i) => {
    if (points[i]) svg.append(s("text", { x: x(i) + 2, y: H - 6, class: "axis" }, day(points[i].start)));
  });
  const legend = h("ul", { class: "legend" },
    h("li", { class: "k-in" }, "Expected money in"), h("li", { class: "k-out" }, "Expected money out"),
    h("li", { class: "k-band" }, "Balance range (likely low to likely high)"),
    h("li", { class: "k-gap" }, "Week at risk"));
  const table = h("table", { class: "chart-table" },
    h("caption", {}, `${title} (${currency})`),
    h("thead", {}, h("tr", {}, ["Week", "In", "Out", "Low", "Median", "High"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, points.map((p, i) => h("tr", { class: i === gap ? "gap-row" : null },
      h("th", { scope: "row" }, day(p.start)),
      [p.inflow, p.outflow, p.p10, p.p50, p.p90].map((v) => h("td", {}, money(v, currency)))))));
  return h("figure", { class: "chart-wrap", "data-testid": "forecast-chart" }, svg, legend,
    h("details", {}, h("summary", {}, "Show the numbers as a table"), table));
}
