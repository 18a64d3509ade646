/**
 * What SqliteStore (sqlite.ts) and its worker (sqlite-worker.ts) say to each other over a
 * MessagePort: calls of SqliteEngine methods by name, and replies carrying the value or a
 * plain-data error that is turned back into the store's typed errors on the caller's side.
 */
import type { SqliteEngine, SqliteEngineOptions } from './sqlite-engine.js';
import { LATEST_SCHEMA_VERSION, SchemaTooNewError } from './sqlite-migrations.js';
import { NoSuchHistoryError, StoreClosedError, StoreOverloadedError } from './types.js';

export const STORE_METHODS = [
  'createHistory',
  'updateHistory',
  'addSipEvent',
  'addConferenceNotification',
  'getHistory',
  'listHistories',
  'sipEvents',
  'conferenceNotifications',
  'addMessage',
  'messages',
  'addRosterEvent',
  'rosterEvents',
  'participants',
  'searchMessages',
  'historiesVisibleTo',
  'deleteHistory',
  'close',
  'integrityCheck',
  'schemaVersion',
  'writeStats',
] as const satisfies readonly (keyof SqliteEngine)[];

export type StoreMethod = (typeof STORE_METHODS)[number];

export interface Call {
  id: number;
  method: StoreMethod;
  args: unknown[];
}

export interface WireError {
  name: string;
  message: string;
  historyId?: string;
  queued?: number;
  found?: number;
}

export interface Reply {
  id: number;
  value?: unknown;
  error?: WireError;
}

export interface WorkerInit {
  path: string;
  options: SqliteEngineOptions;
}

export type WorkerHello = { ready: true } | { ready: false; error: WireError };

export function toWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const w: WireError = { name: e.name, message: e.message };
  if (e instanceof NoSuchHistoryError) w.historyId = e.historyId;
  if (e instanceof StoreOverloadedError) w.queued = e.queued;
  if (e instanceof SchemaTooNewError) w.found = e.found;
  return w;
}

export function fromWire(w: WireError): Error {
  switch (w.name) {
    case 'NoSuchHistoryError':
      return new NoSuchHistoryError(w.historyId ?? '');
    case 'StoreOverloadedError':
      return new StoreOverloadedError(w.queued ?? 0);
    case 'StoreClosedError':
      return new StoreClosedError();
    case 'SchemaTooNewError':
      return new SchemaTooNewError(w.found ?? 0, LATEST_SCHEMA_VERSION);
    default: {
      const e = new Error(w.message);
      e.name = w.name;
      return e;
    }
  }
}

/** A Buffer sent through a MessagePort arrives as a plain Uint8Array: view it as a Buffer again (no copy). */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
