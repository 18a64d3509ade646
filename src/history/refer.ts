/**
 * Reading a REFER addressed to the History Function (seed 1.1.2).
 *
 * RFC 3515 §2.1/§2.4.1: exactly one Refer-To. The seed's 1.1.2 applies when Refer-To has no
 * `method` uri-parameter or `method=INVITE`. The conference factory is the Refer-To target
 * (1.1.2-2); when Refer-To is a `cid:` reference to a URI list (RFC 5368 §4), the configured
 * default factory is used. The IM users come as an RFC 4826 resource-lists document — the
 * body itself (`application/resource-lists+xml`), or a part of a multipart/mixed body (the
 * one Refer-To's cid: names, RFC 2392, else the first resource-lists part).
 * RFC 4488: `Refer-Sub: false` asks for no implicit subscription.
 */
import type { SipRequest } from '../sip/message/message.js';
import { parseReferTo } from '../sip/message/headers/refer-to.js';
import { formatUri, isSipUri } from '../sip/message/headers/uri.js';
import { getParamUnquoted } from '../sip/message/headers/scan.js';
import { mediaType } from '../sip/message/headers/content-type.js';
import { parseMultipart, partMediaType } from '../sip/message/headers/multipart.js';
import { parseResourceLists } from '../xml/resource-lists.js';
import { rejection, type PolicyRejection } from './policy.js';

export interface ImUser {
  uri: string;
  displayName?: string;
}

export interface ReferTarget {
  /** The Refer-To target as text (a SIP URI, or undefined for a cid: list reference). */
  factoryUri: string | undefined;
  imUsers: ImUser[];
  /** RFC 4488: false when the REFER said `Refer-Sub: false`. */
  referSub: boolean;
  /** Seed 1.1.1-3: the IM Client's Allow list. */
  clientAllow: string[];
  /** Seed 1.1.1-4: the IM Client's Contact (IM Session Identity). */
  clientContact: string | undefined;
}

const RESOURCE_LISTS = 'application/resource-lists+xml';
const HARD_MAX_ENTRIES = 1000;

/** Read the REFER; a PolicyRejection (4xx) when it cannot be what the History Function serves. */
export function readRefer(req: SipRequest, maxImUsers: number): ReferTarget | PolicyRejection {
  const referTo = req.getAll('refer-to');
  if (referTo.length !== 1) return rejection(400, 'Bad Request: exactly one Refer-To required');
  let target;
  try {
    target = parseReferTo(referTo[0]!);
  } catch (e) {
    return rejection(400, `Bad Refer-To: ${(e as Error).message}`);
  }
  const method = target.method?.toUpperCase();
  if (method !== undefined && method !== 'INVITE') {
    return rejection(403, `Forbidden: Refer-To method ${method} is not supported`);
  }
  const uri = target.target.uri;
  let factoryUri: string | undefined;
  let cid: string | undefined;
  if (isSipUri(uri)) factoryUri = formatUri({ ...uri, headers: [] });
  else if (uri.scheme === 'cid') cid = 'opaque' in uri ? uri.opaque : undefined;
  else return rejection(416, 'Unsupported URI Scheme in Refer-To');

  const users = imUsersOf(req, cid, maxImUsers);
  if ('status' in users) return users;
  if (users.length === 0) return rejection(400, 'Bad Request: no IM users in the REFER');

  const referSub = (req.get('refer-sub') ?? 'true').trim().toLowerCase() !== 'false';
  const contact = req.contact();
  return {
    factoryUri,
    imUsers: users,
    referSub,
    clientAllow: req.tokens('allow'),
    clientContact: contact === '*' || contact.length === 0 ? undefined : req.getAll('contact')[0],
  };
}

function imUsersOf(req: SipRequest, cid: string | undefined, max: number): ImUser[] | PolicyRejection {
  if (req.body.length === 0) return [];
  let ct;
  try {
    ct = req.contentType();
  } catch (e) {
    return rejection(400, `Bad Content-Type: ${(e as Error).message}`);
  }
  if (ct === undefined) return rejection(400, 'Bad Request: body without Content-Type');
  let xml: Buffer | undefined;
  if (mediaType(ct) === RESOURCE_LISTS) xml = req.body;
  else if (ct.type === 'multipart' && ct.subtype === 'mixed') {
    const boundary = getParamUnquoted(ct.params, 'boundary');
    if (boundary === undefined || boundary === null) return rejection(400, 'Bad Request: multipart without boundary');
    let parts;
    try {
      parts = parseMultipart(req.body, boundary);
    } catch (e) {
      return rejection(400, `Bad multipart body: ${(e as Error).message}`);
    }
    const lists = parts.filter((p) => partMediaType(p) === RESOURCE_LISTS);
    const named =
      cid === undefined
        ? undefined
        : lists.find((p) => p.headers.some((h) => h.name.toLowerCase() === 'content-id' && stripAngle(h.value) === decodeURIComponent(cid)));
    xml = (named ?? lists[0])?.body;
  } else {
    return rejection(415, 'Unsupported Media Type', [['Accept', `${RESOURCE_LISTS}, multipart/mixed`]]);
  }
  if (xml === undefined) return [];
  try {
    // The parser's cap only bounds work on hostile input; the adding policy (403) judges the count.
    const list = parseResourceLists(xml, { maxEntries: Math.max(max + 1, HARD_MAX_ENTRIES) });
    return list.entries.map((e) => (e.displayName === undefined ? { uri: e.uri } : { uri: e.uri, displayName: e.displayName }));
  } catch (e) {
    return rejection(400, `Bad resource-lists body: ${(e as Error).message}`);
  }
}

function stripAngle(s: string): string {
  const t = s.trim();
  return t.startsWith('<') && t.endsWith('>') ? t.slice(1, -1) : t;
}

