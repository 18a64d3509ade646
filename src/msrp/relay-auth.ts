/**
 * RFC 4976 §5 (MSRP relays): an endpoint AUTHs to its relay over a connection it opens, and
 * the relay answers 200 with Use-Path (the relay URIs to put in front of our own in a=path)
 * and Expires. The relay forwards requests for us over that same connection, so it is kept
 * open (pinned) for as long as the binding is used, and sessions whose first hop is that
 * relay reuse it (RFC 6135 §4). §5.1's HTTP Digest challenge (401) is not implemented yet.
 */
import { isIPv4 } from 'node:net';
import { parseMsrpUri, formatMsrpUri } from '../sdp/msrp-uri.js';
import type { MsrpConnection } from './connection.js';
import { MsrpSendError } from './errors.js';
import { newSessionId } from './ids.js';
import { expiresOf, pathOf } from './message.js';
import { buildRequest } from './serialize.js';

export interface RelayBinding {
  relay: string;
  /** Relay URIs in a=path order: pass as CreateSessionOptions.relays. */
  usePath: string[];
  /** Seconds the relay keeps the binding (its Expires), when it said. */
  expires?: number;
  /** The From-Path URI the AUTH was sent with. */
  fromUri: string;
  /** Unpins the connection (it closes once no session uses it either). */
  release(): void;
}

interface AuthHost {
  connect(firstHop: ReturnType<typeof parseMsrpUri>): Promise<MsrpConnection>;
}

export async function authenticateToRelay(
  host: AuthHost,
  relayUri: string,
  opts: { localUriHost: string; expires?: number },
  port: number,
): Promise<RelayBinding> {
  const relay = parseMsrpUri(relayUri);
  const h = opts.localUriHost.includes(':') && !opts.localUriHost.startsWith('[') ? `[${opts.localUriHost}]` : opts.localUriHost;
  const fromUri = formatMsrpUri({
    scheme: relay.scheme, host: h, hostType: h.startsWith('[') ? 'ipv6' : isIPv4(h) ? 'ipv4' : 'domain',
    port, sessionId: newSessionId(), transport: 'tcp', params: [],
  });
  const conn = await host.connect(relay);
  conn.pins++;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    conn.pins--;
    if (conn.pins === 0 && conn.sessions.size === 0) conn.touch();
  };
  try {
    const headers = opts.expires === undefined ? [] : [{ name: 'Expires', value: String(opts.expires) }];
    const r = await conn.send(buildRequest({ method: 'AUTH', toPath: [relayUri], fromPath: [fromUri], headers }), 'all');
    if (r.code !== 200 || r.response === undefined) {
      const why = r.code === 401 ? ' (HTTP Digest, RFC 4976 §5.1, is not implemented)' : '';
      throw new MsrpSendError(`AUTH to ${relayUri} answered ${r.code}${why}`, r.timedOut ? 'timeout' : 'rejected', r.code);
    }
    const usePath = [...pathOf(r.response, 'Use-Path').text];
    const binding: RelayBinding = { relay: relayUri, usePath, fromUri, release };
    const expires = expiresOf(r.response);
    if (expires !== undefined) binding.expires = expires;
    return binding;
  } catch (e) {
    release();
    throw e;
  }
}
