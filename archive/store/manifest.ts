// The embedded store's list of live Parquet files. A file counts only once the manifest names it; the manifest is
// replaced atomically (write, fsync, rename, fsync the directory), so a crash leaves either the old list or the new,
// never half of one. Files on disk that the manifest does not name are leftovers of an interrupted checkpoint.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir } from '../../lib/framed-records.js';
import type { TableName } from '../schema.js';

export interface ParquetFile {
  table: TableName;
  /** UTC day of the rows' t_us, YYYY-MM-DD. */
  day: string;
  /** Merge tier: 0 for a checkpoint's file, n + 1 for FAN_IN files of level n merged (duck-files.ts). */
  level?: number;
  rows?: number;
  /** Relative to the parquet directory. */
  path: string;
}

export interface Manifest {
  v: 1;
  files: ParquetFile[];
}

export const MANIFEST = 'manifest.json';

export async function readManifest(dir: string): Promise<Manifest> {
  try {
    const m = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Partial<Manifest>;
    if (m.v !== 1 || !Array.isArray(m.files)) throw new Error(`unknown manifest version in ${dir}`);
    return { v: 1, files: m.files };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { v: 1, files: [] };
    throw err;
  }
}

export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `${MANIFEST}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(m));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, MANIFEST));
  await syncDir(dir);
}

/** UTC day of a microsecond time. */
export function dayOf(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 10);
}
