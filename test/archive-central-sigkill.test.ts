// The central's clinical record under SIGKILL: a real `vitalwire central` process (the compiled CLI, with an `archive`
// section) killed twice mid-stream while a gateway client publishes QoS 1 Batches over TLS and resends what was not
// acknowledged after each reconnect. Afterwards the archive holds every acknowledged Batch exactly once, with its
// values: the PUBACK waited for the journal's fdatasync (docs/archive.md "Durability").
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { openArchiveReader, readArchiveConfig } from '../archive/config.js';
import { vitalsBatch } from '../archive/test-kit.js';
import { makeTestPki, startCentralProcess, until } from '../broker/test-kit.js';
import { freePort } from '../lib/listen.js';
import { silentLogger } from '../lib/log.js';

const dev = { site: 'site1', gateway: 'gw1', device: 'mon1' };
const T0 = Date.UTC(2026, 2, 1) * 1000;
const N = 1500;
const batchOf = (seq: number) => vitalsBatch(dev, seq, T0 + seq * 1e6, { hr: 40 + (seq % 100), spo2: 90 + (seq % 10) });

let dir = '';

/** The child processes of a process (any of its threads), by /proc. */
const childrenOf = (pid: number): number[] =>
  readdirSync(`/proc/${pid}/task`).flatMap((t) =>
    readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('central archive: SIGKILL of the central mid-stream', () => {
  it('keeps every Batch a gateway got a PUBACK for, exactly once, across two kills and the resends', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-central-kill-'));
    const pki = await makeTestPki(join(dir, 'pki'));
    const port = await freePort();
    const cfg = join(dir, 'central.yaml');
    await writeFile(
      cfg,
      [
        `listen: { host: 127.0.0.1, port: ${port} }`,
        `tls: { ca: ${pki.brokerFiles.ca}, cert: ${pki.brokerFiles.cert}, key: ${pki.brokerFiles.key} }`,
        // Loads and checkpoints often, so the kills land in every phase: mid-commit, mid-load, mid-checkpoint.
        'archive: { dataDir: archive, loader: { intervalMs: 20, batchSize: 50 }, checkpoint: { intervalMs: 1000, rows: 1000 } }',
        'log: { level: warn }',
        '',
      ].join('\n'),
    );
    let central = await startCentralProcess(['--config', cfg]);
    const gw: MqttClient = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
      ca: pki.caPem,
      cert: pki.site1gw1.certPem,
      key: pki.site1gw1.keyPem,
      clientId: 'site1/gw1',
      protocolVersion: 4,
      // Unacknowledged QoS 1 messages stay in mqtt.js' outgoing store and go again after each reconnect.
      reconnectPeriod: 100,
      connectTimeout: 5000,
    });
    gw.on('error', () => undefined);
    const acked = new Set<number>();
    let next = 1;
    const pump = (): void => {
      // At most 64 in flight, as a gateway's outbox window.
      while (next <= N && next - acked.size <= 64) {
        const seq = next++;
        const p = batchOf(seq);
        gw.publish(p.topic, p.payload, { qos: 1 }, (err) => {
          if (err) return;
          acked.add(seq);
          pump();
        });
      }
    };
    pump();
    try {
      for (const at of [300, 900]) {
        await until(() => acked.size >= at, 60_000, `${at} acknowledgements`);
        const loaders = childrenOf(central.child.pid ?? 0);
        expect(loaders).toHaveLength(1); // the archive's loader process
        central.child.kill('SIGKILL');
        await new Promise((r) => central.child.once('exit', r));
        // The loader goes with the central (its IPC channel closed): it never writes beside the next one.
        await until(() => loaders.every((p) => !existsSync(`/proc/${p}`)), 10_000, 'the loader process gone');
        central = await startCentralProcess(['--config', cfg]);
      }
      await until(() => acked.size === N, 90_000, 'every Batch acknowledged');
    } finally {
      await gw.endAsync(true).catch(() => undefined);
      await central.stop();
    }

    const archive = await openArchiveReader(await readArchiveConfig(cfg), silentLogger());
    try {
      const store = archive.store;
      const rows = await store.sql.all(
        `SELECT seq, mdc, value_number FROM ${store.sql.from('obs')} t WHERE device = 'mon1' ORDER BY seq, mdc`,
      );
      const bySeq = new Map<number, [number, number][]>();
      for (const r of rows) {
        const s = r['seq'] as number;
        bySeq.set(s, [...(bySeq.get(s) ?? []), [r['mdc'] as number, r['value_number'] as number]]);
      }
      expect([...acked].filter((s) => !bySeq.has(s))).toEqual([]);
      expect(bySeq.size).toBe(N);
      // Exactly once, with that Batch's values: MDC_ECG_CARD_BEAT_RATE 147842 and MDC_PULS_OXIM_SAT_O2 150456.
      for (const [s, obs] of bySeq)
        expect(obs).toEqual([
          [147842, 40 + (s % 100)],
          [150456, 90 + (s % 10)],
        ]);
      const [b] = await store.sql.all(
        `SELECT count(*) AS n, count(DISTINCT seq) AS d FROM ${store.sql.from('batch')} t WHERE device = 'mon1'`,
      );
      expect(b).toEqual({ n: N, d: N });
    } finally {
      await archive.close();
    }
  }, 240_000);
});
