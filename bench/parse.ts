/**
 * bench/parse: messages per second and bytes allocated per message of our SIP parser, side
 * by side in one run with the parsers of npm `sip` (kirm/sip.js) and `jssip`.
 *
 *   npm run build && node --expose-gc dist/bench/parse.js [options]
 *
 * (without --expose-gc the script re-executes itself with it). Options, also as env vars:
 *   --time-ms=N     BENCH_TIME_MS    timed run per cell per round (default 300)
 *   --rounds=N      BENCH_ROUNDS     rounds; the table shows the median (default 5)
 *   --warmup-ms=N   BENCH_WARMUP_MS  untimed run per cell before round 1 (default 250)
 *   --libs=a,b      im-history,sip,jssip
 *   --messages=a,b  refer,invite,notify
 *   --modes=a,b     framing,full
 *   --no-alloc      skip the allocation pass
 *
 * Input for every library is the same Buffer, as a UDP datagram arrives; libraries that take
 * a string convert inside the timed call. Two modes:
 *   framing  each library's parse call only (ours parses start line + header lines; sip and
 *            jssip also parse several header values eagerly, see bench/lib/foreign.ts);
 *   full     the parse call plus reading what a UAS reads: every Via, From/To (+tags),
 *            Call-ID, CSeq, Contact, Content-Type, Max-Forwards; REFER adds Refer-To,
 *            Accept-Contact and Event, NOTIFY adds Event and Subscription-State. Each library
 *            uses its own structured parser where it has one; where it has none the bench
 *            does the cheapest string extraction an application would write (naive* below).
 * Every cell is checked once before timing (Call-ID, CSeq, body length, and in full mode
 * every value read), so no cell measures a parse that silently failed.
 *
 * Fixtures: bench/fixtures/{refer,invite,notify}.sip (CRLF, Content-Length checked at load);
 * refer-cid.sip is the RFC 5368 `Refer-To: <cid:...>` form of the REFER, only probed
 * (jssip cannot parse it, so it cannot be a timed cell for all three).
 * Timing runs in this process; bytes per message are measured in a child process started
 * with a 64 MB young generation (see bench/lib/measure.ts for the method).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseDatagram } from '../src/sip/message/parse.js';
import type { SipMessage } from '../src/sip/message/message.js';
import { isSipUri, type SipUri, type Uri } from '../src/sip/message/headers/uri.js';
import { equalsIgnoreCase } from '../src/sip/message/headers/scan.js';
import { mediaType } from '../src/sip/message/headers/content-type.js';
import { parseReferTo } from '../src/sip/message/headers/refer-to.js';
import { parseAcceptContact, type AcValue } from '../src/sip/message/headers/accept-contact.js';
import { parseEvent } from '../src/sip/message/headers/event.js';
import { parseSubscriptionState } from '../src/sip/message/headers/subscription-state.js';

import {
  loadJsSipParser, loadSipJs, jssipVersion, sipJsVersion,
  type JsSipIncoming, type JsSipNameAddr, type JsSipSubscriptionState, type JsSipVia, type SipJsMessage, type SipJsUri,
} from './lib/foreign.js';
import { bytesPerCall, forceGc, median, opsPerSecond, type AllocSample, type Op } from './lib/measure.js';
import { describeMachine, fmtInt, markdownTable } from './lib/report.js';

const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------- options

const LIBS = ['im-history', 'sip', 'jssip'] as const;
const KINDS = ['refer', 'invite', 'notify'] as const;
const MODES = ['framing', 'full'] as const;
type Lib = (typeof LIBS)[number];
type Kind = (typeof KINDS)[number];
type Mode = (typeof MODES)[number];

interface Options {
  timeMs: number;
  rounds: number;
  warmupMs: number;
  libs: Lib[];
  kinds: Kind[];
  modes: Mode[];
  alloc: boolean;
  allocChild: boolean;
}

function argValue(name: string, env: string): string | undefined {
  const prefix = `--${name}=`;
  const a = process.argv.slice(2).find((x) => x.startsWith(prefix));
  return a !== undefined ? a.slice(prefix.length) : process.env[env];
}

function numberOption(name: string, env: string, dflt: number): number {
  const v = argValue(name, env);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
  return n;
}

function listOption<T extends string>(name: string, env: string, all: readonly T[]): T[] {
  const v = argValue(name, env);
  if (v === undefined) return [...all];
  const picked = v.split(',').map((s) => s.trim());
  for (const p of picked) if (!(all as readonly string[]).includes(p)) throw new Error(`--${name}: unknown ${p}`);
  return all.filter((x) => picked.includes(x));
}

function readOptions(): Options {
  return {
    timeMs: numberOption('time-ms', 'BENCH_TIME_MS', 300),
    rounds: Math.round(numberOption('rounds', 'BENCH_ROUNDS', 5)),
    warmupMs: numberOption('warmup-ms', 'BENCH_WARMUP_MS', 250),
    libs: listOption('libs', 'BENCH_LIBS', LIBS),
    kinds: listOption('messages', 'BENCH_MESSAGES', KINDS),
    modes: listOption('modes', 'BENCH_MODES', MODES),
    alloc: !process.argv.includes('--no-alloc'),
    allocChild: process.argv.includes('--alloc-child'),
  };
}

// ---------------------------------------------------------------- fixtures

function fixturesDir(): string {
  // dist/bench/parse.js (or any <outDir>/bench/parse.js) -> <repo>/bench/fixtures
  return join(dirname(SELF), '..', '..', 'bench', 'fixtures');
}

function loadFixture(name: string): Buffer {
  const buf = readFileSync(join(fixturesDir(), `${name}.sip`));
  // Guard the fixture itself: CRLF only, and a Content-Length matching the body.
  const text = buf.toString('latin1');
  if (/[^\r]\n/.test(text)) throw new Error(`${name}.sip: bare LF line end`);
  const headEnd = text.indexOf('\r\n\r\n');
  const cl = /\r\nContent-Length:\s*(\d+)\r\n/i.exec(text.slice(0, headEnd + 2));
  if (headEnd < 0 || cl === null || Number(cl[1]) !== buf.length - headEnd - 4) {
    throw new Error(`${name}.sip: Content-Length does not match the body`);
  }
  return buf;
}

// ---------------------------------------------------------------- what a UAS reads

/** The values a UAS reads off a request; every library fills the same record. */
interface UasRead {
  callId: string;
  cseq: number;
  method: string;
  vias: number;
  topBranch: string | undefined;
  lastViaHost: string;
  fromUser: string | undefined;
  fromHost: string;
  fromTag: string | undefined;
  toUser: string | undefined;
  toHost: string;
  toTag: string | undefined;
  contactHost: string;
  contactPort: number | undefined;
  contentType: string | undefined;
  maxForwards: number;
  referToUser: string | undefined;
  referToHost: string | undefined;
  acceptContactIm: boolean | undefined;
  event: string | undefined;
  subState: string | undefined;
  subExpires: number | undefined;
}

function newUasRead(): UasRead {
  return {
    callId: '', cseq: -1, method: '', vias: 0, topBranch: undefined, lastViaHost: '',
    fromUser: undefined, fromHost: '', fromTag: undefined, toUser: undefined, toHost: '', toTag: undefined,
    contactHost: '', contactPort: undefined, contentType: undefined, maxForwards: -1,
    referToUser: undefined, referToHost: undefined, acceptContactIm: undefined,
    event: undefined, subState: undefined, subExpires: undefined,
  };
}

const EXPECTED: Record<Kind, UasRead> = {
  refer: {
    callId: '8c2f6e1a-0b4d-4f7e-9a55-3e1c2d7b9f10@198.51.100.23', cseq: 31862, method: 'REFER',
    vias: 2, topBranch: 'z9hG4bK7d3a1f84.1', lastViaHost: '198.51.100.23',
    fromUser: 'alice', fromHost: 'example.net', fromTag: 'a73kszlfl',
    toUser: 'history', toHost: 'example.net', toTag: undefined,
    contactHost: '198.51.100.23', contactPort: 5060, contentType: 'application/resource-lists+xml', maxForwards: 69,
    referToUser: 'conf-factory', referToHost: 'im.example.net', acceptContactIm: true,
    event: undefined, subState: undefined, subExpires: undefined,
  },
  invite: {
    callId: '3848276298220188511@198.51.100.23', cseq: 1, method: 'INVITE',
    vias: 2, topBranch: 'z9hG4bK2d4790a1.1', lastViaHost: '198.51.100.23',
    fromUser: 'alice', fromHost: 'example.net', fromTag: '9fxced76sl',
    toUser: 'conf-factory', toHost: 'im.example.net', toTag: undefined,
    contactHost: '198.51.100.23', contactPort: 5060, contentType: 'multipart/mixed', maxForwards: 69,
    referToUser: undefined, referToHost: undefined, acceptContactIm: undefined,
    event: undefined, subState: undefined, subExpires: undefined,
  },
  notify: {
    callId: '5f1d2c3b-history-subscribe@192.0.2.50', cseq: 2, method: 'NOTIFY',
    vias: 2, topBranch: 'z9hG4bK4b43c2ff8.1', lastViaHost: 'conf.im.example.net',
    fromUser: 'conf-8f3a2b', fromHost: 'im.example.net', fromTag: 'zxcvb77',
    toUser: 'history', toHost: 'example.net', toTag: 'hf-42a9c1',
    contactHost: 'im.example.net', contactPort: undefined, contentType: 'application/conference-info+xml', maxForwards: 69,
    referToUser: undefined, referToHost: undefined, acceptContactIm: undefined,
    event: 'conference', subState: 'active', subExpires: 3600,
  },
};

// Naive extraction, for headers a library leaves as strings: the least an application
// would write (no validation), so it flatters the library that needs it.

function naiveMediaType(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const semi = raw.indexOf(';');
  return (semi < 0 ? raw : raw.slice(0, semi)).trim().toLowerCase();
}

function naiveEvent(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const semi = raw.indexOf(';');
  return (semi < 0 ? raw : raw.slice(0, semi)).trim();
}

function naiveSubscriptionState(raw: string | undefined, o: UasRead): void {
  if (raw === undefined) return;
  const parts = raw.split(';');
  o.subState = parts[0]!.trim().toLowerCase();
  o.subExpires = undefined;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!.trim();
    if (p.toLowerCase().startsWith('expires=')) o.subExpires = Number(p.slice(8));
  }
}

/** Does the Accept-Contact ask for the OMA IM feature tag, explicitly? */
function naiveAcceptContactIm(raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  for (const ac of raw.split(',')) {
    const params = ac.split(';').map((p) => p.trim().toLowerCase());
    if (params.includes('+g.oma.sip-im') && params.includes('explicit')) return true;
  }
  return false;
}

function need<T>(v: T | undefined | null, what: string): T {
  if (v === undefined || v === null) throw new Error(`missing ${what}`);
  return v;
}

// ---------------------------------------------------------------- contenders

interface Framed {
  callId: string;
  cseq: number;
  method: string;
  bodyLength: number;
}

interface Contender<T> {
  name: Lib;
  /** The library's parse call, from the datagram Buffer (framing mode, timed). */
  parse(buf: Buffer): T;
  /** Untimed: what the parse produced, for the sanity check. */
  framed(m: T): Framed;
  /** Parse and read what a UAS reads into `o` (full mode, timed); returns the parsed message. */
  full(buf: Buffer, o: UasRead, kind: Kind): T;
}

// --- ours

function sipUri(u: Uri): SipUri {
  if (!isSipUri(u)) throw new Error('expected a SIP URI');
  return u;
}

const ours: Contender<SipMessage> = {
  name: 'im-history',
  parse: (buf) => parseDatagram(buf),
  framed: (m) => ({ callId: m.callId(), cseq: m.cseq().seq, method: m.cseq().method, bodyLength: m.body.length }),
  full(buf, o, kind) {
    const m = parseDatagram(buf);
    o.callId = m.callId();
    const cseq = m.cseq();
    o.cseq = cseq.seq;
    o.method = cseq.method;
    const vias = m.via();
    o.vias = vias.length;
    o.topBranch = vias[0]?.branch;
    for (const v of vias) o.lastViaHost = v.host;
    const fu = sipUri(m.from().uri);
    o.fromUser = fu.user;
    o.fromHost = fu.host;
    o.fromTag = m.fromTag();
    const tu = sipUri(m.to().uri);
    o.toUser = tu.user;
    o.toHost = tu.host;
    o.toTag = m.toTag();
    const contact = m.contact();
    if (contact === '*' || contact[0] === undefined) throw new Error('expected a Contact');
    const cu = sipUri(contact[0].uri);
    o.contactHost = cu.host;
    o.contactPort = cu.port;
    const ct = m.contentType();
    o.contentType = ct === undefined ? undefined : mediaType(ct);
    o.maxForwards = Number(need(m.get('max-forwards'), 'Max-Forwards'));
    if (kind === 'refer') {
      const rt = sipUri(parseReferTo(need(m.get('refer-to'), 'Refer-To')).target.uri);
      o.referToUser = rt.user;
      o.referToHost = rt.host;
      const ac = m.get('accept-contact');
      o.acceptContactIm = ac === undefined ? undefined : acceptContactIm(parseAcceptContact(ac));
      const ev = m.get('event');
      o.event = ev === undefined ? undefined : parseEvent(ev).package;
    } else if (kind === 'notify') {
      o.event = parseEvent(need(m.get('event'), 'Event')).package;
      const ss = parseSubscriptionState(need(m.get('subscription-state'), 'Subscription-State'));
      o.subState = ss.state;
      o.subExpires = ss.expires;
    }
    return m;
  },
};

function acceptContactIm(list: readonly AcValue[]): boolean {
  for (const ac of list) {
    if (!ac.explicit) continue;
    for (const p of ac.featureParams) if (equalsIgnoreCase(p.name, '+g.oma.sip-im')) return true;
  }
  return false;
}

// --- sip (kirm)

const sipjs = loadSipJs();

function sipJsUri(uri: string): SipJsUri {
  return need(sipjs.parseUri(uri), 'a parsable URI');
}

const sip: Contender<SipJsMessage> = {
  name: 'sip',
  parse: (buf) => need(sipjs.parse(buf), 'sip.parse() result'),
  framed: (m) => ({
    callId: need(m.headers['call-id'], 'Call-ID'),
    cseq: need(m.headers.cseq, 'CSeq').seq,
    method: need(m.headers.cseq, 'CSeq').method,
    bodyLength: m.content.length,
  }),
  full(buf, o, kind) {
    const m = need(sipjs.parse(buf), 'sip.parse() result');
    const h = m.headers;
    o.callId = need(h['call-id'], 'Call-ID');
    const cseq = need(h.cseq, 'CSeq');
    o.cseq = cseq.seq;
    o.method = cseq.method;
    const vias = need(h.via, 'Via');
    o.vias = vias.length;
    o.topBranch = vias[0]?.params.branch ?? undefined;
    for (const v of vias) o.lastViaHost = v.host;
    const from = need(h.from, 'From');
    const fu = sipJsUri(from.uri);
    o.fromUser = fu.user;
    o.fromHost = fu.host;
    o.fromTag = from.params.tag ?? undefined;
    const to = need(h.to, 'To');
    const tu = sipJsUri(to.uri);
    o.toUser = tu.user;
    o.toHost = tu.host;
    o.toTag = to.params.tag ?? undefined;
    const contact = need(h.contact, 'Contact');
    if (contact === '*' || contact[0] === undefined) throw new Error('expected a Contact');
    const cu = sipJsUri(contact[0].uri);
    o.contactHost = cu.host;
    o.contactPort = Number.isNaN(cu.port) ? undefined : cu.port;
    o.contentType = naiveMediaType(h['content-type']);
    o.maxForwards = Number(need(h['max-forwards'], 'Max-Forwards'));
    if (kind === 'refer') {
      const rt = sipJsUri(need(h['refer-to'], 'Refer-To').uri);
      o.referToUser = rt.user;
      o.referToHost = rt.host;
      o.acceptContactIm = naiveAcceptContactIm(h['accept-contact']);
      o.event = naiveEvent(h.event);
    } else if (kind === 'notify') {
      o.event = naiveEvent(need(h.event, 'Event'));
      naiveSubscriptionState(need(h['subscription-state'], 'Subscription-State'), o);
    }
    return m;
  },
};

// --- jssip

const jsParser = loadJsSipParser();
/** IncomingRequest only stores the ua; parseMessage never touches it. */
const UA_STUB = {};

function jsParse(buf: Buffer): JsSipIncoming {
  const m = jsParser.parseMessage(buf.toString('utf8'), UA_STUB);
  if (m === undefined) throw new Error('parseMessage() returned undefined');
  return m;
}

const jssip: Contender<JsSipIncoming> = {
  name: 'jssip',
  parse: jsParse,
  framed: (m) => ({ callId: m.call_id, cseq: m.cseq, method: m.method, bodyLength: m.body.length }),
  full(buf, o, kind) {
    const m = jsParse(buf);
    o.callId = m.call_id;
    o.cseq = m.cseq;
    o.method = m.method;
    const n = m.headers.Via?.length ?? 0;
    o.vias = n;
    o.topBranch = m.via_branch;
    for (let i = 0; i < n; i++) o.lastViaHost = need(m.parseHeader('via', i) as JsSipVia | undefined, 'Via').host;
    o.fromUser = m.from.uri.user;
    o.fromHost = m.from.uri.host;
    o.fromTag = m.from_tag ?? undefined;
    o.toUser = m.to.uri.user;
    o.toHost = m.to.uri.host;
    o.toTag = m.to_tag ?? undefined;
    const contact = need(m.parseHeader('contact') as JsSipNameAddr | undefined, 'Contact');
    o.contactHost = contact.uri.host;
    o.contactPort = contact.uri.port;
    o.contentType = naiveMediaType(m.parseHeader('content-type') as string | undefined);
    o.maxForwards = need(m.parseHeader('max-forwards') as number | undefined, 'Max-Forwards');
    if (kind === 'refer') {
      const rt = need(m.refer_to, 'Refer-To');
      o.referToUser = rt.uri.user;
      o.referToHost = rt.uri.host;
      o.acceptContactIm = naiveAcceptContactIm(m.getHeader('accept-contact'));
      o.event = m.event?.event;
    } else if (kind === 'notify') {
      o.event = need(m.event, 'Event').event;
      const ss = need(m.parseHeader('subscription-state') as JsSipSubscriptionState | undefined, 'Subscription-State');
      o.subState = ss.state;
      o.subExpires = ss.expires;
    }
    return m;
  },
};

// ---------------------------------------------------------------- cells

interface Cell {
  key: string;
  lib: Lib;
  kind: Kind;
  mode: Mode;
  op: Op;
  check(): void;
}

/** Results of timed calls land here so nothing is optimised away. */
let sink: unknown;

/**
 * One parsed message per cell stays alive for the whole run, as messages in flight do in a
 * server. Without it the forced GC between cells finds no live object of, e.g., a parsed
 * header's hidden class, collects the class, and V8 deoptimises every function whose
 * optimised code embedded it ("weak objects" in --trace-deopt): each cell would then start
 * in unoptimised code, which measures the bench's GC calls, not the parser.
 */
const keepAlive: unknown[] = [];

function makeCell<T>(c: Contender<T>, kind: Kind, mode: Mode, buf: Buffer): Cell {
  const key = `${c.name}/${kind}/${mode}`;
  const exp = EXPECTED[kind];
  if (mode === 'framing') {
    return {
      key, lib: c.name, kind, mode,
      op: () => {
        sink = c.parse(buf);
      },
      check() {
        const m = c.parse(buf);
        keepAlive.push(m);
        const f = c.framed(m);
        const want: Framed = { callId: exp.callId, cseq: exp.cseq, method: exp.method, bodyLength: bodyLength(buf) };
        assertSame(key, f, want);
      },
    };
  }
  const out = newUasRead();
  return {
    key, lib: c.name, kind, mode,
    op: () => {
      sink = c.full(buf, out, kind);
    },
    check() {
      const o = newUasRead();
      keepAlive.push(c.full(buf, o, kind));
      assertSame(key, o, exp);
    },
  };
}

function bodyLength(buf: Buffer): number {
  return buf.length - buf.indexOf('\r\n\r\n') - 4;
}

function assertSame<T extends object>(key: string, got: T, want: T): void {
  for (const k of Object.keys(want) as (keyof T)[]) {
    if (got[k] !== want[k]) {
      throw new Error(`${key}: ${String(k)} is ${JSON.stringify(got[k])}, expected ${JSON.stringify(want[k])}`);
    }
  }
}

function buildCells(opts: Options): Cell[] {
  const cells: Cell[] = [];
  for (const kind of opts.kinds) {
    const buf = loadFixture(kind);
    for (const mode of opts.modes) {
      for (const lib of opts.libs) {
        // Each contender keeps its own result type; makeCell erases it.
        if (lib === 'im-history') cells.push(makeCell(ours, kind, mode, buf));
        else if (lib === 'sip') cells.push(makeCell(sip, kind, mode, buf));
        else cells.push(makeCell(jssip, kind, mode, buf));
      }
    }
  }
  return cells;
}

/** RFC 5368 multiple-REFER form of the REFER (Refer-To: <cid:...>): who can read it at all? */
function cidReferProbe(): string {
  const buf = loadFixture('refer-cid');
  const verdict = (f: () => unknown): string => {
    try {
      f();
      return 'parsed';
    } catch (e) {
      return `rejected (${e instanceof Error ? e.message : String(e)})`;
    }
  };
  return [
    `im-history: ${verdict(() => parseReferTo(need(ours.parse(buf).get('refer-to'), 'Refer-To')))}`,
    `sip: ${verdict(() => need(sip.parse(buf).headers['refer-to'], 'Refer-To'))}`,
    `jssip: ${verdict(() => jssip.parse(buf))}`,
  ].join('; ');
}

// ---------------------------------------------------------------- allocation pass (child)

const ALLOC_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];

function allocChild(opts: Options): void {
  const cells = buildCells(opts);
  const result: Record<string, AllocSample> = {};
  for (const cell of cells) {
    cell.check();
    opsPerSecond(cell.op, Math.min(opts.warmupMs, 150)); // reach optimised code first
    result[cell.key] = bytesPerCall(cell.op);
  }
  process.stdout.write(JSON.stringify(result));
}

function runAllocChild(): Record<string, AllocSample> {
  const args = [...ALLOC_FLAGS, SELF, '--alloc-child', ...process.argv.slice(2).filter((a) => a !== '--alloc-child')];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`allocation pass failed (${r.status ?? r.signal}): ${r.stderr}`);
  const parsed: unknown = JSON.parse(r.stdout);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('allocation pass: bad output');
  const out: Record<string, AllocSample> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v === 'object' && v !== null && 'bytesPerCall' in v && 'calls' in v) {
      const { bytesPerCall: b, calls } = v;
      if (typeof b === 'number' && typeof calls === 'number') out[k] = { bytesPerCall: b, calls };
    }
  }
  return out;
}

// ---------------------------------------------------------------- main

function main(): void {
  const opts = readOptions();
  if (opts.allocChild) {
    allocChild(opts);
    return;
  }
  const started = Date.now();
  const m = describeMachine();
  const cells = buildCells(opts);
  for (const cell of cells) cell.check();

  console.log('## bench/parse');
  console.log('');
  console.log(`- command: node --expose-gc ${relative(process.cwd(), SELF)} ${process.argv.slice(2).join(' ')}`.trimEnd());
  console.log(`- machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.platform}, load average ${m.loadavg}`);
  console.log(`- node ${m.node}; sip ${sipJsVersion()}; jssip ${jssipVersion()}; date ${m.date}`);
  console.log(`- method: ${opts.rounds} rounds x ${opts.timeMs} ms per cell (cells interleaved within a round, forced GC between cells), after ${opts.warmupMs} ms warm-up per cell; msg/s is the median of rounds`);
  console.log(`- checked before timing: every cell's Call-ID, CSeq and body length (framing) or every value read (full) match the fixture`);
  if (opts.kinds.includes('refer')) console.log(`- Refer-To: <cid:...> variant (RFC 5368), parse only: ${cidReferProbe()}`);

  for (const cell of cells) {
    forceGc();
    opsPerSecond(cell.op, opts.warmupMs);
  }
  const samples = new Map<string, number[]>(cells.map((c) => [c.key, []]));
  for (let r = 0; r < opts.rounds; r++) {
    // Rotate the order each round so no cell always runs right after the same neighbour.
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[(i + r) % cells.length]!;
      forceGc();
      samples.get(cell.key)!.push(opsPerSecond(cell.op, opts.timeMs));
    }
  }
  const alloc = opts.alloc ? runAllocChild() : {};

  const rate = (lib: Lib, kind: Kind, mode: Mode): number => median(samples.get(`${lib}/${kind}/${mode}`) ?? []);
  const rows: string[][] = [];
  const spread: string[][] = [];
  for (const kind of opts.kinds) {
    for (const mode of opts.modes) {
      const rates = opts.libs.map((lib) => rate(lib, kind, mode));
      const others = opts.libs.map((lib, i) => (lib === 'im-history' ? NaN : rates[i]!)).filter((x) => !Number.isNaN(x));
      const oursRate = opts.libs.includes('im-history') ? rate('im-history', kind, mode) : NaN;
      const ratio = others.length > 0 && !Number.isNaN(oursRate) ? (oursRate / Math.max(...others)).toFixed(2) + 'x' : 'n/a';
      const bytes = opts.libs.map((lib) => {
        const b = alloc[`${lib}/${kind}/${mode}`];
        return b === undefined ? 'n/a' : fmtInt(b.bytesPerCall);
      });
      rows.push([kind.toUpperCase(), mode, ...rates.map(fmtInt), ratio, ...bytes]);
      spread.push([
        kind.toUpperCase(),
        mode,
        ...opts.libs.map((lib) => {
          const s = samples.get(`${lib}/${kind}/${mode}`) ?? [];
          return `${fmtInt(Math.min(...s))} .. ${fmtInt(Math.max(...s))}`;
        }),
      ]);
    }
  }
  console.log('');
  console.log(
    markdownTable(
      ['message', 'mode', ...opts.libs.map((l) => `${l} msg/s`), 'ours / best other', ...opts.libs.map((l) => `${l} B/msg`)],
      rows,
      2,
    ),
  );
  console.log('');
  const batch = Object.values(alloc).map((a) => a.calls);
  if (batch.length > 0) {
    console.log(
      'B/msg: bytes allocated per message. Node 20 has no cumulative allocation counter, so this is the growth of ' +
        'V8 used_heap_size + process.memoryUsage().arrayBuffers over a batch of calls during which no GC ran at all ' +
        `(separate process with ${ALLOC_FLAGS.slice(1).join(' ')}; forced GC before the batch, v8.GCProfiler must record ` +
        `zero GC events; batches of ${Math.min(...batch)}..${Math.max(...batch)} calls sized to ~24 MB; median of 3 batches). ` +
        'Short-lived garbage and retained bytes count alike.',
    );
  }
  console.log('');
  console.log('Spread of msg/s over the rounds (min .. max):');
  console.log('');
  console.log(markdownTable(['message', 'mode', ...opts.libs.map((l) => `${l} msg/s`)], spread, 2));
  console.log('');
  console.log(`(bench wall time ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  void sink;
  void keepAlive.length;
}

if (typeof (globalThis as Record<string, unknown>).gc !== 'function') {
  // Re-execute with --expose-gc (forced GC between cells and around allocation batches).
  const r = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', SELF, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
} else {
  main();
}
