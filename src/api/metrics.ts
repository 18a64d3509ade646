/**
 * Prometheus metrics of the History Function (prom-client). One Registry per process (or per
 * test), made by createMetrics(); the HTTP API exposes `registry` at GET /metrics and the
 * History Function updates the instruments:
 *
 *   im_history_refers_total{outcome}       REFERs by outcome: accepted, or the refusal status (403, 400, 503, ...)
 *   im_history_active_sessions             recorded IM sessions now running (gauge)
 *   im_history_messages_recorded_total     messages committed to the store
 *   im_history_sip_retransmissions_total   SIP retransmissions sent by the transaction layer
 *   im_history_store_write_seconds         time a store write takes to commit (histogram)
 *
 * plus prom-client's default Node process metrics (CPU, memory, event-loop lag, GC, handles).
 *
 * Two ways to feed a value: push (`referOutcome('accepted')`, `messagesRecorded.inc()`,
 * `timeStoreWrite(() => store.addMessage(...))`) or pull — `trackActiveSessions(() => n)` and
 * `trackRetransmissions(() => total)` register a callback read at scrape time, so the
 * History Function's session set and the transaction layer's cumulative counters need no
 * hooks of their own.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_NAMES = {
  refers: 'im_history_refers_total',
  activeSessions: 'im_history_active_sessions',
  messagesRecorded: 'im_history_messages_recorded_total',
  sipRetransmissions: 'im_history_sip_retransmissions_total',
  storeWriteSeconds: 'im_history_store_write_seconds',
} as const;

/** The outcome label of im_history_refers_total: 'accepted' or a SIP refusal status. */
export type ReferOutcome = 'accepted' | '400' | '403' | '404' | '420' | '488' | '503' | (string & {});

export interface MetricsOptions {
  /** Collect prom-client's default Node process metrics (default true). */
  defaultMetrics?: boolean;
  /** Labels put on every series (e.g. { instance: 'hf-1' }). */
  defaultLabels?: Record<string, string>;
}

export interface HistoryMetrics {
  readonly registry: Registry;
  readonly refers: Counter<'outcome'>;
  readonly activeSessions: Gauge;
  readonly messagesRecorded: Counter;
  readonly sipRetransmissions: Counter;
  readonly storeWriteSeconds: Histogram<'op'>;
  /** Count one REFER with its outcome ('accepted' or the refusal status, e.g. 403). */
  referOutcome(outcome: ReferOutcome | number): void;
  /** Run a store write and observe how long it took to settle (resolved or rejected). */
  timeStoreWrite<T>(op: string, write: () => Promise<T>): Promise<T>;
  /** Read the active session count at every scrape (e.g. () => historyFunction.sessions.size). */
  trackActiveSessions(source: () => number): void;
  /**
   * Read a cumulative retransmission total at every scrape (e.g. () =>
   * transactionLayer.stats.retransmissionsSent); the counter follows it (never decreases).
   */
  trackRetransmissions(source: () => number): void;
}

export function createMetrics(opts: MetricsOptions = {}): HistoryMetrics {
  const registry = new Registry();
  if (opts.defaultLabels !== undefined) registry.setDefaultLabels(opts.defaultLabels);
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  let sessionsSource: (() => number) | undefined;
  let retransmissionSource: (() => number) | undefined;
  let retransmissionsSeen = 0;

  const refers = new Counter({
    name: METRIC_NAMES.refers,
    help: 'REFERs received by the History Function, by outcome (accepted or the SIP refusal status)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const activeSessions = new Gauge({
    name: METRIC_NAMES.activeSessions,
    help: 'IM sessions being recorded now',
    registers: [registry],
    collect() {
      if (sessionsSource !== undefined) this.set(sessionsSource());
    },
  });
  const messagesRecorded = new Counter({
    name: METRIC_NAMES.messagesRecorded,
    help: 'IM messages committed to the history store',
    registers: [registry],
  });
  const sipRetransmissions = new Counter({
    name: METRIC_NAMES.sipRetransmissions,
    help: 'SIP requests, responses and ACKs retransmitted by the transaction layer',
    registers: [registry],
    collect() {
      if (retransmissionSource === undefined) return;
      const total = retransmissionSource();
      if (total > retransmissionsSeen) {
        this.inc(total - retransmissionsSeen);
        retransmissionsSeen = total;
      }
    },
  });
  const storeWriteSeconds = new Histogram({
    name: METRIC_NAMES.storeWriteSeconds,
    help: 'Time a history store write takes to commit, by operation',
    labelNames: ['op'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  return {
    registry,
    refers,
    activeSessions,
    messagesRecorded,
    sipRetransmissions,
    storeWriteSeconds,
    referOutcome(outcome) {
      refers.inc({ outcome: String(outcome) });
    },
    async timeStoreWrite(op, write) {
      const end = storeWriteSeconds.startTimer({ op });
      try {
        return await write();
      } finally {
        end();
      }
    },
    trackActiveSessions(source) {
      sessionsSource = source;
    },
    trackRetransmissions(source) {
      retransmissionSource = source;
      retransmissionsSeen = 0;
    },
  };
}
