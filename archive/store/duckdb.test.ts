// The shared archive store suite on the embedded store (DuckDB in process, Parquet files in a temporary data dir).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/log.js';
import { openDuckDbStore } from './duckdb.js';
import { archiveStoreSuite } from './suite.js';

let dir = '';
archiveStoreSuite('duckdb + parquet', {
  async open() {
    dir = await mkdtemp(join(tmpdir(), 'vw-archive-duck-'));
    return openDuckDbStore({ dir, logger: silentLogger() });
  },
  async reopen(s) {
    await s.close();
    return openDuckDbStore({ dir, logger: silentLogger() });
  },
  async cleanup() {
    await rm(dir, { recursive: true, force: true });
  },
});
