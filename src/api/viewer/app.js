// im-history web viewer: plain JS, no build step. Every piece of data reaches the page
// through textContent / DOM nodes only (never innerHTML), and the CSP forbids inline script.
/* global document, Node, sessionStorage, fetch, setInterval, clearInterval, setTimeout, URL */
'use strict';

(() => {
  const TOKEN_KEY = 'im-history-token';
  const API = '/api/v1';
  const REFRESH_MS = 5000;
  const OPEN = '\u00ab';
  const CLOSE = '\u00bb';

  const $ = (id) => document.getElementById(id);
  let refreshTimer;
  let currentId;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'className') e.className = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
    return e;
  }

  function time(ms) {
    if (typeof ms !== 'number') return '\u2013';
    return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, init) {
    const res = await fetch(API + path, { ...(init || {}), headers: { authorization: 'Bearer ' + token() }, cache: 'no-store' });
    if (res.status === 401) {
      signOut('The token was refused.');
      throw new HttpError(401, 'unauthorized');
    }
    if (!res.ok) {
      let message = res.statusText;
      try {
        message = (await res.json()).error.message;
      } catch {
        // not the error shape
      }
      throw new HttpError(res.status, message);
    }
    return res;
  }

  const getJson = async (path) => (await api(path)).json();

  function showError(e) {
    if (e instanceof HttpError && e.status === 401) return;
    $('app-error').textContent = String(e && e.message ? e.message : e);
  }

  // ---- sign in / out ----

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    clearInterval(refreshTimer);
    $('app').hidden = true;
    $('logout').hidden = true;
    $('who').textContent = '';
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('token').value = '';
    $('token').focus();
  }

  async function start() {
    try {
      const me = await getJson('/me');
      $('who').textContent = me.operator ? 'operator' : me.aor;
    } catch (e) {
      if (e instanceof HttpError && e.status === 401) return;
      $('login-error').textContent = String(e.message || e);
      return;
    }
    $('login').hidden = true;
    $('app').hidden = false;
    $('logout').hidden = false;
    $('login-error').textContent = '';
    await loadHistories();
    await loadSessions();
    clearInterval(refreshTimer);
    refreshTimer = setInterval(() => void loadSessions(), REFRESH_MS);
  }

  // ---- histories ----

  async function loadHistories() {
    try {
      const { histories } = await getJson('/histories?limit=1000');
      const rows = histories.map((h) => {
        const tr = el('tr', { className: 'clickable', 'data-id': h.id, tabIndex: 0 }, el('td', {}, h.name), el('td', {}, h.owner), el('td', {}, h.state), el('td', {}, time(h.createdAt)));
        tr.addEventListener('click', () => void openHistory(h.id));
        tr.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter') void openHistory(h.id);
        });
        return tr;
      });
      $('histories').tBodies[0].replaceChildren(...rows);
      $('histories-empty').hidden = rows.length > 0;
    } catch (e) {
      showError(e);
    }
  }

  async function openHistory(id) {
    try {
      const { history, participants } = await getJson('/histories/' + encodeURIComponent(id));
      const messages = [];
      let after = 0;
      for (;;) {
        const page = await getJson('/histories/' + encodeURIComponent(id) + '/messages?limit=1000&afterSeq=' + after);
        messages.push(...page.messages);
        if (page.nextAfterSeq === null) break;
        after = page.nextAfterSeq;
      }
      currentId = history.id;
      for (const tr of $('histories').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.id === id);
      $('conv-title').textContent = history.name;
      $('conv-meta').textContent = `${history.type} \u00b7 owner ${history.owner} \u00b7 ${history.state} \u00b7 started ${time(history.startedAt)} \u00b7 ended ${time(history.endedAt)}`;
      $('participants').tBodies[0].replaceChildren(
        ...participants.map((p) =>
          el(
            'tr',
            { className: 'participant' },
            el('td', {}, p.displayName ? `${p.displayName} <${p.user}>` : p.user),
            el('td', { className: 'joined' }, time(p.joinedAt)),
            el('td', { className: 'left' }, time(p.leftAt)),
            el('td', {}, p.status || ''),
          ),
        ),
      );
      $('messages').replaceChildren(
        ...messages.map((m) =>
          el(
            'li',
            { className: 'message', 'data-seq': String(m.seq) },
            el('span', { className: 'time' }, time(m.at)),
            el('span', { className: 'sender' }, m.sender),
            typeof m.text === 'string' ? el('span', { className: 'text' }, m.text) : el('span', { className: 'binary' }, `[${m.contentType}, ${m.size} bytes]`),
          ),
        ),
      );
      $('conversation').hidden = false;
      $('app-error').textContent = '';
    } catch (e) {
      showError(e);
    }
  }

  async function download(format) {
    if (currentId === undefined) return;
    try {
      const res = await api('/histories/' + encodeURIComponent(currentId) + '/export?format=' + format);
      const cd = res.headers.get('content-disposition') || '';
      const m = /filename="([^"]+)"/.exec(cd);
      const url = URL.createObjectURL(await res.blob());
      const a = el('a', { href: url, download: m ? m[1] : 'history.' + (format === 'json' ? 'json' : 'txt') });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      showError(e);
    }
  }

  // ---- search ----

  /** A snippet with its «matches» as <mark> nodes (text only). */
  function snippetNodes(snippet) {
    const out = [];
    let rest = snippet;
    for (;;) {
      const o = rest.indexOf(OPEN);
      const c = o < 0 ? -1 : rest.indexOf(CLOSE, o + 1);
      if (o < 0 || c < 0) {
        out.push(document.createTextNode(rest));
        return out;
      }
      out.push(document.createTextNode(rest.slice(0, o)), el('mark', {}, rest.slice(o + 1, c)));
      rest = rest.slice(c + 1);
    }
  }

  async function search(q) {
    const list = $('search-results');
    if (q.trim() === '') return clearSearch();
    try {
      const { hits } = await getJson('/search?limit=100&q=' + encodeURIComponent(q));
      list.replaceChildren(
        ...(hits.length === 0
          ? [el('li', { className: 'muted' }, 'No message matches.')]
          : hits.map((h) => {
              const li = el('li', { className: 'hit', 'data-id': h.historyId }, el('strong', {}, h.historyName || h.historyId), ' \u00b7 ', el('span', { className: 'muted' }, `${time(h.at)} ${h.sender}: `), ...snippetNodes(h.snippet));
              li.addEventListener('click', () => void openHistory(h.historyId));
              return li;
            })),
      );
      list.hidden = false;
      $('search-clear').hidden = false;
    } catch (e) {
      showError(e);
    }
  }

  function clearSearch() {
    $('search').value = '';
    $('search-results').replaceChildren();
    $('search-results').hidden = true;
    $('search-clear').hidden = true;
  }

  // ---- live sessions ----

  async function loadSessions() {
    try {
      const { sessions } = await getJson('/sessions');
      $('sessions').replaceChildren(
        ...sessions.map((s) => {
          const li = el('li', { className: 'session', 'data-id': s.historyId }, el('strong', {}, s.name), ` \u00b7 ${s.owner} \u00b7 ${s.state} \u00b7 since ${time(s.startedAt)}`);
          if (Array.isArray(s.participants)) li.append(` \u00b7 ${s.participants.length} present`);
          li.addEventListener('click', () => void openHistory(s.historyId));
          return li;
        }),
      );
      $('sessions-empty').hidden = sessions.length > 0;
    } catch (e) {
      showError(e);
    }
  }

  // ---- wiring ----

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      if (t === '') return;
      sessionStorage.setItem(TOKEN_KEY, t);
      void start();
    });
    $('logout').addEventListener('click', () => signOut(''));
    $('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void search($('search').value);
    });
    $('search-clear').addEventListener('click', clearSearch);
    $('export-text').addEventListener('click', () => void download('text'));
    $('export-json').addEventListener('click', () => void download('json'));
    if (token()) void start();
    else signOut('');
  });
})();
