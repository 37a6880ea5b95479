// Child process of archive/sigkill.test.ts: an archive ingesting as fast as it can, printing `ack <seq>` once each
// Batch's done() has fired. The parent SIGKILLs it at a random moment (mid-commit, mid-load, mid-checkpoint).
// argv: <dataDir> <firstSeq> <replaySeqs comma-separated or ->
import { silentLogger } from '../lib/log.js';
import { openArchive } from './archive.js';
import { openDuckDbStore } from './store/duckdb.js';
import { vitalsBatch } from './test-kit.js';

const [dataDir = '', first = '1', replay = '-'] = process.argv.slice(2);
const dev = { site: 'kill', gateway: 'gw', device: 'd1' };
const T0 = Date.UTC(2026, 2, 1) * 1000;
const batchOf = (seq: number) => vitalsBatch(dev, seq, T0 + seq * 1e6, { hr: 40 + (seq % 100), spo2: 90 + (seq % 10) });
const store = await openDuckDbStore({ dir: dataDir, logger: silentLogger() });
const archive = await openArchive({
  dataDir,
  store,
  logger: silentLogger(),
  tuning: { commitDelayMs: 2, loadIntervalMs: 15, loadBatchSize: 64, checkpointRows: 200, checkpointIntervalMs: 100 },
});
process.stdout.write('ready\n');
// A gateway replaying Batches it had sent before the crash (its PUBACK lost): stored once.
for (const s of replay === '-' ? [] : replay.split(',').map(Number)) {
  const p = batchOf(s);
  archive.append(p.topic, p.payload, (err) => {
    if (!err) process.stdout.write(`ack ${s}\n`);
  });
}
let seq = Number(first);
for (;;) {
  for (let k = 0; k < 16; k++) {
    const s = seq++;
    const p = batchOf(s);
    archive.append(p.topic, p.payload, (err) => {
      if (!err) process.stdout.write(`ack ${s}\n`);
    });
  }
  await new Promise((r) => setTimeout(r, 1));
}
