// provider-emulator's dashboard: progressive enhancement of server-rendered pages.
// Served as a file (the Content-Security-Policy allows no inline script). Every action is
// a call to the control plane (/_emulator/*), with the admin token if one was given.
"use strict";

const TOKEN = "provider-emulator-token";
const ui = document.body.dataset.ui;
const controlBase = document.body.dataset.control;

function notice(text, failed) {
  const box = document.getElementById("notice");
  if (!box) return;
  box.textContent = text;
  box.className = failed ? "failed" : "done";
}

function authorization() {
  const token = sessionStorage.getItem(TOKEN);
  return token ? { Authorization: "Bearer " + token } : {};
}

async function control(method, path, body) {
  const response = await fetch(controlBase + path, {
    method,
    headers: { "Content-Type": "application/json", ...authorization() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 || response.status === 403) {
    // to the token page, and back here once it is given (a tab with the cookie alone: its
    // pages load, but its calls need the token in this tab)
    const here = window.location.pathname.slice(ui.length) + window.location.search;
    const asked = { next: here, [authorization().Authorization ? "refused" : "needed"]: "1" };
    window.location.assign(ui + "/login?" + new URLSearchParams(asked));
    throw new Error("the control plane asks for a token");
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = text;
    try { detail = JSON.parse(text).detail || text; } catch (e) { /* not JSON */ }
    throw new Error(response.status + ": " + detail);
  }
  return text ? JSON.parse(text) : null;
}

// A form's fields as JSON: empty ones left out, numbers as numbers, JSON fields parsed.
function formJson(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled || field.dataset.key !== undefined) continue;
    const kind = field.dataset.type || (field.type === "number" ? "number" : "string");
    if (field.type === "checkbox") { body[field.name] = field.checked; continue; }
    const value = field.value.trim();
    if (value === "") continue;
    if (field.dataset.json !== undefined || kind === "json") body[field.name] = JSON.parse(value);
    else if (kind === "number" || kind === "integer") body[field.name] = Number(value);
    else body[field.name] = value;
  }
  return body;
}

// Forms and buttons that call the control plane: data-call (method) and data-path.
function wireControls() {
  for (const form of document.querySelectorAll("form[data-call]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
      try {
        await control(form.dataset.call, form.dataset.path, formJson(form));
        window.location.reload();
      } catch (error) { notice(error.message, true); }
    });
  }
  for (const button of document.querySelectorAll("button[data-call]")) {
    button.addEventListener("click", async () => {
      try {
        await control(button.dataset.call, button.dataset.path);
        window.location.reload();
      } catch (error) { notice(error.message, true); }
    });
  }
}

// Tables that follow the emulator: their rows are fetched again every second and a half
// while the tab is visible (no browser, no polling: the emulator does nothing extra).
function wireLive() {
  for (const body of document.querySelectorAll("[data-live]")) {
    let stopped = "";  // why the rows stopped following the emulator, said once
    const halt = (why) => {
      if (why !== stopped) notice("Live updates stopped: " + why, true);
      stopped = why;
    };
    const refresh = async () => {
      // Not while hidden, nor while a row is open or holds the keyboard's focus: a reader
      // keeps their place.
      if (!document.hidden && !body.querySelector("details[open]")
          && !body.contains(document.activeElement)) {
        try {
          const response = await fetch(body.dataset.live, { headers: authorization() });
          if (response.redirected) {
            halt("the token is no longer accepted.");  // sent to the token page
          } else if (!response.ok) {
            halt(`the emulator answered ${response.status}.`);
          } else {
            const parsed = new DOMParser().parseFromString(
              "<table><tbody>" + (await response.text()) + "</tbody></table>", "text/html");
            const rows = parsed.querySelector("tbody");
            if (rows && rows.innerHTML !== body.innerHTML) {
              body.replaceChildren(...rows.childNodes);
              wireCopy(body);
            }
            if (stopped) notice("Live updates resumed.");
            stopped = "";
          }
        } catch (error) {
          halt("the emulator does not answer.");
        }
      }
      // the next after this one ends: a slow answer never overlaps the next question
      window.setTimeout(refresh, 1500);
    };
    window.setTimeout(refresh, 1500);
  }
}

function wireCopy(root) {
  for (const button of root.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent;
      try {
        await navigator.clipboard.writeText(text);
        notice("Copied the curl command.");
      } catch (error) {
        const range = document.createRange();
        range.selectNodeContents(document.getElementById(button.dataset.copy));
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        notice("Selected the curl command: copy it with Ctrl+C.");
      }
    });
  }
}

// An endpoint's form submits a job to the provider's own API, as a client would.
function wireSubmit() {
  const form = document.getElementById("submit-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = document.getElementById("submit-answer");
    try {
      const key = form.querySelector("[data-key]").value.trim() || "dashboard";
      const response = await fetch(form.dataset.submit, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: form.dataset.scheme + " " + key },
        body: JSON.stringify(formJson(form)),
      });
      answer.textContent = response.status + "\n" + (await response.text());
    } catch (error) { answer.textContent = error.message; }
  });
}

function wireLogin() {
  const form = document.getElementById("login-form");
  if (!form) return;
  const field = document.getElementById("token");
  field.value = sessionStorage.getItem(TOKEN) || "";
  const keep = (token) => {
    if (token) sessionStorage.setItem(TOKEN, token); else sessionStorage.removeItem(TOKEN);
    const value = token ? encodeURIComponent(token) : "";
    const expiry = token ? "" : "; Max-Age=0";
    document.cookie = "provider_emulator_token=" + value + "; Path=" + controlBase + "; SameSite=Strict" + expiry;
    notice(token ? "Token kept for this tab." : "Token forgotten.");
  };
  const asked = new URLSearchParams(window.location.search);
  if (asked.get("refused")) notice("That token was refused: enter the one the emulator printed.", true);
  if (asked.get("needed")) notice("That action needs the token in this tab too: enter it.", true);
  // back to the page asked for: a path under the dashboard, never another site's
  const next = asked.get("next") || "";
  const back = next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login")
    ? next : "/jobs";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    keep(field.value.trim());
    if (field.value.trim()) window.location.assign(ui + back);
  });
  document.getElementById("forget").addEventListener("click", () => { field.value = ""; keep(""); });
}

wireControls();
wireLive();
wireCopy(document);
wireSubmit();
wireLogin();
