/**
 * The web viewer end to end in headless Debian Chromium (playwright-core, no downloaded
 * browser): token prompt, histories list, conversation (participants and messages in
 * order, markup shown as text), search, visibility for a user token, live sessions.
 * Screenshots go to test-artifacts/viewer/. Skipped when /usr/bin/chromium is missing,
 * unless CI is set (then a missing browser is a failure).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { buildApi } from '../../src/api/server.js';
import { MemoryStore } from '../../src/store/memory.js';
import { sampleStore, T0, TOKENS, TOKEN_TABLE, WEEKLY_MESSAGES, type Sample } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = 'test-artifacts/viewer';
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const skip = !haveChromium && !inCi ? `${CHROMIUM} is missing (apt-get install -y chromium); set CI to make this a failure` : false;

describe('web viewer in headless Chromium', { skip }, () => {
  let s: Sample;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;

  before(async () => {
    assert.ok(haveChromium, `${CHROMIUM} is missing: install Debian's chromium package`);
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await sampleStore();
    app = buildApi({
      store: s.store,
      tokens: TOKEN_TABLE,
      live: () => [{ historyId: s.weekly.id, name: s.weekly.name, owner: s.weekly.owner, state: 'active', startedAt: s.weekly.createdAt + 1000 }],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  async function signIn(token: string, at = base): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    (page as Page & { jsErrors?: string[] }).jsErrors = errors;
    await page.goto(at + '/');
    await page.locator('#token').waitFor({ state: 'visible' });
    await page.fill('#token', token);
    await page.click('#login-button');
    await page.locator('#app').waitFor({ state: 'visible' });
    return page;
  }

  const storedToken = (p: Page): Promise<string | null> => p.evaluate<string | null>("sessionStorage.getItem('im-history-token')");
  const jsErrors = (p: Page): string[] => (p as Page & { jsErrors?: string[] }).jsErrors ?? [];

  test('a wrong token is refused and the prompt stays', async () => {
    const page = await browser.newPage();
    await page.goto(base + '/');
    await page.fill('#token', 'not-a-valid-token-at-all');
    await page.click('#login-button');
    await page.locator('#login-error').filter({ hasText: 'refused' }).waitFor();
    assert.equal(await page.isVisible('#app'), false);
    assert.equal(await storedToken(page), null);
    await page.screenshot({ path: `${ARTIFACTS}/01-refused.png` });
    await page.close();
  });

  test('operator: list, conversation in order, search, live sessions', async () => {
    const page = await signIn(TOKENS.operator);
    const rows = page.locator('#histories tbody tr');
    await rows.first().waitFor();
    assert.deepEqual(await rows.locator('td:first-child').allTextContents(), [s.weekly.name, 'dave-private']);
    assert.equal(await storedToken(page), TOKENS.operator);
    await page.screenshot({ path: `${ARTIFACTS}/02-list.png`, fullPage: true });

    await rows.filter({ hasText: s.weekly.name }).click();
    await page.locator('#conversation').waitFor({ state: 'visible' });
    assert.equal(await page.textContent('#conv-title'), s.weekly.name);
    const participants = await page.locator('#participants tbody tr td:first-child').allTextContents();
    assert.deepEqual(participants, ['Alice <sip:alice@example.net>', 'Bob <sip:bob@example.net>', 'sip:carol@example.net']);
    const joined = await page.locator('#participants tbody tr td.joined').allTextContents();
    assert.deepEqual(joined, ['2024-05-06 09:00:01Z', '2024-05-06 09:00:02Z', '2024-05-06 09:00:03Z']);
    const left = await page.locator('#participants tbody tr td.left').allTextContents();
    assert.equal(left[2], '2024-05-06 09:01:00Z');

    const messages = page.locator('#messages li');
    assert.deepEqual(await messages.locator('.text').allTextContents(), WEEKLY_MESSAGES.map((m) => m.text));
    assert.deepEqual(await messages.locator('.sender').allTextContents(), [...WEEKLY_MESSAGES.map((m) => m.sender), 'sip:bob@example.net']);
    assert.deepEqual(await messages.locator('.time').allTextContents(), [
      '2024-05-06 09:00:11Z',
      '2024-05-06 09:00:12Z',
      '2024-05-06 09:00:13Z',
      '2024-05-06 09:00:14Z',
      '2024-05-06 09:00:15Z',
    ]);
    assert.equal(await messages.nth(4).locator('.binary').textContent(), '[image/png, 7 bytes]');
    // The markup in a message is text, not an element.
    assert.equal(await page.locator('#messages script').count(), 0);
    await page.screenshot({ path: `${ARTIFACTS}/03-conversation.png`, fullPage: true });

    await page.fill('#search', 'secret');
    await page.click('#search-form button[type=submit]');
    const hits = page.locator('#search-results li.hit');
    await hits.first().waitFor();
    assert.equal(await hits.count(), 1);
    assert.equal(await hits.first().locator('mark').textContent(), 'secret');
    await page.screenshot({ path: `${ARTIFACTS}/04-search.png`, fullPage: true });
    await hits.first().click();
    await page.locator('#conv-title', { hasText: 'dave-private' }).waitFor();
    assert.deepEqual(await page.locator('#messages li .text').allTextContents(), ['the secret release plan']);

    const sessions = page.locator('#sessions li');
    await sessions.first().waitFor();
    assert.equal(await sessions.count(), 1);
    assert.match((await sessions.first().textContent()) ?? '', /weekly-sync/);
    assert.deepEqual(jsErrors(page), []);
    await page.close();
  });

  test('issue 6: markup in names, display names, senders and message bodies renders as text; nothing runs; only own histories', async () => {
    const XSS = (n: number) => `<img src=x onerror="window.__xss=${n}"><script>window.__xss=${n}</script><b>bold</b>`;
    const store = new MemoryStore();
    const mine = await store.createHistory({
      name: `mine ${XSS(1)}`, type: 'session', owner: 'sip:alice@example.net', conferenceFactory: 'sip:f@x', imUsers: [],
      referCallId: 'x1', clientAllow: [], clientContact: undefined, referHeaders: [], createdAt: T0,
    });
    await store.addRosterEvent(mine.id, { at: T0 + 1, kind: 'joined', user: 'sip:alice@example.net', displayName: XSS(2) });
    const body = `marker ${XSS(3)} \u00ab<svg onload="window.__xss=4">\u00bb end`;
    await store.addMessage(mine.id, { at: T0 + 2, sender: `sip:${encodeURIComponent('<i>x</i>')}@example.net`, recipients: [], contentType: 'text/plain', body: Buffer.from(body) });
    await store.addMessage(mine.id, { at: T0 + 3, sender: 'sip:alice@example.net', recipients: [], contentType: 'text/html', body: Buffer.from(XSS(5)) });
    const theirs = await store.createHistory({
      name: 'dave only', type: 'session', owner: 'sip:dave@example.net', conferenceFactory: 'sip:f@x', imUsers: [],
      referCallId: 'x2', clientAllow: [], clientContact: undefined, referHeaders: [], createdAt: T0,
    });
    await store.addMessage(theirs.id, { at: T0 + 4, sender: 'sip:dave@example.net', recipients: [], contentType: 'text/plain', body: Buffer.from('marker for dave only') });
    const hostile = buildApi({ store, tokens: TOKEN_TABLE });
    const notFound: string[] = [];
    hostile.addHook('onResponse', async (req, reply) => {
      if (reply.statusCode === 404) notFound.push(req.url);
    });
    await hostile.listen({ host: '127.0.0.1', port: 0 });
    try {
      const page = await signIn(TOKENS.alice, `http://127.0.0.1:${(hostile.server.address() as AddressInfo).port}`);
      const rows = page.locator('#histories tbody tr');
      await rows.first().waitFor();
      assert.deepEqual(await rows.locator('td:first-child').allTextContents(), [mine.name]);
      await rows.first().click();
      await page.locator('#messages li').nth(1).waitFor();
      assert.equal(await page.textContent('#conv-title'), mine.name);
      assert.deepEqual(await page.locator('#participants tbody tr td:first-child').allTextContents(), [`${XSS(2)} <sip:alice@example.net>`]);
      assert.deepEqual(await page.locator('#messages li .text').allTextContents(), [body, XSS(5)]);
      assert.equal(await page.locator('#messages li .sender').first().textContent(), `sip:${encodeURIComponent('<i>x</i>')}@example.net`);

      await page.fill('#search', 'marker');
      await page.click('#search-form button[type=submit]');
      const hits = page.locator('#search-results li.hit');
      await hits.first().waitFor();
      assert.deepEqual(await hits.evaluateAll((els) => els.map((e) => e.getAttribute('data-id'))), [mine.id]);
      assert.match((await hits.first().textContent()) ?? '', /<img src=x onerror=/);

      // Not one element was made from the data, and no handler or script ran.
      for (const tag of ['img', 'script', 'svg', 'b', 'i']) assert.equal(await page.locator(`#app ${tag}`).count(), 0, tag);
      assert.equal(await page.evaluate('window.__xss'), undefined);
      // The one 404 is the browser's own favicon request to this new origin (Chromium reports
      // it only as a console error without the URL; the server says which it was).
      assert.deepEqual([...new Set(notFound)], notFound.length === 0 ? [] : ['/favicon.ico']);
      assert.deepEqual(jsErrors(page).filter((e) => !(notFound.length > 0 && /^Failed to load resource: .* 404/.test(e))), []);
      await page.screenshot({ path: `${ARTIFACTS}/06-markup-as-text.png`, fullPage: true });
      await page.close();
    } finally {
      await hostile.close();
    }
  });

  test('a user token does not see another user\u2019s history, in the list or in search', async () => {
    const page = await signIn(TOKENS.alice);
    const rows = page.locator('#histories tbody tr');
    await rows.first().waitFor();
    assert.deepEqual(await rows.locator('td:first-child').allTextContents(), [s.weekly.name]);
    assert.equal(await page.textContent('#who'), 'sip:alice@example.net');

    await page.fill('#search', 'secret');
    await page.click('#search-form button[type=submit]');
    await page.locator('#search-results li').first().waitFor();
    assert.equal(await page.locator('#search-results li.hit').count(), 0);
    assert.equal(await page.textContent('#search-results'), 'No message matches.');

    await page.fill('#search', 'release');
    await page.click('#search-form button[type=submit]');
    const hits = page.locator('#search-results li.hit');
    await hits.first().waitFor();
    assert.deepEqual(await hits.evaluateAll((els) => els.map((e) => e.getAttribute('data-id'))), [s.weekly.id]);
    await page.screenshot({ path: `${ARTIFACTS}/05-user-search.png`, fullPage: true });

    // Forgetting the token returns to the prompt.
    await page.click('#logout');
    await page.locator('#login').waitFor({ state: 'visible' });
    assert.equal(await storedToken(page), null);
    assert.deepEqual(jsErrors(page), []);
    await page.close();
  });
});
