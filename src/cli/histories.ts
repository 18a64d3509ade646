/**
 * `im-history histories ...`: read access to the recorded histories in the store the
 * configuration names. `--as <aor>` applies the per-user visibility rule (a user sees the
 * histories they own or took part in); without it the operator sees everything.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { SqliteStore } from '../store/sqlite.js';
import { openStore } from '../store/open.js';
import type { HistoryRecord, HistoryStore } from '../store/types.js';
import { formatTranscript } from '../history/transcript.js';
import { exportHistory, type ExportFormat } from '../history/export.js';

interface Common {
  config?: string;
  db?: string;
  as?: string;
}

export class CliError extends Error {
  override readonly name = 'CliError';
}

async function withStore<T>(o: Common, fn: (store: HistoryStore) => Promise<T>): Promise<T> {
  const config = loadConfig(o.config);
  const store = o.db !== undefined ? await SqliteStore.open(o.db) : (await openStore(config.store)).store;
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function visible(store: HistoryStore, o: Common): Promise<HistoryRecord[]> {
  return o.as === undefined ? store.listHistories() : store.historiesVisibleTo(o.as);
}

async function findOne(store: HistoryStore, o: Common, idOrName: string): Promise<HistoryRecord> {
  const all = await visible(store, o);
  const hits = all.filter((h) => h.id === idOrName || h.id.startsWith(idOrName) || h.name === idOrName);
  if (hits.length === 0) throw new CliError(`no history "${idOrName}"${o.as !== undefined ? ` visible to ${o.as}` : ''}`);
  if (hits.length > 1) throw new CliError(`"${idOrName}" matches ${hits.length} histories; give the id (im-history histories list)`);
  return hits[0]!;
}

function when(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function addHistoryCommands(program: Command): void {
  const h = program.command('histories').description('list, show, search, export and delete recorded histories');
  const common = (c: Command) =>
    c
      .option('-c, --config <file>', 'JSON configuration file (for its store: SQLite store.path or store.postgres)')
      .option('--db <file>', 'SQLite database file (overrides the configured store)')
      .option('--as <aor>', 'act as this user: only histories they own or took part in');

  common(h.command('list').description('list histories, newest first'))
    .option('--json', 'print JSON')
    .action(async (o: Common & { json?: boolean }) => {
      const list = await withStore(o, (s) => visible(s, o));
      list.sort((a, b) => b.createdAt - a.createdAt);
      if (o.json === true) return void console.log(JSON.stringify(list, null, 2));
      if (list.length === 0) return void console.log('no histories');
      console.log(['id', 'name', 'owner', 'state', 'started', 'ended'].join('\t'));
      for (const r of list) console.log([r.id.slice(0, 8), r.name, r.owner, r.state, when(r.startedAt), when(r.endedAt)].join('\t'));
    });

  common(h.command('show').description('print one history as a transcript').argument('<id-or-name>'))
    .action(async (idOrName: string, o: Common) => {
      const text = await withStore(o, async (s) => {
        const r = await findOne(s, o, idOrName);
        return formatTranscript({ history: r, messages: await s.messages(r.id), participants: await s.participants(r.id) });
      });
      process.stdout.write(text);
    });

  common(h.command('search').description('full-text search of message text').argument('<words...>'))
    .option('-n, --limit <n>', 'most hits', '50')
    .action(async (words: string[], o: Common & { limit: string }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliError('--limit must be an integer from 1 to 1000');
      const hits = await withStore(o, (s) => s.searchMessages({ text: words.join(' '), limit, ...(o.as !== undefined ? { participant: o.as } : {}) }));
      if (hits.length === 0) return void console.log('no matches');
      for (const x of hits) console.log(`${x.historyId.slice(0, 8)} #${x.seq} ${when(x.at)} ${x.sender}: ${x.snippet}`);
    });

  common(h.command('export').description('write histories to files below the export directory').argument('[id-or-name]'))
    .option('-o, --out <dir>', 'export directory', './exports')
    .option('-f, --format <format>', 'text or json', 'text')
    .option('--all', 'export every history you can see (with a progress bar on a terminal)')
    .action(async (idOrName: string | undefined, o: Common & { out: string; format: string; all?: boolean }) => {
      if (o.format !== 'text' && o.format !== 'json') throw new CliError('--format must be text or json');
      if ((idOrName === undefined) === (o.all !== true)) throw new CliError('give one history (id or name) or --all');
      const format = o.format as ExportFormat;
      await withStore(o, async (s) => {
        const targets = o.all === true ? await visible(s, o) : [await findOne(s, o, idOrName!)];
        const bar = progress(targets.length);
        for (const t of targets) {
          const path = await exportHistory(s, t.id, o.out, format);
          bar.clear();
          console.log(path);
          bar.tick();
        }
        bar.done();
      });
    });

  common(h.command('delete').description('delete a history and everything recorded in it').argument('<id-or-name>'))
    .option('--yes', 'do not ask (required)')
    .action(async (idOrName: string, o: Common & { yes?: boolean }) => {
      if (o.yes !== true) throw new CliError('deleting is permanent: add --yes');
      const r = await withStore(o, async (s) => {
        const rec = await findOne(s, o, idOrName);
        await s.deleteHistory(rec.id);
        return rec;
      });
      console.log(`deleted ${r.id} (${r.name})`);
    });
}

/** A progress bar on stderr when it is a terminal; silent otherwise (scripts, pipes, tests). */
function progress(total: number): { tick(): void; clear(): void; done(): void } {
  const tty = process.stderr.isTTY === true && total > 1;
  let n = 0;
  const draw = () => {
    const width = 30;
    const filled = Math.round((n / total) * width);
    process.stderr.write(`\rexporting ${n}/${total} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`);
  };
  if (tty) draw();
  return {
    tick() {
      n++;
      if (tty) draw();
    },
    clear() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}
