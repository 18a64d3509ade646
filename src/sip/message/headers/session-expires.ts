/**
 * Session-Expires and Min-SE (RFC 4028 §4, §5):
 *   Session-Expires = delta-seconds *(SEMI se-params), se-params = refresher-param / generic-param,
 *   refresher-param = "refresher" EQUAL ("uas" / "uac");
 *   Min-SE = delta-seconds *(SEMI generic-param).
 * The 90-second floor (§4, §5) is a policy of the session-timer layer, not syntax.
 */
import { scanUint32 } from './cseq.js';
import {
  expectEnd, fail, formatParams, getParam, mergeParams, parseParams, rejectDuplicates, skipLws, type Param,
} from './scan.js';

export interface SessionExpires {
  deltaSeconds: number;
  refresher?: 'uac' | 'uas';
  /** Every parameter as written, refresher included. */
  params: Param[];
}

function parseDeltaAndParams(s: string, params: Param[]): number {
  const i = skipLws(s, 0);
  const [delta, end] = scanUint32(s, i, 'delta-seconds');
  expectEnd(s, parseParams(s, end, params));
  return delta;
}

export function parseSessionExpires(s: string): SessionExpires {
  const params: Param[] = [];
  const deltaSeconds = parseDeltaAndParams(s, params);
  rejectDuplicates(params, ['refresher'], 0);
  const out: SessionExpires = { deltaSeconds, params };
  const refresher = getParam(params, 'refresher');
  if (refresher !== undefined) {
    const r = refresher?.toLowerCase();
    if (r !== 'uac' && r !== 'uas') return fail('refresher must be "uac" or "uas"', 0);
    out.refresher = r;
  }
  return out;
}

/** The Min-SE delta-seconds; extension parameters are parsed for syntax and dropped. */
export function parseMinSE(s: string): number {
  return parseDeltaAndParams(s, []);
}

export function formatSessionExpires(v: SessionExpires): string {
  return String(v.deltaSeconds) + formatParams(mergeParams(v.params, [['refresher', v.refresher]]));
}

export function formatMinSE(deltaSeconds: number): string {
  return String(deltaSeconds);
}
