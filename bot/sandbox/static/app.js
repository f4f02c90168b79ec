// branchbot sandbox page: pick a person, show their private chat and branch group, talk to the real bot.
"use strict";

const state = {
  people: [],
  me: null,          // the chosen person (from api/people)
  chats: new Map(),  // chat id -> {chat, pane, list}
  events: null,      // the EventSource for the chosen person
  advancing: false,  // this tab is moving the clock
};

const $ = (selector, root = document) => root.querySelector(selector);

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const payload = await response.json().catch(() => ({}));
  if (!response.ok || payload.ok === false) {
    throw new Error(payload.error || `请求失败（HTTP ${response.status}）`);
  }
  return payload;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---- people ---------------------------------------------------------------------------------

function chosenUserId() {
  const match = /(?:^|[#&])u=(\d+)/.exec(location.hash);
  return match ? Number(match[1]) : null;
}

async function loadPeople() {
  const { people } = await api("api/people");
  state.people = people;
  renderPeople();
  const wanted = chosenUserId();
  if (wanted !== null) {
    const person = people.find((p) => p.user_id === wanted);
    if (person && (!state.me || state.me.user_id !== person.user_id || state.me.bound !== person.bound)) {
      await choose(person);
    }
  }
}

function renderPeople() {
  const filter = $("#people-filter").value.trim();
  const list = $("#people-list");
  list.replaceChildren();
  if (state.people.length === 0) {
    list.append(el("li", { className: "hint" },
      "沙盒数据库中还没有名册。请先用 branchbot roster import 导入名册，或不带 --no-demo 启动以载入演示名册。"));
    return;
  }
  let lastOrg = null;
  for (const person of state.people) {
    const haystack = `${person.name} ${person.member_no} ${person.title} ${person.org_name}`;
    if (filter && !haystack.includes(filter)) continue;
    if (person.org_name !== lastOrg) {
      list.append(el("li", { className: "org-heading" }, person.org_name));
      lastOrg = person.org_name;
    }
    const button = el(
      "button",
      {
        type: "button",
        className: state.me && state.me.user_id === person.user_id ? "current" : "",
        dataset: { userId: person.user_id, memberNo: person.member_no, testid: "person" },
        onclick: () => { location.hash = `u=${person.user_id}`; },
      },
      person.name,
      person.title ? el("span", { className: "badge" }, person.title) : null,
      person.bound ? null : el("span", { className: "badge unbound" }, "未绑定"),
    );
    list.append(el("li", {}, button));
  }
}

async function choose(person) {
  state.me = person;
  document.title = `${person.name} — branchbot 沙盒`;
  $("#who").textContent = `我是 ${person.name}（${person.member_no}，${person.org_name}${person.title ? "，" + person.title : ""}）`;
  $("#bind-banner").hidden = person.bound;
  renderPeople();
  await loadChats();
  listen();
}

// ---- chats and messages ---------------------------------------------------------------------

async function loadChats() {
  const { chats } = await api(`api/chats?user=${state.me.user_id}`);
  const panes = $("#chat-panes");
  panes.replaceChildren();
  state.chats.clear();
  for (const chat of chats) {
    const pane = $("#chat-pane-template").content.firstElementChild.cloneNode(true);
    pane.dataset.chatId = chat.id;
    pane.dataset.chatType = chat.type;
    $(".chat-title", pane).textContent = chat.title;
    const list = $(".messages", pane);
    const composer = $(".composer", pane);
    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      send(chat.id, event.target.elements.text);
    });
    composer.elements.file.addEventListener("change", (event) => {
      upload(chat.id, event.target, composer.elements.text);
    });
    state.chats.set(chat.id, { chat, pane, list });
    panes.append(pane);
    for (const message of chat.messages) upsertMessage(message, false);
  }
  // A chat opens at its newest message, as in Telegram: scroll once every pane has its final width.
  requestAnimationFrame(() => {
    for (const { list } of state.chats.values()) list.scrollTop = list.scrollHeight;
  });
}

async function send(chatId, input) {
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  try {
    await api("api/send", { user_id: state.me.user_id, chat_id: chatId, text });
  } catch (error) {
    showError(chatId, error);
    input.value = text;
  }
}

// A photo or document; the text box, if filled, becomes its caption (as in Telegram's clients).
async function upload(chatId, fileInput, captionInput) {
  const file = fileInput.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("user_id", state.me.user_id);
  form.append("chat_id", chatId);
  form.append("caption", captionInput.value.trim());
  form.append("file", file, file.name);
  try {
    const response = await fetch("api/upload", { method: "POST", body: form });
    const payload = await response.json().catch(() => ({}));
    if (!response.ok || payload.ok === false) throw new Error(payload.error || `上传失败（HTTP ${response.status}）`);
    captionInput.value = "";
  } catch (error) {
    showError(chatId, error);
  } finally {
    fileInput.value = "";
  }
}

async function press(chatId, messageId, data, button) {
  button.disabled = true;
  try {
    await api("api/press", { user_id: state.me.user_id, chat_id: chatId, message_id: messageId, data });
  } catch (error) {
    showError(chatId, error);
  } finally {
    button.disabled = false;
  }
}

function showError(chatId, error) {
  const entry = state.chats.get(chatId);
  if (!entry) { alert(error.message); return; }
  const toast = el("div", { className: "toast", role: "alert" }, error.message);
  $(".composer", entry.pane).before(toast);
  setTimeout(() => toast.remove(), 6000);
}

// What a Telegram client shows after a button press: a short toast, or a dialog when the bot asks for one.
// The dialog is drawn in the page (not window.alert) so one tab never blocks the others' live updates.
function showNotice(notice) {
  if (!state.me || notice.user_id !== state.me.user_id || !notice.text) return;
  const entry = state.chats.get(notice.chat_id) || state.chats.values().next().value;
  if (!entry) return;
  const toast = el(
    "div",
    { className: `toast notice${notice.show_alert ? " alert" : ""}`, role: notice.show_alert ? "alert" : "status", dataset: { testid: "notice" } },
    notice.text,
  );
  if (notice.show_alert) {
    toast.append(el("button", { type: "button", onclick: () => toast.remove() }, "好"));
  } else {
    setTimeout(() => toast.remove(), 5000);
  }
  $(".composer", entry.pane).before(toast);
}

// Telegram entity offsets count UTF-16 code units, which is exactly how JavaScript strings index.
function renderEntities(text, entities) {
  const fragment = document.createDocumentFragment();
  if (!entities || entities.length === 0) { fragment.append(text); return fragment; }
  const sorted = [...entities].sort((a, b) => a.offset - b.offset);
  let cursor = 0;
  for (const entity of sorted) {
    if (entity.offset < cursor) continue; // nested entities: keep the outer one only
    fragment.append(text.slice(cursor, entity.offset));
    const inner = text.slice(entity.offset, entity.offset + entity.length);
    const tags = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre", spoiler: "span" };
    let node;
    if (entity.type === "text_link") node = el("a", { href: entity.url, target: "_blank", rel: "noopener" }, inner);
    else if (entity.type === "url") node = el("a", { href: inner, target: "_blank", rel: "noopener" }, inner);
    else if (tags[entity.type]) node = el(tags[entity.type], {}, inner);
    else node = document.createTextNode(inner);
    fragment.append(node);
    cursor = entity.offset + entity.length;
  }
  fragment.append(text.slice(cursor));
  return fragment;
}

function renderKeyboard(message) {
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  if (rows.length === 0) return null;
  const keyboard = el("div", { className: "keyboard" });
  for (const row of rows) {
    const line = el("div", { className: "row" });
    for (const key of row) {
      if (key.url) {
        line.append(el("a", { href: key.url, target: "_blank", rel: "noopener", dataset: { testid: "url-button" } }, key.text));
      } else {
        const button = el("button", { type: "button", dataset: { testid: "inline-button", callbackData: key.callback_data || "" } }, key.text);
        button.addEventListener("click", () => press(message.chat_id, message.message_id, key.callback_data, button));
        line.append(button);
      }
    }
    keyboard.append(line);
  }
  return keyboard;
}

function renderMessage(message) {
  const mine = state.me && message.from && message.from.id === state.me.user_id;
  const item = el("li", {
    className: `message${mine ? " mine" : ""}`,
    dataset: { messageId: message.message_id, testid: "message" },
  });
  if (!mine && message.from) item.append(el("div", { className: "sender" }, message.from.name));
  if (message.photo_url) item.append(el("img", { src: message.photo_url, alt: message.caption || "图片" }));
  if (message.document) {
    item.append(el("a", { className: "document", href: message.document.url, download: message.document.name }, `📎 ${message.document.name}`));
  }
  const body = message.text ?? message.caption;
  const entities = message.text != null ? message.entities : message.caption_entities;
  if (body) item.append(el("div", { className: "text" }, renderEntities(body, entities)));
  const keyboard = renderKeyboard(message);
  if (keyboard) item.append(keyboard);
  item.append(el("div", { className: "meta" }, `${message.time_label}${message.edited ? " · 已编辑" : ""}`));
  return item;
}

function upsertMessage(message, flash = true) {
  const entry = state.chats.get(message.chat_id);
  if (!entry) return;
  const fresh = renderMessage(message);
  const existing = entry.list.querySelector(`[data-message-id="${message.message_id}"]`);
  const atBottom = entry.list.scrollHeight - entry.list.scrollTop - entry.list.clientHeight < 40;
  if (existing) existing.replaceWith(fresh);
  else entry.list.append(fresh);
  if (flash) fresh.classList.add("flash");
  if (atBottom || !existing) entry.list.scrollTop = entry.list.scrollHeight;
}

function removeMessage(chatId, messageId) {
  const entry = state.chats.get(chatId);
  const existing = entry && entry.list.querySelector(`[data-message-id="${messageId}"]`);
  if (existing) existing.remove();
}

// ---- live updates ---------------------------------------------------------------------------

function listen() {
  if (state.events) state.events.close();
  const source = new EventSource(`api/events?user=${state.me.user_id}`);
  state.events = source;
  source.onmessage = (event) => {
    const change = JSON.parse(event.data);
    if (change.type === "message" || change.type === "edit") upsertMessage(change.message);
    else if (change.type === "delete") removeMessage(change.chat_id, change.message_id);
    else if (change.type === "clock") {
      showClock(change);
      if (!state.advancing) $("#clock-status").textContent = "";  // another tab moved the clock
    }
    else if (change.type === "notice") showNotice(change);
    else if (change.type === "people") loadPeople();
    else if (change.type === "chats") loadChats();
  };
  let opened = false;
  source.onopen = () => {
    document.body.dataset.live = "1";
    // After a dropped connection (sandbox restarted, laptop slept) reload what may have been missed.
    if (opened) loadChats().then(refreshClock).catch(() => {});
    opened = true;
  };
  source.onerror = () => { document.body.dataset.live = "0"; };
}

// ---- the clock ------------------------------------------------------------------------------

function showClock(clock) {
  const node = $("#clock-now");
  node.textContent = clock.label;
  node.setAttribute("datetime", clock.now);
}

async function refreshClock() {
  try { showClock(await api("api/clock")); } catch (_) { /* the next tick tries again */ }
}

async function advance(target, button) {
  const status = $("#clock-status");
  state.advancing = true;
  for (const b of document.querySelectorAll("[data-advance]")) b.disabled = true;
  status.textContent = "时间推进中…";
  try {
    const result = await api("api/clock/advance", { to: target });
    showClock(result);
    status.textContent = result.description || "";
  } catch (error) {
    status.textContent = error.message;
  } finally {
    state.advancing = false;
    for (const b of document.querySelectorAll("[data-advance]")) b.disabled = false;
  }
}

async function bind() {
  const button = $("#bind-button");
  button.disabled = true;
  try {
    await api("api/bind", { user_id: state.me.user_id });
  } catch (error) {
    alert(error.message);
  } finally {
    button.disabled = false;
  }
}

// ---- start ----------------------------------------------------------------------------------

window.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () => advance(button.dataset.advance, button));
  }
  $("#bind-button").addEventListener("click", bind);
  $("#people-filter").addEventListener("input", renderPeople);
  window.addEventListener("hashchange", loadPeople);
  loadPeople().catch((error) => { $("#who").textContent = `无法载入名单：${error.message}`; });
  refreshClock();
  setInterval(refreshClock, 15000);
});
