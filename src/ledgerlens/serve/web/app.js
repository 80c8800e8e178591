// The app shell: log in from the link's #token=…, route by hash, render a screen, register the
// service worker that keeps the shell and the last home/insights/forecast for offline use.
import { grants, logout, setToken, token } from "./api.js";
import * as screens from "./screens.js";
import { emptyState, h } from "./views.js";

const view = document.getElementById("view");

function login() {
  const m = location.hash.match(/^#token=([A-Za-z0-9._-]+)/);
  if (m) {
    setToken(m[1]);
    history.replaceState(null, "", `${location.pathname}#/home`); // the token leaves the URL
  }
}

function context() {
  const granted = Object.keys(grants());
  const chosen = localStorage.getItem("ll.business");
  const business = granted.includes(chosen) ? chosen : granted[0];
  return business ? { business } : null;
}

function signOut() {
  logout();
  location.hash = "#/home";
  render();
}

async function render() {
  login();
  const ctx = token() && context();
  document.querySelectorAll("nav a").forEach((a) => {
    a.toggleAttribute("aria-current", location.hash.startsWith(a.getAttribute("href")));
  });
  if (!ctx) {
    view.replaceChildren(emptyState("Sign in", "Open the login link printed by “ledgerlens demo” (…/app#token=…)."));
    return;
  }
  const [, name, arg] = (location.hash.match(/^#\/([a-z-]+)\/?(.*)$/) || [null, "home", ""]);
  const screen = {
    home: () => screens.home(ctx),
    insight: () => screens.insight(ctx, decodeURIComponent(arg)),
    transactions: () => screens.transactions(ctx),
    unusual: () => screens.unusual(ctx),
    cards: () => screens.cards(ctx),
    offers: () => screens.offers(ctx),
    settings: () => screens.settings(ctx, signOut),
  }[name] || (() => screens.home(ctx));
  view.setAttribute("aria-busy", "true");
  try {
    const parts = await screen();
    view.replaceChildren(...parts.flat().filter(Boolean));
    window.scrollTo(0, 0);
  } catch (err) {
    view.replaceChildren(emptyState("Something went wrong", "Please try again."));
  } finally {
    view.setAttribute("aria-busy", "false");
    view.focus({ preventScroll: true });
    document.body.dataset.screen = name || "home";
  }
}

window.addEventListener("hashchange", render);
window.addEventListener("online", render);
window.addEventListener("offline", () => document.body.classList.add("is-offline"));
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
}
render();
