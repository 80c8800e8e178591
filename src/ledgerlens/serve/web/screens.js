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

// Dismiss, act on one of the insight's actions (recorded, nothing is moved), or mute its kind.
function insightButtons(ctx, found) {
  const path = (how) => biz(ctx.business, `/insights/${encodeURIComponent(found.insight_id)}/${how}`);
  const all = [];
  async function change(how, body, done) {
    all.forEach((b) => { b.disabled = true; });
    const r = await api(path(how), { method: "POST", body });
    if (!r.ok) {
      all.forEach((b) => { b.disabled = false; });
      toast(problem(r, how === "dismiss" ? "Could not dismiss the insight." : "Could not record that."));
      return;
    }
    toast(done);
    location.hash = "#/home";
  }
  const acts = (found.actions || []).map((a, n) => {
    const b = h("button", { type: "button", "data-testid": `act-${n}` }, `Act: ${a.label}`);
    b.addEventListener("click", () => change("act", { action: String(a.kind).slice(0, 140) },
      `Noted: you acted on “${found.title}”. It leaves your feed.`));
    all.push(b);
    return h("li", {}, b);
  });
  const dismiss = h("button", { type: "button", class: "secondary", "data-testid": "dismiss-insight" }, "Dismiss");
  dismiss.addEventListener("click", () => change("dismiss", {}, `Dismissed: “${found.title}” left your feed.`));
  all.push(dismiss);
  const muteBtn = h("button", { type: "button", class: "secondary", "data-testid": "mute-kind", onclick: () => mute(ctx, found) },
    `Mute “${humanize(found.kind)}” insights`);
  return card(acts.length ? "Act on this" : "Done with this?",
    acts.length ? [h("p", { class: "muted" }, "Acting records what you did; nothing is moved for you."),
      h("ul", { class: "actions", "data-testid": "insight-actions" }, acts)] : null,
    h("div", { class: "insight-buttons" }, dismiss, muteBtn));
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
  }
  const buttons = found ? insightButtons(ctx, found) : null; // last, after the why and the previews
  if (!fcA.ok || (!found && !fcA.data.gap_week)) {
    if (!found) out.push(emptyState("Nothing to show", "This insight is no longer current."));
    return [...out, buttons];
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
  return [...out, buttons];
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

// What an error answer says, in words: the problem's detail, and which fields were refused.
function problem(r, fallback) {
  if (r.status === 0) return "You are offline: try again when you are back online.";
  const d = r.data || {};
  const fields = (Array.isArray(d.errors) ? d.errors : [])
    .map((e) => (e.loc || []).filter((x) => typeof x === "string" && x !== "body").pop()).filter(Boolean);
  const detail = typeof d.detail === "string" ? d.detail : "";
  if (fields.length) return `${detail || "Refused"}: check ${[...new Set(fields)].join(", ")}.`;
  return detail ? `${detail[0].toUpperCase()}${detail.slice(1)}.` : fallback;
}

const humanize = (code) => String(code).replace(/[._]+/g, " ").replace(/^\w/, (c) => c.toUpperCase());

function plain(v) {
  if (Array.isArray(v)) return v.map(plain).join(", ");
  if (v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${humanize(k)}: ${plain(x)}`).join("; ");
  if (v === true) return "yes";
  if (v === false) return "no";
  return String(v ?? "");
}

// ---- cards and the employee-card policy -------------------------------------------------

function ruleLines(rules, currency, cat) {
  const m = (v) => money(v, currency);
  const out = [];
  for (const [k, v] of Object.entries(rules || {})) {
    if (k === "role" || k.startsWith("_")) continue;
    if (k === "per_transaction_limit") out.push(`Up to ${m(v)} a purchase`);
    else if (k === "monthly_limit") out.push(`Up to ${m(v)} a month`);
    else if (k === "review_above") out.push(`Purchases over ${m(v)} are reviewed first`);
    else if (k === "blocked_mccs") out.push(`Blocked merchant category codes: ${plain(v)}`);
    else if (k === "allowed_mccs") out.push(`Allowed merchant category codes: ${plain(v)}`);
    else if (k === "allowed_categories") out.push(`Allowed categories: ${[].concat(v).map(cat).join(", ")}`);
    else if (k === "blocked_merchants") out.push(`Blocked merchants: ${plain(v)}`);
    else if (k === "weekends") out.push(v ? "Weekends allowed" : "Not at weekends");
    else if (k === "hours" && Array.isArray(v) && v.length === 2) out.push(`Only from ${v[0]} to ${v[1]} (local time)`);
    else out.push(`${humanize(k)}: ${plain(v)}`);
  }
  return out;
}

function policyCard(ans, taxonomy) {
  const title = "Employee card policy";
  if (!ans.ok) return emptyState(title, ans.missing ? "Card policies are not available yet." : problem(ans, "Could not load the card policy."));
  const doc = ans.data && ans.data.document;
  if (!doc) {
    return h("section", { class: "card", "data-testid": "card-policy" }, h("h2", {}, title),
      h("p", { class: "policy-none" }, "No policy set."),
      h("p", { class: "muted" }, "Without a policy, employee card purchases are not checked against any limits."));
  }
  const cur = doc.currency || "";
  const cat = (code) => taxonomy[code] || humanize(code);
  const roles = doc.roles || {};
  const employees = doc.employees || {};
  const cardsMap = doc.cards || {};
  const known = new Set(["policy_id", "version", "currency", "timezone", "roles", "employees", "cards"]);
  const other = Object.entries(doc).filter(([k]) => !known.has(k) && !k.startsWith("_"));
  return h("section", { class: "card policy", "data-testid": "card-policy" }, h("h2", {}, title),
    h("p", { class: "muted" }, `Policy ${doc.policy_id ?? ans.data.policy_id ?? ""}, version ${doc.version ?? ans.data.version ?? ""}`,
      cur ? ` · amounts in ${cur}` : "", doc.timezone ? ` · times in ${doc.timezone}` : ""),
    Object.entries(roles).map(([role, rules]) => [h("h3", {}, `Role: ${humanize(role)}`),
      h("ul", { class: "rules", "data-testid": `policy-role-${role}` },
        (ruleLines(rules, cur, cat).length ? ruleLines(rules, cur, cat) : ["No limits"]).map((x) => h("li", {}, x)))]),
    Object.keys(employees).length ? [h("h3", {}, "Employees"), h("ul", { class: "rules" },
      Object.entries(employees).map(([emp, e]) => {
        const own = ruleLines(e, cur, cat);
        return h("li", {}, h("strong", {}, emp), `: ${e && e.role ? humanize(e.role) : "no role"}`,
          own.length ? ` — except: ${own.join("; ")}` : "");
      }))] : null,
    Object.keys(cardsMap).length ? [h("h3", {}, "Cards"), h("ul", { class: "rules" },
      Object.entries(cardsMap).map(([c, emp]) => h("li", {}, `${c} → ${plain(emp)}`)))] : null,
    other.length ? [h("h3", {}, "Other rules"), h("ul", { class: "rules" },
      other.map(([k, v]) => h("li", {}, `${humanize(k)}: ${plain(v)}`)))] : null);
}

export async function cards(ctx) {
  const [c, p] = await Promise.all([api(biz(ctx.business, "/cards")), api(biz(ctx.business, "/card-policy"))]);
  const taxA = p.ok && p.data.document ? await api("/v1/taxonomy") : null;
  const taxonomy = Object.fromEntries(((taxA && taxA.ok && taxA.data.leaves) || []).map((l) => [l.code, l.label]));
  let cardList;
  if (!c.ok) cardList = emptyState("Cards", c.missing ? "Cards are not available yet." : problem(c, "Could not load the cards."));
  else if (!c.data.items.length) cardList = emptyState("Cards", "No card payments seen yet.");
  else {
    cardList = card("Cards", h("ul", { class: "plain cards" }, c.data.items.map((x) => h("li", {},
      h("div", { class: "tx-main" }, h("strong", {}, x.card_id), h("span", {}, x.role ? humanize(x.role) : "No role")),
      h("div", { class: "tx-meta" }, x.employee_id ? `${x.employee_id} · ` : "",
        `${x.transactions} payment(s)`, x.last_used ? ` · last used ${day(x.last_used)}` : "")))));
  }
  return [h("h1", {}, "Cards and policies"), cardList, policyCard(p, taxonomy)];
}

// ---- offers ----------------------------------------------------------------------------

function missingConsent(r) {
  const m = /the (\w+) consent/i.exec((r.data && r.data.detail) || "");
  return m ? m[1] : "offers";
}

export async function offers(ctx) {
  const r = await api(biz(ctx.business, "/offers"));
  const head = h("h1", {}, "Offers");
  if (r.status === 403 && r.data && /consent/.test(String(r.data.type || "") + String(r.data.detail || ""))) {
    const purpose = missingConsent(r);
    return [head, h("section", { class: "empty", role: "status", "data-testid": "offers-consent" },
      h("h2", {}, `The “${PURPOSES[purpose] || humanize(purpose)}” consent is off`),
      h("p", {}, `Offers are only shown when you allow us to use your data for ${purpose === "offers" ? "offers" : humanize(purpose).toLowerCase()}.`),
      h("a", { class: "button", href: "#/settings", "data-testid": "to-settings" }, "Turn it on in Settings"))];
  }
  if (!r.ok) return [head, emptyState("No offers", r.missing ? "Offers are not available yet." : problem(r, "Could not load the offers."))];
  const items = r.data.items || [];
  const none = () => emptyState("No offers", "Nothing we would suggest right now.");
  if (!items.length) return [head, none()];
  // the same product can come as an offer and as a recommendation; a dismissal is per product
  const view = h("div", { class: "offers" });
  const groups = [["offer", "Offers for you"], ["recommendation", "Recommended for you"]].map(([kind, title]) => {
    const mine = items.filter((o) => (o.kind === "recommendation" ? "recommendation" : "offer") === kind);
    return mine.length ? h("section", { class: "offer-group", "data-testid": `${kind}s` }, h("h2", {}, title),
      mine.map((o) => offerCard(ctx, o, kind, view, none))) : null;
  });
  view.append(...groups.filter(Boolean));
  return [head, view];
}

function offerCard(ctx, o, kind, view, none) {
  const title = o.title || humanize(o.product || "offer");
  const btn = h("button", { type: "button", class: "secondary", "data-testid": `dismiss-${kind}-${o.offer_id}` },
    `Dismiss “${title}”`);
  const el = h("article", { class: "card", "data-testid": `${kind}-${o.offer_id}`, "data-product": o.offer_id },
    h("h3", {}, title),
    o.message ? h("p", {}, o.message) : null,
    o.reasons && o.reasons.length ? [h("p", { class: "why" }, "Why:"), h("ul", {}, o.reasons.map((x) => h("li", {}, x)))] : null,
    h("p", { class: "muted" }, `Source ${o.source}; confidence ${pct(o.confidence)}.`),
    btn);
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    const d = await api(biz(ctx.business, `/offers/${encodeURIComponent(o.offer_id)}/dismiss`), { method: "POST" });
    if (!d.ok) { btn.disabled = false; toast(problem(d, "Could not dismiss it.")); return; }
    view.querySelectorAll("[data-product]").forEach((x) => { if (x.dataset.product === o.offer_id) x.remove(); });
    view.querySelectorAll(".offer-group").forEach((g) => { if (!g.querySelector("[data-product]")) g.remove(); });
    toast(`Dismissed: “${title}” will not be shown again.`);
    if (!view.children.length) view.replaceWith(none());
  });
  return el;
}

// ---- settings --------------------------------------------------------------------------

const PURPOSES = {
  insights: "Insights",
  offers: "Offers",
  model_improvement: "Model improvement",
  data_sharing: "Data sharing",
};
const PURPOSE_TEXT = {
  insights: "Use your transactions to forecast your cash and explain it.",
  offers: "Use your data to suggest financial products that fit your business.",
  model_improvement: "Use your data to improve our models.",
  data_sharing: "Share your data with partners.",
};
const CHANNELS = [["in_app", "In the app"], ["email", "Email"], ["push", "Push notifications"]];

function consentCard(ctx, ans) {
  if (!ans.ok) return emptyState("Consent", ans.missing ? "Consent management is not available yet." : problem(ans, "Could not load your consents."));
  const status = h("p", { class: "muted", role: "status", "data-testid": "consent-status" });
  const boxes = new Map();
  const show = (items) => { for (const it of items) { const b = boxes.get(it.purpose); if (b) b.checked = it.granted; } };
  const rows = ans.data.items.map((it) => {
    const name = PURPOSES[it.purpose] || humanize(it.purpose);
    const box = h("input", { type: "checkbox", role: "switch", checked: it.granted, "data-testid": `consent-${it.purpose}` });
    boxes.set(it.purpose, box);
    box.addEventListener("change", async () => {
      const grant = box.checked;
      if (!grant && !confirm(`Withdraw your consent to “${name}”? We stop using your data for it, and the data ` +
        "derived for it is deleted at once. This cannot be undone.")) { box.checked = true; return; }
      box.disabled = true;
      const r = await api(biz(ctx.business, `/consents/${encodeURIComponent(it.purpose)}`), { method: grant ? "POST" : "DELETE" });
      box.disabled = false;
      if (!r.ok) { box.checked = !grant; status.textContent = problem(r, "Could not change the consent."); toast(status.textContent); return; }
      show(r.data.items);
      const gone = Object.values(r.data.deleted || {}).reduce((a, n) => a + Number(n || 0), 0);
      status.textContent = grant ? `“${name}” consent granted.`
        : `“${name}” consent withdrawn; ${gone} derived record(s) deleted.`;
      toast(status.textContent);
    });
    return h("li", { class: "toggle" }, h("label", {}, box, " ", h("strong", {}, name)),
      h("p", { class: "muted" }, PURPOSE_TEXT[it.purpose] || ""));
  });
  return h("section", { class: "card", "data-testid": "consents" }, h("h2", {}, "Consent"),
    h("p", {}, "Withdrawing a consent stops processing for it and deletes the data derived for it."),
    h("ul", { class: "plain" }, rows), status);
}

function field(labelText, input, hint) {
  return h("div", { class: "field" }, h("label", {}, labelText, input), hint ? h("p", { class: "muted" }, hint) : null);
}

function preferencesCards(ctx, ans) {
  if (!ans.ok) return [emptyState("Notifications", ans.missing ? "Preferences are not available yet." : problem(ans, "Could not load your preferences."))];
  let saved = ans.data;
  const put = (changes) => {
    const body = { muted_kinds: saved.muted_kinds, buffer: saved.buffer, channels: saved.channels,
      quiet_start: saved.quiet_start, quiet_end: saved.quiet_end, timezone: saved.timezone, digest: saved.digest,
      language: saved.language, email: saved.email, push_url: saved.push_url, ...changes };
    return api(biz(ctx.business, "/preferences"), { method: "PUT", body });
  };
  // channels and the other choices, saved together
  const boxes = CHANNELS.map(([code, text]) => [code, h("input", { type: "checkbox", name: "channel", value: code,
    checked: saved.channels.includes(code), disabled: code === "in_app", "data-testid": `channel-${code}` }), text]);
  const email = h("input", { type: "email", value: saved.email, autocomplete: "email", "data-testid": "pref-email" });
  const push = h("input", { type: "url", value: saved.push_url, placeholder: "push service address (https)", "data-testid": "pref-push-url" });
  const digest = h("select", { "data-testid": "pref-digest" }, [["none", "No digest"], ["daily", "Daily"], ["weekly", "Weekly"]]
    .map(([v, t]) => h("option", { value: v, selected: saved.digest === v }, t)));
  const langs = [["en", "English"], ["de", "Deutsch"]];
  if (!langs.some(([v]) => v === saved.language)) langs.push([saved.language, saved.language]);
  const language = h("select", { "data-testid": "pref-language" }, langs.map(([v, t]) => h("option", { value: v, selected: saved.language === v }, t)));
  const qs = h("input", { type: "time", value: saved.quiet_start || "", "data-testid": "pref-quiet-start" });
  const qe = h("input", { type: "time", value: saved.quiet_end || "", "data-testid": "pref-quiet-end" });
  const tz = h("input", { type: "text", value: saved.timezone, autocomplete: "off", "data-testid": "pref-timezone" });
  const buffer = h("input", { type: "text", inputmode: "decimal", value: saved.buffer, "data-testid": "pref-buffer" });
  const status = h("p", { class: "muted", role: "status", "data-testid": "prefs-status" });
  const form = h("form", { class: "prefs", "data-testid": "preferences" },
    h("fieldset", {}, h("legend", {}, "Notify me by"), boxes.map(([code, box, text]) =>
      h("label", { class: "check" }, box, ` ${text}`, code === "in_app" ? h("span", { class: "muted" }, " (always on)") : null))),
    field("Email address ", email, "Needed for email notifications and digests."),
    field("Push address ", push, "The https address your device gave for push notifications."),
    field("Digest ", digest),
    field("Language ", language),
    h("fieldset", {}, h("legend", {}, "Quiet hours (no notifications)"),
      field("From ", qs), field("Until ", qe), h("p", { class: "muted" }, "Leave both empty for no quiet hours.")),
    field("Time zone ", tz, "For example Europe/London."),
    field(`Cash buffer (${saved.currency}) `, buffer, "Warn me when my balance may drop below this."),
    h("button", { type: "submit", "data-testid": "save-preferences" }, "Save preferences"), status);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!qs.value !== !qe.value) { status.textContent = "Quiet hours need both a start and an end."; return; }
    const r = await put({ channels: boxes.filter(([, b]) => b.checked).map(([c]) => c), email: email.value.trim(),
      push_url: push.value.trim(), digest: digest.value, language: language.value, quiet_start: qs.value || null,
      quiet_end: qe.value || null, timezone: tz.value.trim() || "UTC", buffer: buffer.value.trim() || "0" });
    if (!r.ok) { status.textContent = problem(r, "Could not save the preferences."); toast(status.textContent); return; }
    saved = r.data;
    status.textContent = "Preferences saved."; toast(status.textContent);
  });
  // muted insight kinds, each with its own unmute
  const mutedList = h("ul", { class: "plain muted-kinds", "data-testid": "muted-kinds" });
  const noneMuted = () => h("li", { "data-testid": "none-muted" }, "No insight kinds are muted.");
  const fill = () => mutedList.replaceChildren(...(saved.muted_kinds.length ? saved.muted_kinds.map((kind) => {
    const btn = h("button", { type: "button", class: "secondary", "data-testid": `unmute-${kind}` }, `Unmute “${humanize(kind)}”`);
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      const r = await put({ muted_kinds: saved.muted_kinds.filter((k) => k !== kind) });
      if (!r.ok) { btn.disabled = false; toast(problem(r, "Could not unmute.")); return; }
      saved = { ...saved, muted_kinds: r.data.muted_kinds };
      fill();
      toast(`“${humanize(kind)}” insights will show again.`);
    });
    return h("li", { class: "muted-kind", "data-testid": `muted-${kind}` }, h("span", {}, humanize(kind)), btn);
  }) : [noneMuted()]));
  fill();
  return [card("Notifications", form),
    card("Muted insights", h("p", { class: "muted" }, "Insights of these kinds are not shown to you."), mutedList)];
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
    consentCard(ctx, cons),
    preferencesCards(ctx, pref),
    card("Your data", h("p", {}, "Take a copy, or erase it."), exportBtn, delBtn),
    card("Session", h("button", { type: "button", onclick: logoutFn }, "Log out"))];
}
