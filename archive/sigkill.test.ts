// A central's archive SIGKILLed mid-write, three times, then reopened: every Batch whose done() fired is stored, with
// its values, exactly once; Batches re-sent after a restart (a gateway whose PUBACK was lost) are not stored twice.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { openArchive } from './archive.js';
import { openDuckDbStore } from './store/duckdb.js';

const root = join(import.meta.dirname, '..');
let dir = '';

/** Runs the child until `acks` more acknowledgements arrive, then SIGKILLs it; returns the acknowledged seqs. */
function runAndKill(first: number, replay: number[], acks: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [
        join(root, 'bin/run-ts.mjs'),
        join(root, 'archive/sigkill-child.ts'),
        dir,
        String(first),
        replay.length ? replay.join(',') : '-',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const acked: number[] = [];
    let buf = '';
    let err = '';
    let killed = false;
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
      }
      if (!killed && acked.length >= acks) {
        killed = true;
        c.kill('SIGKILL');
      }
    });
    c.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

describe('archive: SIGKILL mid-write', () => {
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged Batch exactly once across three kills and replays', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-archive-kill-'));
    const acked = new Set<number>();
    let next = 1;
    let replay: number[] = [];
    for (const acks of [700, 1500, 400]) {
      const got = await runAndKill(next, replay, acks);
      for (const s of got) acked.add(s);
      const max = Math.max(...got);
      // The next run starts past anything the killed one may have made durable without reporting it.
      next = max + 2000;
      replay = got.filter((_, i) => i % 97 === 0).slice(0, 20);
    }
    expect(acked.size).toBeGreaterThan(2000);
    const store = await openDuckDbStore({ dir, logger: silentLogger() });
    const a = await openArchive({ dataDir: dir, store, logger: silentLogger() });
    await a.flush();
    const rows = await store.sql.all(
      `SELECT seq, mdc, value_number FROM ${store.sql.from('obs')} t WHERE device = 'd1'`,
    );
    const bySeq = new Map<number, { mdc: number; v: number }[]>();
    for (const r of rows) {
      const s = r['seq'] as number;
      if (!bySeq.has(s)) bySeq.set(s, []);
      bySeq.get(s)!.push({ mdc: r['mdc'] as number, v: r['value_number'] as number });
    }
    const missing = [...acked].filter((s) => !bySeq.has(s));
    expect(missing).toEqual([]);
    for (const [s, obs] of bySeq) {
      // Exactly once: one heart rate and one SpO2 per Batch, with the values that Batch carried.
      expect(obs.sort((x, y) => x.mdc - y.mdc)).toEqual([
        { mdc: 147842, v: 40 + (s % 100) },
        { mdc: 150456, v: 90 + (s % 10) },
      ]);
    }
    const [b] = await store.sql.all(
      `SELECT count(*) AS n, count(DISTINCT seq) AS d FROM ${store.sql.from('batch')} t WHERE device = 'd1'`,
    );
    expect(b?.['n']).toBe(b?.['d']);
    await a.close();
  }, 120_000);
});
