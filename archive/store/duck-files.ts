// The embedded store's Parquet files: how a checkpoint turns the hot rows into files, and how a day's files are merged.
//
// A checkpoint writes one file per table and UTC day, holding every site, sorted by site, gateway, device and time:
// a central of 1,000 sites writes a handful of files per checkpoint instead of one per site (2,000 files took 70 % of
// the ingest time, measured), and the sort keeps one device's rows in few row groups, whose min/max statistics let a
// query read only those. Files of one table and day are merged in tiers: once FAN_IN files of one level exist, they
// become one file of the next level (each row is rewritten about log8(files per day) times, and a day holds a few
// files per level). Every file is fsynced, moved into place and its directories fsynced before the manifest names it;
// merged files are deleted only one checkpoint later, so a reader in another process that listed them a moment ago
// (an export beside the running central) still finds them.
import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { syncDir } from '../../lib/framed-records.js';
import { TABLE_NAMES, TABLES, type TableName } from '../schema.js';
import { writeManifest, type Manifest, type ParquetFile } from './manifest.js';

/** Files of one level and day that are merged into one of the next level. */
export const FAN_IN = 8;
const DAY_US = 86_400_000_000;

export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The sort order of a table's files: what it has of site, gateway, device, then time. */
function orderOf(t: TableName): string {
  const names = new Set<string>(TABLES[t].map(([n]) => n));
  return ['site', 'gateway', 'device', 't_us'].filter((n) => names.has(n)).join(', ');
}

export const dayStartUs = (day: string): number => Date.parse(`${day}T00:00:00Z`) * 1000;

interface Written {
  file: ParquetFile;
  from: string;
  to: string;
}

export class ParquetFiles {
  /** Files merged away, deleted at the next checkpoint. */
  private retired: string[] = [];

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly pqDir: string,
    private manifestNow: () => Manifest,
    private readonly setManifest: (m: Manifest) => void,
  ) {}

  private get staging(): string {
    return join(this.pqDir, '.staging');
  }

  /** COPYs a query's rows to a staging file; the file as it will be named once moved. */
  private async copy(t: TableName, day: string, level: number, select: string): Promise<Written | null> {
    const from = join(this.staging, `${randomUUID()}.parquet`);
    const r = await this.conn.runAndReadAll(
      `COPY (${select} ORDER BY ${orderOf(t)}) TO ${quoteLiteral(from)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const rows = Number(r.getRowObjectsJS()[0]?.['Count'] ?? 0);
    if (rows === 0) {
      await rm(from, { force: true });
      return null;
    }
    const to = join(this.pqDir, t, `day=${day}`, `${randomUUID()}.parquet`);
    return { from, to, file: { table: t, day, level, rows, path: relative(this.pqDir, to) } };
  }

  /** fsync each file, move it into place, fsync every directory touched: after this, the manifest may name them. */
  private async install(ws: readonly Written[]): Promise<void> {
    await inParallel(ws, async (w) => {
      const fh = await open(w.from, 'r');
      await fh.sync().finally(() => fh.close());
      await mkdir(dirname(w.to), { recursive: true, mode: 0o700 });
      await rename(w.from, w.to);
    });
    const dirs = new Set<string>();
    for (const w of ws) for (let d = dirname(w.to); d.length > this.pqDir.length; d = dirname(d)) dirs.add(d);
    await inParallel([...dirs, this.pqDir], syncDir);
  }

  private async fresh(): Promise<void> {
    await rm(this.staging, { recursive: true, force: true });
    await mkdir(this.staging, { recursive: true, mode: 0o700 });
  }

  /**
   * Writes the hot rows (views h_<table>) as files, one per table and day, and names them in the manifest.
   * Returns the files written. The caller empties the hot tables afterwards.
   */
  async checkpoint(): Promise<ParquetFile[]> {
    await this.fresh();
    const written: Written[] = [];
    for (const t of TABLE_NAMES) {
      const days = await this.conn.runAndReadAll(
        `SELECT DISTINCT strftime(make_timestamp(t_us::BIGINT), '%Y-%m-%d') AS day FROM h_${t}_n`,
      );
      for (const row of days.getRowObjectsJS()) {
        const day = row['day'] as string;
        const lo = dayStartUs(day);
        const w = await this.copy(t, day, 0, `SELECT * FROM h_${t} WHERE t_us >= ${lo} AND t_us < ${lo + DAY_US}`);
        if (w) written.push(w);
      }
    }
    await this.install(written);
    const added = written.map((w) => w.file);
    this.setManifest({ v: 1, files: [...this.manifestNow().files, ...added] });
    await writeManifest(this.pqDir, this.manifestNow());
    // What the previous checkpoint's merges retired: no reader can still be reading it.
    const old = this.retired;
    this.retired = [];
    for (const p of old) await unlink(p).catch(() => undefined);
    await rm(this.staging, { recursive: true, force: true });
    return added;
  }

  /** Merges FAN_IN files of one table, day and level into one of the next level, while any group has that many. */
  async compact(): Promise<number> {
    let merges = 0;
    for (;;) {
      const groups = new Map<string, ParquetFile[]>();
      for (const f of this.manifestNow().files) {
        const k = `${f.table}|${f.day}|${f.level ?? 0}`;
        const g = groups.get(k);
        if (g) g.push(f);
        else groups.set(k, [f]);
      }
      const due = [...groups.values()].find((g) => g.length >= FAN_IN);
      if (!due) return merges;
      const first = due[0] as ParquetFile;
      const parts = due.slice(0, FAN_IN);
      await this.fresh();
      const w = await this.copy(
        first.table,
        first.day,
        (first.level ?? 0) + 1,
        `SELECT ${TABLES[first.table].map(([n]) => n).join(', ')} FROM read_parquet([${parts.map((f) => quoteLiteral(join(this.pqDir, f.path))).join(', ')}])`,
      );
      if (w) await this.install([w]);
      const gone = new Set(parts.map((f) => f.path));
      this.setManifest({
        v: 1,
        files: [...this.manifestNow().files.filter((f) => !gone.has(f.path)), ...(w ? [w.file] : [])],
      });
      await writeManifest(this.pqDir, this.manifestNow());
      this.retired.push(...parts.map((f) => join(this.pqDir, f.path)));
      await rm(this.staging, { recursive: true, force: true });
      merges++;
    }
  }
}

export async function inParallel<T>(items: readonly T[], fn: (x: T) => Promise<void>, width = 32): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}
