// One function per screen: fetch what it needs, render, and say honestly when a part of the
// API is not there yet (404/501: another stage is still building it).
import { api } from "./api.js";
import { forecastChart, gapIndex } from "./chart.js";
import { card, day, emptyState, h, money, pct, toast } from "./views.js";

const biz = (b, rest = "") => `/v1/businesses/${encodeURIComponent(b)}${rest}`;
const GAP_ID = "cash-gap";

function offlineNote(...answers) {
  const saved = answers.find((a) => a && a.saved);
  if (!saved && navigator.onLine) return null;
  const at = saved ? new Date(saved.saved).toLocaleString() : "earlier";
  return h("p", { class: "offline", role: "status", "data-testid": "offline-note" },
    `Offline: showing what was saved ${at}.`);
}

function insightItems(ans) {
  if (!ans.ok || !ans.data) return [];
  return ans.data.items || ans.data.insights || [];
}

function isCashGap(i) { return /cash|gap|shortfall/i.test(String(i.kind || "")); }

function gapSentence(fc) {
  const w = fc.gap_week;
  return `${pct(w.shortfall_probability)} chance your balance drops below ` +
    `${money(fc.buffer, fc.base_currency)} in the week of ${day(w.week_start)} ` +
    `(expected low ${money(w.expected_min_balance, fc.base_currency)} on ${day(w.expected_min_day)}).`;
}

export async function home(ctx) {
  const [b, fcA, insA] = await Promise.all([
    api(biz(ctx.business)), api(biz(ctx.business, "/forecast")),
    api(biz(ctx.business, "/insights")),
  ]);
  const out = [offlineNote(b, fcA, insA)];
  out.push(h("h1", { "data-testid": "business-name" }, b.ok ? b.data.name : ctx.business));
  if (!fcA.ok) {
    out.push(emptyState("No forecast yet", fcA.status === 0
      ? "You are offline and nothing was saved yet." : (fcA.data && fcA.data.detail) || "The forecast is not available."));
  } else {
    const fc = fcA.data;
    out.push(card("Balances", h("ul", { class: "balances" }, fc.balances.map((a) =>
      h("li", {}, h("span", {}, a.name || a.account_type), h("strong", {}, money(a.balance, a.currency)))))));
    const gapInsight = insightItems(insA).find(isCashGap);
    if (fc.gap_week) {
      const id = gapInsight ? gapInsight.insight_id : GAP_ID;
      out.push(h("section", { class: "card alert", "data-testid": "cash-gap", role: "region",
        "aria-label": "Cash gap" },
        h("h2", {}, gapInsight ? gapInsight.title : "Cash gap ahead"),
        h("p", {}, gapInsight ? gapInsight.message : gapSentence(fc)),
        h("a", { class: "button", href: `#/insight/${encodeURIComponent(id)}`,
          "data-testid": "open-gap" }, "See why and what to do")));
    } else {
      out.push(card("Cash outlook", h("p", {}, "No week in the next 13 looks at risk of a shortfall.")));
    }
    out.push(card("Next 13 weeks", forecastChart(fc.chart, fc.base_currency,
      fc.gap_week && fc.gap_week.week_start, "Expected money in and out, and your balance"),
      h("p", { class: "muted" }, `${fc.history}. Source ${fc.source}.`)));
  }
  const items = insightItems(insA);
  if (insA.missing) out.push(emptyState("Insights", "Insights are not available yet."));
  else if (items.length) {
    out.push(card("Top insights", h("ul", { class: "insights" }, items.slice(0, 3).map((i) =>
      h("li", {}, h("a", { href: `#/insight/${encodeURIComponent(i.insight_id)}` }, i.title),
        h("p", {}, i.message))))));
  }
  return out;
}

function previews(fc) {
  // actions for the gap, each previewed by the what-if endpoint before anything happens
  const w = fc.gap_week; const acts = [];
  const operating = fc.balances.find((a) => a.operating) || fc.balances[0];
  const out = fc.upcoming.filter((i) => +i.amount < 0 && i.due_date <= w.week_end &&
    i.account_id === operating.account_id)
    .sort((a, b) => +a.amount - +b.amount)[0];
  if (out) {
    const later = new Date(`${out.due_date}T00:00:00Z`); later.setUTCDate(later.getUTCDate() + 21);
    acts.push({ label: `Move “${out.label}” (${money(out.amount, fc.base_currency)}) three weeks later`,
      actions: [{ type: "move_payment", item_id: out.item_id, new_date: later.toISOString().slice(0, 10) }] });
  }
  // enough to lift the likely-low balance of the gap week over the buffer, plus half a
  // typical week's spending as a margin
  const point = fc.chart[Math.max(gapIndex(fc.chart, w.week_start), 0)];
  const weekOut = fc.chart.reduce((sum, p) => sum - Number(p.outflow), 0) / Math.max(fc.chart.length, 1);
  const need = Math.max(Math.ceil(Math.max(Number(fc.buffer) - Number(point.p10), 0) + weekOut / 2), 1);
  const saver = fc.balances.find((a) => a !== operating && a.currency === operating.currency && +a.balance > 0);
  const before = new Date(`${w.week_start}T00:00:00Z`); before.setUTCDate(before.getUTCDate() - 1);
  const on = (before.toISOString().slice(0, 10) > fc.as_of ? before.toISOString() : `${fc.as_of}T`).slice(0, 10);
  if (saver) {
    const amount = Math.min(need, Math.floor(+saver.balance));
    acts.push({ label: `Move ${money(amount, saver.currency)} from ${saver.name} before the gap`,
      actions: [{ type: "schedule_transfer", from_account_id: saver.account_id,
        to_account_id: operating.account_id, on, amount: amount.toFixed(2) }] });
  }
  acts.push({ label: `Bring in ${money(need, fc.base_currency)} before the gap (e.g. chase an invoice)`,
    actions: [{ type: "one_off", account_id: operating.account_id, on, amount: need.toFixed(2),
      label: "expected inflow" }] });
  return acts;
}

async function preview(ctx, fc, act, slot) {
  slot.textContent = "Re-forecasting…";
  const r = await api(biz(ctx.business, "/forecast/what-if"), { method: "POST", body: { actions: act.actions } });
  if (!r.ok) { slot.textContent = (r.data && r.data.detail) || "The preview is not available."; return; }
  const wk = r.data.weeks.find((x) => x.week_start === fc.gap_week.week_start) || r.data.weeks[0];
  slot.replaceChildren(h("p", { "data-testid": "whatif-result", role: "status" },
    `Shortfall risk in the week of ${day(wk.week_start)}: `, h("strong", {}, pct(wk.before)), " → ",
    h("strong", { "data-testid": "whatif-after" }, pct(wk.after)),
    r.data.gap_week_after ? ` (still at risk from ${day(r.data.gap_week_after.week_start)})` : " (no week at risk any more)"),
    forecastChart(r.data.chart, fc.base_currency, r.data.gap_week_after && r.data.gap_week_after.week_start,
      "After this action"));
}

async function mute(ctx, insight) {
  const r = await api(biz(ctx.business, `/insights/${encodeURIComponent(insight.insight_id)}/mute`), { method: "POST", body: {} });
  toast(r.ok ? `You will not get “${insight.kind}” insights any more.` : "Muting is not available yet.");
  return r;
}

export async function insight(ctx, id) {
  const [fcA, insA] = await Promise.all([api(biz(ctx.business, "/forecast")), api(biz(ctx.business, "/insights"))]);
  const found = insightItems(insA).find((i) => i.insight_id === id);
  const out = [offlineNote(fcA, insA), h("a", { href: "#/home", class: "back" }, "← Home")];
  if (found) {
    out.push(h("h1", {}, found.title), h("p", {}, found.message));
    out.push(card("Evidence", h("ul", { class: "evidence" }, (found.evidence || []).map((f) =>
      h("li", {}, `${f.label}: `, h("strong", {}, f.amount !== undefined && f.amount !== null
        ? money(f.amount, f.currency || "") : String(f.value ?? "")))))),
      h("p", { class: "muted" }, `Source ${found.source}; confidence ${pct(found.confidence || 0)}.`));
    out.push(h("button", { type: "button", "data-testid": "mute-kind", onclick: () => mute(ctx, found) },
      `Mute “${found.kind}” insights`));
  }
  if (!fcA.ok || (!found && !fcA.data.gap_week)) {
    if (!found) out.push(emptyState("Nothing to show", "This insight is no longer current."));
    return out;
  }
  const fc = fcA.data;
  if (fc.gap_week && (!found || isCashGap(found))) {
    if (!found) out.push(h("h1", {}, "Cash gap ahead"), h("p", {}, gapSentence(fc)));
    out.push(card("Why", h("ol", { class: "drivers", "data-testid": "drivers" }, fc.drivers.map((d) =>
      h("li", {}, d.label, d.due_date ? ` (${day(d.due_date)})` : "", ": ",
        h("strong", {}, money(d.amount, fc.base_currency)))))),
      h("p", { class: "muted" }, `${fc.history}. Source ${fc.source}; confidence ${pct(fc.gap_week.confidence)}.`));
    out.push(card("Forecast", forecastChart(fc.chart, fc.base_currency, fc.gap_week.week_start,
      "Expected money in and out, and your balance")));
    const slot = h("div", { class: "preview", "aria-live": "polite" });
    out.push(card("What you can do", h("p", {}, "Each action is previewed first; nothing is moved."),
      h("ul", { class: "actions" }, previews(fc).map((act, n) => h("li", {},
        h("button", { type: "button", "data-testid": `whatif-${n}`, onclick: () => preview(ctx, fc, act, slot) },
          act.label)))), slot));
  }
  return out;
}

export async function transactions(ctx) {
  const [txA, taxA] = await Promise.all([api(biz(ctx.business, "/transactions?limit=40")), api("/v1/taxonomy")]);
  if (!txA.ok) return [emptyState("Transactions", "Transactions are not available right now.")];
  const items = txA.data.items;
  const catA = items.length ? await api(biz(ctx.business, `/categories?ids=${items.map((t) => encodeURIComponent(t.transaction_id)).join(",")}`)) : null;
  const cats = Object.fromEntries(((catA && catA.ok && catA.data.items) || []).map((c) => [c.transaction_id, c]));
  const leaves = taxA.ok ? taxA.data.leaves : [];
  const rows = new Map();
  const label = (c) => (c && c.category ? c.label : "Uncategorized");
  async function change(t, select) {
    const r = await api(biz(ctx.business, `/transactions/${encodeURIComponent(t.transaction_id)}`),
      { method: "PATCH", body: { category: select.value } });
    if (!r.ok) { toast((r.data && r.data.detail) || "Could not change the category."); return; }
    rows.get(t.transaction_id).cat.textContent = r.data.transaction.label;
    for (const f of r.data.followed) {
      const row = rows.get(f.transaction_id);
      if (row) { row.cat.textContent = f.label; row.select.value = f.category; row.li.classList.add("followed");
        row.note.textContent = "followed your change"; }
    }
    toast(`Category changed. ${r.data.followed.length} similar transaction(s) followed.`);
  }
  const list = h("ul", { class: "tx-list" }, items.map((t) => {
    const c = cats[t.transaction_id];
    const cat = h("span", { class: "cat", "data-testid": `cat-${t.transaction_id}` }, label(c));
    const select = h("select", { "aria-label": `Category of ${t.description || t.counterparty_name}`,
      "data-testid": `select-${t.transaction_id}` },
      h("option", { value: "" }, "Change category…"),
      leaves.map((l) => h("option", { value: l.code, selected: c && c.category === l.code }, l.label)));
    select.addEventListener("change", () => select.value && change(t, select));
    const note = h("span", { class: "note" });
    const li = h("li", { "data-testid": `tx-${t.transaction_id}` },
      h("div", { class: "tx-main" }, h("span", { class: "desc" }, t.counterparty_name || t.description),
        h("strong", { class: +t.amount < 0 ? "neg" : "pos" }, money(t.amount, t.currency))),
      h("div", { class: "tx-meta" }, day(t.booking_date), " · ", cat, " ", note), select);
    rows.set(t.transaction_id, { li, cat, select, note });
    return li;
  }));
  return [h("h1", {}, "Transactions"), list];
}

export async function unusual(ctx) {
  const r = await api(biz(ctx.business, "/anomalies"));
  if (!r.ok) return [h("h1", {}, "Unusual activity"), emptyState("Unusual activity", r.missing ? "Not available yet." : "Could not load.")];
  if (!r.data.items.length) return [h("h1", {}, "Unusual activity"), emptyState("All clear", `Nothing unusual among ${r.data.transactions} transactions.`)];
  return [h("h1", {}, "Unusual activity"), h("ul", { class: "alerts" }, r.data.items.map((a) => {
    const btn = h("button", { type: "button", "data-testid": `expected-${a.transaction_id}` }, "This is expected");
    const li = h("li", { class: "card" },
      h("div", { class: "tx-main" }, h("span", {}, a.counterparty_name || a.description),
        h("strong", {}, money(a.amount, a.currency))),
      h("p", { class: "tx-meta" }, `${day(a.booking_date)} · ${a.kind} · score ${pct(a.score)}`),
      h("ul", {}, a.reasons.map((x) => h("li", {}, x))),
      h("details", {}, h("summary", {}, "Evidence"), h("dl", {}, Object.entries(a.evidence).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))),
      h("p", { class: "muted" }, `Source ${a.source}; confidence ${pct(a.confidence)}.`), btn);
    btn.addEventListener("click", async () => {
      const m = await api(biz(ctx.business, `/anomalies/${encodeURIComponent(a.transaction_id)}/expected`), { method: "POST" });
      if (m.ok) { li.remove(); toast("Marked as expected: similar transactions will not alert."); }
      else toast(m.missing ? "Not available yet." : (m.data && m.data.detail) || "Could not mark it.");
    });
    return li;
  }))];
}

function readOnly(title, ans, empty) {
  if (!ans.ok) return emptyState(title, empty);
  const items = Array.isArray(ans.data) ? ans.data : ans.data.items || [ans.data];
  if (!items.length) return emptyState(title, empty);
  return card(title, h("ul", { class: "plain" }, items.map((it) =>
    h("li", {}, Object.entries(it).filter(([, v]) => typeof v !== "object").map(([k, v]) => h("div", {}, `${k}: ${v}`))))));
}

export async function cards(ctx) {
  const [c, p] = await Promise.all([api(biz(ctx.business, "/cards")), api(biz(ctx.business, "/card-policy"))]);
  return [h("h1", {}, "Cards and policies"),
    readOnly("Cards", c, "Cards are not available yet."),
    readOnly("Employee card policy", p, "Card policies are not available yet.")];
}

export async function offers(ctx) {
  const r = await api(biz(ctx.business, "/offers"));
  const items = r.ok ? r.data.items || [] : [];
  if (!items.length) return [h("h1", {}, "Offers"), emptyState("No offers", r.ok ? "Nothing we would suggest right now." : "Offers are not available yet.")];
  return [h("h1", {}, "Offers"), items.map((o) => card(o.title || o.product || "Offer",
    h("p", {}, o.message || o.description || ""), o.reasons ? h("ul", {}, o.reasons.map((x) => h("li", {}, x))) : null))];
}

export async function settings(ctx, logoutFn) {
  const [pref, cons] = await Promise.all([api(biz(ctx.business, "/preferences")), api(biz(ctx.business, "/consents"))]);
  const exportBtn = h("button", { type: "button", "data-testid": "export" }, "Export all transactions (CSV)");
  exportBtn.addEventListener("click", async () => {
    const r = await api(biz(ctx.business, "/export"));
    if (!r.ok) { toast("Export is not available."); return; }
    const a = h("a", { href: URL.createObjectURL(r.data), download: `${ctx.business}.csv` });
    document.body.append(a); a.click(); a.remove();
  });
  const delBtn = h("button", { type: "button", class: "danger" }, "Delete this business's data");
  delBtn.addEventListener("click", async () => {
    if (!confirm("Delete every transaction and insight of this business? This cannot be undone.")) return;
    const r = await api(biz(ctx.business), { method: "DELETE" });
    toast(r.ok ? "Deleted." : r.missing ? "Deletion from the app is not available yet." : "Could not delete.");
    if (r.ok) logoutFn();
  });
  return [h("h1", {}, "Settings"),
    readOnly("Preferences and channels", pref, "Preferences are not available yet."),
    readOnly("Consent", cons, "Consent management is not available yet."),
    card("Your data", h("p", {}, "Take a copy, or erase it."), exportBtn, delBtn),
    card("Session", h("button", { type: "button", onclick: logoutFn }, "Log out"))];
}
