// The room page: messages in a live region, a composer that sends on Enter, each
// of your own messages marked sending / sent / not sent (with a retry that reuses
// its client id), who is here, typing notices, ground rules, session controls.
// Everything people write is put on the page with textContent, never as HTML.

import { RealtimeClient } from "./realtime.js";
import { actionsFor } from "./room-menu.js";

const MAX_BODY = 4000;
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;
const READ_DELAY_MS = 1500;
const HISTORY_PAGE = 50;

const root = document.getElementById("room");
if (root) start(root);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function timeOf(iso) {
  const when = new Date(iso);
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function systemText(message) {
  const data = message.data || {};
  const who = message.sender ? message.sender.name : "A moderator";
  switch (data.event) {
    case "session.opened":
      return `${who} opened the session.`;
    case "session.closed":
      return `${who} closed the session.`;
    case "room.settings":
      return data.moderator_only
        ? "The room now opens only during sessions, while a moderator is here."
        : "The room is now open at any time.";
    default:
      return typeof data.text === "string" ? data.text : "Something changed in the room.";
  }
}

function start(rootEl) {
  const room = rootEl.dataset.room;
  const $ = (id) => document.getElementById(id);
  const statusEl = $("room-status");
  const stateEl = $("room-state");
  const rulesEl = $("rules");
  const rulesText = $("rules-text");
  const rulesButton = $("rules-accept");
  const list = $("messages");
  const olderButton = $("older");
  const typingEl = $("typing");
  const form = $("composer");
  const input = $("message-input");
  const sendButton = $("send-button");
  const counter = $("composer-count");
  const presentEl = $("present");
  const announcer = $("room-announcer");
  const supportEl = $("support");
  const sessionButton = $("session-toggle");
  const modOnlyBox = $("moderator-only");
  const alertsEl = $("moderator-alerts");

  const client = new RealtimeClient();
  const bySeq = new Map(); // seq -> <li>
  const byClient = new Map(); // client id -> <li> (your own messages)
  const present = new Map(); // user id -> person
  const typing = new Map(); // user id -> { name, timer }
  const hidden = new Set(); // senders hidden on this page (menu action)
  let me = null;
  let state = null;
  let rules = null;
  let minSeq = null;
  let latestSeq = 0;
  let readSent = 0;
  let readTimer = null;
  let lastTyping = 0;

  function announce(text) {
    announcer.textContent = "";
    // A fresh text node so screen readers announce the same words twice.
    window.setTimeout(() => {
      announcer.textContent = text;
    }, 50);
  }

  const menuApi = {
    send: (frame) => client.sendFrame(frame),
    notify: announce,
    hideSender: (userId) => {
      hidden.add(userId);
      for (const item of list.querySelectorAll("li.message")) {
        if (item.dataset.sender === userId) item.hidden = true;
      }
    },
  };

  // --- messages --------------------------------------------------------------------

  function place(item, seq) {
    // In seq order, before any message still waiting for its seq.
    let after = null;
    for (let node = list.lastElementChild; node; node = node.previousElementSibling) {
      const nodeSeq = node.dataset.seq ? Number(node.dataset.seq) : Infinity;
      if (nodeSeq < seq) {
        after = node;
        break;
      }
    }
    if (after) after.after(item);
    else list.prepend(item);
  }

  function ownState(item, text, failed = false) {
    const holder = item.querySelector(".message-state");
    if (!holder) return;
    holder.replaceChildren(text);
    item.classList.toggle("message-failed", failed);
    const old = item.querySelector(".message-retry");
    if (old) old.remove();
    if (failed) {
      const retry = el("button", {
        type: "button",
        className: "button button-secondary button-small message-retry",
        text: "Try again",
        onclick: () => {
          client.sendMessage(room, item.dataset.body, item.dataset.clientId);
          ownState(item, "Sending…");
          input.focus();
        },
      });
      holder.after(retry);
    }
  }

  function menuFor(message) {
    const shown = actionsFor(message, me || {});
    if (!shown.length) return null;
    const name = message.sender ? message.sender.name : "PeerHub";
    // MODERATION: report, mute and block are registered in room-menu.js and appear here.
    return el(
      "details",
      { className: "message-menu" },
      el("summary", { "aria-label": `Options for the message from ${name}` }, el("span", { "aria-hidden": "true", text: "⋯" })),
      el(
        "ul",
        {},
        ...shown.map((action) =>
          el(
            "li",
            {},
            el("button", {
              type: "button",
              className: "link-button",
              text: action.label(message),
              onclick: (event) => {
                event.target.closest("details").open = false;
                action.run(message, menuApi);
              },
            }),
          ),
        ),
      ),
    );
  }

  function render(message, { own = false, pending = false } = {}) {
    const system = message.kind === "system";
    const item = el("li", {
      className: ["message", own && "message-own", system && "message-system", message.status === "held" && "message-held"]
        .filter(Boolean)
        .join(" "),
      dataset: {
        ...(message.seq ? { seq: String(message.seq) } : {}),
        clientId: message.client_id || "",
        sender: message.sender ? message.sender.id : "",
      },
    });
    if (!system) {
      const head = el(
        "p",
        { className: "message-head" },
        el("span", { className: "message-sender", text: own ? "You" : message.sender ? message.sender.name : "Someone" }),
        " ",
        message.at ? el("time", { datetime: message.at, text: timeOf(message.at) }) : null,
      );
      item.append(head);
    }
    let bodyText;
    if (system) bodyText = systemText(message);
    else if (message.status === "redacted") bodyText = `This message was removed by a moderator${message.reason ? `: ${message.reason}` : "."}`;
    else bodyText = message.body;
    item.append(el("p", { className: system ? "message-body message-notice" : "message-body", text: bodyText }));
    if (message.status === "held" && !own) {
      item.append(el("p", { className: "message-note", text: "Waiting for review: only you and the moderators can see it." }));
    }
    if (own) {
      item.dataset.body = message.body || "";
      item.append(el("p", { className: "message-state", "aria-live": "off", text: pending ? "Sending…" : "Sent" }));
      if (message.status === "held") ownState(item, "Waiting for a moderator to look at it.");
    }
    const menu = system ? null : menuFor(message);
    if (menu) item.append(menu);
    if (message.sender && hidden.has(message.sender.id)) item.hidden = true;
    return item;
  }

  function showMessage(message) {
    if (bySeq.has(message.seq)) {
      // A newer copy (redacted, approved): replace the old one in place.
      const old = bySeq.get(message.seq);
      if (old.dataset.clientId && byClient.get(old.dataset.clientId) === old) {
        ownState(old, message.status === "held" ? "Waiting for a moderator to look at it." : "Sent");
        return;
      }
      const fresh = render(message, { own: me && message.sender && message.sender.id === me.id });
      old.replaceWith(fresh);
      bySeq.set(message.seq, fresh);
      return;
    }
    const mine = me && message.sender && message.sender.id === me.id;
    let item = mine ? byClient.get(message.client_id) : null;
    if (item) {
      item.dataset.seq = String(message.seq);
      stamp(item, message.at);
      ownState(item, message.status === "held" ? "Waiting for a moderator to look at it." : "Sent");
      place(item, message.seq);
    } else {
      item = render(message, { own: mine });
      if (mine) byClient.set(message.client_id, item);
      place(item, message.seq);
    }
    bySeq.set(message.seq, item);
    track(message.seq);
  }

  function track(seq) {
    latestSeq = Math.max(latestSeq, seq);
    if (minSeq === null || seq < minSeq) minSeq = seq;
    olderButton.hidden = !(minSeq > 1);
    scheduleRead();
  }

  function stamp(item, at) {
    const head = item.querySelector(".message-head");
    if (at && head && !head.querySelector("time")) {
      head.append(" ", el("time", { datetime: at, text: timeOf(at) }));
    }
  }

  function clearMessages() {
    for (const node of [...list.children]) {
      if (node.dataset.seq) node.remove();
    }
    bySeq.clear();
    minSeq = null;
  }

  function scheduleRead() {
    if (document.visibilityState !== "visible" || latestSeq <= readSent) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      if (latestSeq > readSent && client.sendFrame({ type: "read", room, seq: latestSeq })) readSent = latestSeq;
    }, READ_DELAY_MS);
  }
  document.addEventListener("visibilitychange", scheduleRead);

  // --- state, rules, presence ----------------------------------------------------------

  function canWrite() {
    const rulesOk = !rules || rules.accepted;
    return Boolean(state && state.writable && rulesOk && client.isOpen());
  }

  function refreshComposer() {
    const ok = canWrite();
    input.disabled = !ok;
    sendButton.disabled = !ok;
  }

  function showState(next) {
    state = next;
    const lines = [];
    if (!state.writable && state.reason) lines.push(state.reason);
    else if (state.session_open) lines.push("A session is open.");
    stateEl.textContent = lines.join(" ");
    stateEl.hidden = lines.length === 0;
    stateEl.classList.toggle("notice-warning", !state.writable);
    if (sessionButton) {
      sessionButton.textContent = state.session_open ? "Close the session" : "Open the session";
      sessionButton.disabled = false;
    }
    if (modOnlyBox) modOnlyBox.checked = Boolean(state.moderator_only);
    refreshComposer();
  }

  function showRules(next) {
    rules = next;
    const needed = !rules.accepted;
    rulesEl.hidden = !needed;
    if (needed) rulesText.textContent = rules.text;
    refreshComposer();
  }

  function renderPresence() {
    const people = [...present.values()].sort((a, b) => a.name.localeCompare(b.name));
    presentEl.replaceChildren(
      ...people.map((p) =>
        el("li", {}, el("span", { text: p.name }), p.role !== "member" ? el("span", { className: "role", text: ` (${p.role})` }) : null),
      ),
    );
    const count = $("present-count");
    if (count) count.textContent = `${people.length}`;
  }

  function renderTyping() {
    const names = [...typing.values()].map((t) => t.name);
    if (!names.length) typingEl.textContent = "";
    else if (names.length === 1) typingEl.textContent = `${names[0]} is typing…`;
    else if (names.length === 2) typingEl.textContent = `${names[0]} and ${names[1]} are typing…`;
    else typingEl.textContent = "Several people are typing…";
  }

  // --- frames ------------------------------------------------------------------------------

  client.addEventListener("frame", (event) => {
    const frame = event.detail;
    if (frame.room && frame.room !== room) return;
    switch (frame.type) {
      case "welcome":
        me = frame.user;
        break;
      case "subscribed":
        if (frame.limited) clearMessages();
        showRules(frame.rules);
        showState(frame.state);
        present.clear();
        for (const p of frame.present) present.set(p.id, p);
        renderPresence();
        break;
      case "synced":
        statusEl.textContent = "Connected.";
        refreshComposer();
        break;
      case "message":
        showMessage(frame);
        break;
      case "history":
        for (const message of frame.messages) showMessage(message);
        olderButton.hidden = !frame.more;
        olderButton.disabled = false;
        break;
      case "ack": {
        const item = byClient.get(frame.client_id);
        if (item) {
          if (!item.dataset.seq) {
            item.dataset.seq = String(frame.seq);
            place(item, frame.seq);
            bySeq.set(frame.seq, item);
            track(frame.seq);
          }
          stamp(item, frame.at);
          ownState(item, frame.status === "held" ? "Waiting for a moderator to look at it." : "Sent");
        }
        break;
      }
      case "error": {
        const item = frame.client_id ? byClient.get(frame.client_id) : null;
        if (item) {
          ownState(item, `Not sent. ${frame.message}`, true);
          announce(`Your message was not sent. ${frame.message}`);
        } else {
          announce(frame.message);
        }
        if (frame.code === "rules_not_accepted" && rules) showRules({ ...rules, accepted: false });
        break;
      }
      case "room":
        showState(frame.state);
        break;
      case "rules.accepted":
        showRules({ ...rules, accepted: true });
        announce("Thank you. You can write now.");
        input.focus();
        break;
      case "presence":
        for (const p of frame.joined) present.set(p.id, p);
        for (const id of frame.left) present.delete(id);
        renderPresence();
        break;
      case "typing": {
        const known = typing.get(frame.user.id);
        if (known) clearTimeout(known.timer);
        const timer = setTimeout(() => {
          typing.delete(frame.user.id);
          renderTyping();
        }, TYPING_SHOWN_MS);
        typing.set(frame.user.id, { name: frame.user.name, timer });
        renderTyping();
        break;
      }
      case "support":
        showSupport(frame);
        break;
      case "alert":
        if (alertsEl) {
          alertsEl.prepend(
            el("li", { text: `${frame.sender.name} may need support (message ${frame.seq}).` }),
          );
          announce(`${frame.sender.name} may need support.`);
        }
        break;
      default:
        break;
    }
  });

  client.addEventListener("status", (event) => {
    const { state: connection, code, retryIn } = event.detail;
    if (connection === "connecting") statusEl.textContent = "Connecting…";
    else if (connection === "open") statusEl.textContent = "Connected.";
    else if (connection === "waiting") {
      const seconds = Math.max(1, Math.round(retryIn / 1000));
      statusEl.textContent = `Connection lost. Trying again in ${seconds} second${seconds === 1 ? "" : "s"}…`;
    } else if (connection === "closed") {
      statusEl.textContent =
        code === 1008 ? "You are no longer connected to this room. Your session may have ended: reload the page or sign in again." : "Disconnected.";
    }
    refreshComposer();
  });

  function showSupport(frame) {
    supportEl.replaceChildren(
      el("h2", { id: "support-title", tabindex: "-1", text: "You are not alone" }),
      el("p", { text: frame.message }),
      el(
        "ul",
        { className: "crisis-list" },
        ...frame.contacts.map((c) =>
          el(
            "li",
            {},
            el("strong", { text: c.name }),
            ": ",
            c.href ? el("a", { href: c.href, text: c.how }) : el("span", { text: c.how }),
            c.description ? el("span", { className: "crisis-desc", text: ` — ${c.description}` }) : null,
          ),
        ),
      ),
      el("button", {
        type: "button",
        className: "button button-secondary",
        text: "Close",
        onclick: () => {
          supportEl.hidden = true;
          input.focus();
        },
      }),
    );
    supportEl.hidden = false;
    document.getElementById("support-title").focus();
  }

  // --- the composer and controls -------------------------------------------------------

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  input.addEventListener("input", () => {
    const left = MAX_BODY - input.value.length;
    counter.textContent = left < 200 ? `${left} characters left` : "";
    const now = Date.now();
    if (input.value && now - lastTyping > TYPING_EVERY_MS) {
      lastTyping = now;
      client.sendFrame({ type: "typing", room });
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value;
    if (!body.trim()) return;
    if (body.length > MAX_BODY) {
      announce(`Messages can be up to ${MAX_BODY} characters.`);
      return;
    }
    const clientId = client.sendMessage(room, body);
    const item = render(
      { room, kind: "text", body, client_id: clientId, sender: me, status: "visible" },
      { own: true, pending: true },
    );
    byClient.set(clientId, item);
    list.append(item);
    input.value = "";
    counter.textContent = "";
    lastTyping = 0;
  });

  olderButton.addEventListener("click", () => {
    if (minSeq === null || minSeq <= 1) return;
    olderButton.disabled = true;
    client.sendFrame({ type: "history", room, before_seq: minSeq, limit: HISTORY_PAGE });
  });

  rulesButton.addEventListener("click", () => {
    if (rules) client.sendFrame({ type: "rules.accept", room, version: rules.version });
  });

  if (sessionButton) {
    sessionButton.addEventListener("click", () => {
      sessionButton.disabled = true;
      client.sendFrame({ type: state && state.session_open ? "session.close" : "session.open", room });
    });
  }
  if (modOnlyBox) {
    modOnlyBox.addEventListener("change", () => {
      client.sendFrame({ type: "room.settings", room, moderator_only: modOnlyBox.checked });
    });
  }

  refreshComposer();
  client.follow(room, null);
  client.start();
  window.addEventListener("pagehide", () => client.stop());
}
