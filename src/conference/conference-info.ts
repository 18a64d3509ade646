/**
 * Parses application/conference-info+xml (RFC 4575 §5) into the typed model of types.ts.
 *
 * Read: the root's entity, state and version (§5.2); conference-description (§5.3, with
 * conf-uris, service-uris, available-media), host-info (§5.4), conference-state (§5.5:
 * user-count, active, locked), users/user (§5.6: display-text, associated-aors, roles,
 * languages, cascaded-focus), endpoint (§5.7: display-text, referred, status,
 * joining-method, joining-info, disconnection-method, disconnection-info, call-info/sip),
 * media (§5.8) and the sidebars (§5.9; by-value entries down to their users).
 *
 * Validation: the root must be {urn:ietf:params:xml:ns:conference-info}conference-info
 * (any prefix); user and endpoint need an entity URI, unique among their siblings, since
 * partial notifications are keyed by it; state must be full/partial/deleted; version an
 * xs:unsignedInt. Those are errors, as a document that breaks them cannot be merged.
 * Unknown enumeration values, bad numbers or booleans and repeated single elements are
 * left out and listed in `warnings`: the schema lets foci extend it, and one odd value
 * should not cost the whole roster update. Elements of other namespaces are skipped
 * (the schema's ##other extension points), as are unknown elements of this one.
 *
 * Limits (all explicit, all configurable): document size and depth (the hardened XML
 * reader), users per document, endpoints per user, media per endpoint, entries per list,
 * characters per text value.
 */
import {
  childElements, getAttribute, parseXml, textContent, trimXml, XmlError, type SafeXmlOptions, type XmlElement,
} from '../xml/safe-xml.js';
import {
  CONFERENCE_INFO_NS, ConferenceInfoError, DISCONNECTION_METHODS, ENDPOINT_STATUSES, JOINING_METHODS, MEDIA_STATUSES,
  type ConferenceDescription, type ConferenceInfo, type ConferenceState, type ElementState, type Endpoint, type Execution,
  type HostInfo, type Media, type SidebarByVal, type SipDialogId, type UriList, type User, type Users,
} from './types.js';
import { parseXsDateTime } from './xs-datetime.js';

export interface ConferenceInfoOptions extends SafeXmlOptions {
  /** Users per users element, default 1000 (maxBytes defaults to 1 MiB, maxDepth to 24). */
  maxUsers?: number;
  /** Endpoints per user, default 32. */
  maxEndpointsPerUser?: number;
  /** Media per endpoint, default 16. */
  maxMediaPerEndpoint?: number;
  /** Entries per list (URIs, roles, languages, keywords, available media, sidebars), default 100. */
  maxEntries?: number;
  /** Characters per text value, default 2048. */
  maxTextLength?: number;
}

interface Ctx {
  warnings: string[];
  maxUsers: number;
  maxEndpoints: number;
  maxMedia: number;
  maxEntries: number;
  maxText: number;
}

const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1F\x7F]+$/;
function text(el: XmlElement, ctx: Ctx): string {
  const t = textContent(el);
  if (t.length > ctx.maxText) throw new ConferenceInfoError(`<${el.local}> longer than ${ctx.maxText} characters`, 'text-too-long');
  return t;
}

function children(el: XmlElement): XmlElement[] {
  return childElements(el, CONFERENCE_INFO_NS);
}

/** Sets `obj[key]` unless already set (then the repeat is a warning: first one wins). */
function once<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined, where: string, ctx: Ctx): void {
  if (value === undefined) return;
  if (obj[key] !== undefined) ctx.warnings.push(`${where}: repeated <${String(key)}> ignored`);
  else obj[key] = value;
}

function oneOf<T extends string>(el: XmlElement, allowed: readonly T[], where: string, ctx: Ctx): T | undefined {
  const v = text(el, ctx);
  if ((allowed as readonly string[]).includes(v)) return v as T;
  ctx.warnings.push(`${where}: unknown <${el.local}> ${JSON.stringify(v.slice(0, 40))} left out`);
  return undefined;
}

function unsignedInt(el: XmlElement, where: string, ctx: Ctx): number | undefined {
  const v = text(el, ctx);
  if (/^\+?\d{1,10}$/.test(v) && Number(v) <= 0xffffffff) return Number(v);
  ctx.warnings.push(`${where}: <${el.local}> ${JSON.stringify(v.slice(0, 40))} is not an unsigned int`);
  return undefined;
}

function boolean(el: XmlElement, where: string, ctx: Ctx): boolean | undefined {
  const v = text(el, ctx);
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  ctx.warnings.push(`${where}: <${el.local}> ${JSON.stringify(v.slice(0, 40))} is not a boolean`);
  return undefined;
}

function list(el: XmlElement, ctx: Ctx): string[] {
  const items = text(el, ctx).split(/[ \t\r\n]+/).filter((s) => s !== '');
  if (items.length > ctx.maxEntries) throw new ConferenceInfoError(`<${el.local}> has more than ${ctx.maxEntries} items`, 'too-many-entries');
  return items;
}

function stateOf(el: XmlElement): ElementState | undefined {
  const raw = getAttribute(el, 'state');
  if (raw === undefined) return undefined;
  const v = trimXml(raw);
  if (v === 'full' || v === 'partial' || v === 'deleted') return v;
  throw new ConferenceInfoError(`<${el.local}> state ${JSON.stringify(raw.slice(0, 40))} is not full, partial or deleted`, 'invalid-state');
}

function entityOf(el: XmlElement, ctx: Ctx): string {
  const raw = getAttribute(el, 'entity');
  if (raw === undefined) throw new ConferenceInfoError(`<${el.local}> without an entity attribute`, 'missing-entity');
  const v = trimXml(raw);
  if (v.length > ctx.maxText || !URI.test(v)) throw new ConferenceInfoError(`<${el.local}> entity ${JSON.stringify(v.slice(0, 80))} is not a URI`, 'invalid-entity');
  return v;
}

function limit(count: number, max: number, what: string, code: 'too-many-users' | 'too-many-endpoints' | 'too-many-entries'): void {
  if (count > max) throw new ConferenceInfoError(`more than ${max} ${what}`, code);
}

function execution(el: XmlElement, ctx: Ctx): Execution {
  const e: Execution = {};
  const where = `<${el.local}>`;
  for (const c of children(el)) {
    if (c.local === 'when') {
      const when = text(c, ctx);
      once(e, 'when', when, where, ctx);
      const ms = parseXsDateTime(when);
      if (ms === undefined) ctx.warnings.push(`${where}: <when> ${JSON.stringify(when.slice(0, 40))} is not an xs:dateTime`);
      else if (e.when === when && e.whenMs === undefined) e.whenMs = ms;
    } else if (c.local === 'reason') once(e, 'reason', text(c, ctx), where, ctx);
    else if (c.local === 'by') once(e, 'by', text(c, ctx), where, ctx);
  }
  return e;
}

function uriList(el: XmlElement, ctx: Ctx): UriList {
  const out: UriList = { entries: [] };
  const state = stateOf(el);
  if (state !== undefined) out.state = state;
  for (const entry of childElements(el, CONFERENCE_INFO_NS, 'entry')) {
    limit(out.entries.length + 1, ctx.maxEntries, `entries in <${el.local}>`, 'too-many-entries');
    const uriEl = childElements(entry, CONFERENCE_INFO_NS, 'uri')[0];
    if (!uriEl) {
      ctx.warnings.push(`<${el.local}>: an entry without <uri> left out`);
      continue;
    }
    const e: UriList['entries'][number] = { uri: text(uriEl, ctx) };
    for (const c of children(entry)) {
      if (c.local === 'display-text') once(e, 'displayText', text(c, ctx), `<${el.local}> entry`, ctx);
      else if (c.local === 'purpose') once(e, 'purpose', text(c, ctx), `<${el.local}> entry`, ctx);
      else if (c.local === 'modified') once(e, 'modified', execution(c, ctx), `<${el.local}> entry`, ctx);
    }
    out.entries.push(e);
  }
  return out;
}

function media(el: XmlElement, ctx: Ctx): Media | undefined {
  const id = getAttribute(el, 'id');
  if (id === undefined || trimXml(id) === '') {
    ctx.warnings.push('<media> without an id left out');
    return undefined;
  }
  const m: Media = { id: trimXml(id) };
  for (const c of children(el)) {
    const where = `media ${m.id}`;
    if (c.local === 'display-text') once(m, 'displayText', text(c, ctx), where, ctx);
    else if (c.local === 'type') once(m, 'type', text(c, ctx), where, ctx);
    else if (c.local === 'label') once(m, 'label', text(c, ctx), where, ctx);
    else if (c.local === 'src-id') once(m, 'srcId', text(c, ctx), where, ctx);
    else if (c.local === 'status') once(m, 'status', oneOf(c, MEDIA_STATUSES, where, ctx), where, ctx);
  }
  return m;
}

function endpoint(el: XmlElement, ctx: Ctx): Endpoint {
  const ep: Endpoint = { entity: entityOf(el, ctx), media: [] };
  const state = stateOf(el);
  if (state !== undefined) ep.state = state;
  const where = `endpoint ${ep.entity}`;
  for (const c of children(el)) {
    switch (c.local) {
      case 'display-text': once(ep, 'displayText', text(c, ctx), where, ctx); break;
      case 'referred': once(ep, 'referred', execution(c, ctx), where, ctx); break;
      case 'status': once(ep, 'status', oneOf(c, ENDPOINT_STATUSES, where, ctx), where, ctx); break;
      case 'joining-method': once(ep, 'joiningMethod', oneOf(c, JOINING_METHODS, where, ctx), where, ctx); break;
      case 'joining-info': once(ep, 'joiningInfo', execution(c, ctx), where, ctx); break;
      case 'disconnection-method': once(ep, 'disconnectionMethod', oneOf(c, DISCONNECTION_METHODS, where, ctx), where, ctx); break;
      case 'disconnection-info': once(ep, 'disconnectionInfo', execution(c, ctx), where, ctx); break;
      case 'call-info': {
        const sip = childElements(c, CONFERENCE_INFO_NS, 'sip')[0];
        if (!sip) break;
        const d: SipDialogId = {};
        for (const s of children(sip)) {
          if (s.local === 'display-text') once(d, 'displayText', text(s, ctx), where, ctx);
          else if (s.local === 'call-id') once(d, 'callId', text(s, ctx), where, ctx);
          else if (s.local === 'from-tag') once(d, 'fromTag', text(s, ctx), where, ctx);
          else if (s.local === 'to-tag') once(d, 'toTag', text(s, ctx), where, ctx);
        }
        once(ep, 'callInfo', d, where, ctx);
        break;
      }
      case 'media': {
        limit(ep.media.length + 1, ctx.maxMedia, `media in ${where}`, 'too-many-entries');
        const m = media(c, ctx);
        if (m && ep.media.some((x) => x.id === m.id)) ctx.warnings.push(`${where}: repeated media id ${m.id} ignored`);
        else if (m) ep.media.push(m);
        break;
      }
    }
  }
  return ep;
}

function user(el: XmlElement, ctx: Ctx): User {
  const u: User = { entity: entityOf(el, ctx), endpoints: [] };
  const state = stateOf(el);
  if (state !== undefined) u.state = state;
  const where = `user ${u.entity}`;
  const seen = new Set<string>();
  for (const c of children(el)) {
    switch (c.local) {
      case 'display-text': once(u, 'displayText', text(c, ctx), where, ctx); break;
      case 'associated-aors': once(u, 'associatedAors', uriList(c, ctx), where, ctx); break;
      case 'roles': {
        const roles = childElements(c, CONFERENCE_INFO_NS, 'entry').map((e) => text(e, ctx));
        limit(roles.length, ctx.maxEntries, `roles in ${where}`, 'too-many-entries');
        once(u, 'roles', roles, where, ctx);
        break;
      }
      case 'languages': once(u, 'languages', list(c, ctx), where, ctx); break;
      case 'cascaded-focus': once(u, 'cascadedFocus', text(c, ctx), where, ctx); break;
      case 'endpoint': {
        limit(u.endpoints.length + 1, ctx.maxEndpoints, `endpoints in ${where}`, 'too-many-endpoints');
        const ep = endpoint(c, ctx);
        if (seen.has(ep.entity)) throw new ConferenceInfoError(`${where}: endpoint ${ep.entity} listed twice`, 'duplicate-entity');
        seen.add(ep.entity);
        u.endpoints.push(ep);
        break;
      }
    }
  }
  return u;
}

function users(el: XmlElement, ctx: Ctx): Users {
  const out: Users = { users: [] };
  const state = stateOf(el);
  if (state !== undefined) out.state = state;
  const seen = new Set<string>();
  for (const c of childElements(el, CONFERENCE_INFO_NS, 'user')) {
    limit(out.users.length + 1, ctx.maxUsers, 'users', 'too-many-users');
    const u = user(c, ctx);
    if (seen.has(u.entity)) throw new ConferenceInfoError(`user ${u.entity} listed twice`, 'duplicate-entity');
    seen.add(u.entity);
    out.users.push(u);
  }
  return out;
}

function description(el: XmlElement, ctx: Ctx): ConferenceDescription {
  const d: ConferenceDescription = {};
  const state = stateOf(el);
  if (state !== undefined) d.state = state;
  const where = 'conference-description';
  for (const c of children(el)) {
    switch (c.local) {
      case 'display-text': once(d, 'displayText', text(c, ctx), where, ctx); break;
      case 'subject': once(d, 'subject', text(c, ctx), where, ctx); break;
      case 'free-text': once(d, 'freeText', text(c, ctx), where, ctx); break;
      case 'keywords': once(d, 'keywords', list(c, ctx), where, ctx); break;
      case 'conf-uris': once(d, 'confUris', uriList(c, ctx), where, ctx); break;
      case 'service-uris': once(d, 'serviceUris', uriList(c, ctx), where, ctx); break;
      case 'maximum-user-count': once(d, 'maximumUserCount', unsignedInt(c, where, ctx), where, ctx); break;
      case 'available-media': {
        const entries = childElements(c, CONFERENCE_INFO_NS, 'entry');
        limit(entries.length, ctx.maxEntries, 'available-media entries', 'too-many-entries');
        const out: NonNullable<ConferenceDescription['availableMedia']> = [];
        for (const e of entries) {
          const label = getAttribute(e, 'label');
          if (label === undefined) {
            ctx.warnings.push(`${where}: available-media entry without a label left out`);
            continue;
          }
          const m: (typeof out)[number] = { label: trimXml(label) };
          for (const x of children(e)) {
            if (x.local === 'display-text') once(m, 'displayText', text(x, ctx), where, ctx);
            else if (x.local === 'type') once(m, 'type', text(x, ctx), where, ctx);
            else if (x.local === 'status') once(m, 'status', oneOf(x, MEDIA_STATUSES, where, ctx), where, ctx);
          }
          out.push(m);
        }
        once(d, 'availableMedia', out, where, ctx);
        break;
      }
    }
  }
  return d;
}

function hostInfo(el: XmlElement, ctx: Ctx): HostInfo {
  const h: HostInfo = {};
  const state = stateOf(el);
  if (state !== undefined) h.state = state;
  for (const c of children(el)) {
    if (c.local === 'display-text') once(h, 'displayText', text(c, ctx), 'host-info', ctx);
    else if (c.local === 'web-page') once(h, 'webPage', text(c, ctx), 'host-info', ctx);
    else if (c.local === 'uris') once(h, 'uris', uriList(c, ctx), 'host-info', ctx);
  }
  return h;
}

function conferenceState(el: XmlElement, ctx: Ctx): ConferenceState {
  const s: ConferenceState = {};
  const state = stateOf(el);
  if (state !== undefined) s.state = state;
  for (const c of children(el)) {
    if (c.local === 'user-count') once(s, 'userCount', unsignedInt(c, 'conference-state', ctx), 'conference-state', ctx);
    else if (c.local === 'active') once(s, 'active', boolean(c, 'conference-state', ctx), 'conference-state', ctx);
    else if (c.local === 'locked') once(s, 'locked', boolean(c, 'conference-state', ctx), 'conference-state', ctx);
  }
  return s;
}

function sidebarsByVal(el: XmlElement, ctx: Ctx): NonNullable<ConferenceInfo['sidebarsByVal']> {
  const out: NonNullable<ConferenceInfo['sidebarsByVal']> = { entries: [] };
  const state = stateOf(el);
  if (state !== undefined) out.state = state;
  for (const e of childElements(el, CONFERENCE_INFO_NS, 'entry')) {
    limit(out.entries.length + 1, ctx.maxEntries, 'sidebars', 'too-many-entries');
    const sb: SidebarByVal = { entity: entityOf(e, ctx) };
    const st = stateOf(e);
    if (st !== undefined) sb.state = st;
    const u = childElements(e, CONFERENCE_INFO_NS, 'users')[0];
    if (u) sb.users = users(u, ctx);
    out.entries.push(sb);
  }
  return out;
}

/** Parses a conference-info document. Throws ConferenceInfoError. */
export function parseConferenceInfo(xml: string | Uint8Array, options: ConferenceInfoOptions = {}): ConferenceInfo {
  let root: XmlElement;
  try {
    root = parseXml(xml, { maxBytes: options.maxBytes ?? 1024 * 1024, maxDepth: options.maxDepth ?? 24 });
  } catch (e) {
    if (e instanceof XmlError) throw new ConferenceInfoError(`conference-info: ${e.message}`, 'xml', { cause: e });
    throw e;
  }
  if (root.ns !== CONFERENCE_INFO_NS || root.local !== 'conference-info') {
    throw new ConferenceInfoError(`root element is {${root.ns}}${root.local}, not {${CONFERENCE_INFO_NS}}conference-info`, 'not-conference-info');
  }
  const ctx: Ctx = {
    warnings: [],
    maxUsers: options.maxUsers ?? 1000,
    maxEndpoints: options.maxEndpointsPerUser ?? 32,
    maxMedia: options.maxMediaPerEndpoint ?? 16,
    maxEntries: options.maxEntries ?? 100,
    maxText: options.maxTextLength ?? 2048,
  };
  const info: ConferenceInfo = { entity: entityOf(root, ctx), state: stateOf(root) ?? 'full', warnings: ctx.warnings };
  const version = getAttribute(root, 'version');
  if (version !== undefined) {
    const v = trimXml(version);
    if (!/^\d{1,10}$/.test(v) || Number(v) > 0xffffffff) throw new ConferenceInfoError(`version ${JSON.stringify(v.slice(0, 20))} is not an unsigned int`, 'invalid-version');
    info.version = Number(v);
  }
  for (const c of children(root)) {
    switch (c.local) {
      case 'conference-description': once(info, 'description', description(c, ctx), 'conference-info', ctx); break;
      case 'host-info': once(info, 'hostInfo', hostInfo(c, ctx), 'conference-info', ctx); break;
      case 'conference-state': once(info, 'conferenceState', conferenceState(c, ctx), 'conference-info', ctx); break;
      case 'users': once(info, 'users', users(c, ctx), 'conference-info', ctx); break;
      case 'sidebars-by-ref': once(info, 'sidebarsByRef', uriList(c, ctx), 'conference-info', ctx); break;
      case 'sidebars-by-val': once(info, 'sidebarsByVal', sidebarsByVal(c, ctx), 'conference-info', ctx); break;
    }
  }
  return info;
}
