// The `archive` section of the central's configuration file, validated once (every problem reported with its path),
// and the functions that build the archive from it: the writer the central runs, and the reader the export and
// bind commands use beside it. docs/archive.md documents each key.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { VitalwireError } from '../lib/errors.js';
import { formatOf, parseConfigText, validateConfig, type DeepReadonly } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { openArchive, type Archive } from './archive.js';
import { openFileAudit, type AuditLog } from './audit.js';
import { openDuckDbStore } from './store/duckdb.js';
import { openPostgresStore } from './store/postgres.js';
import { openLoaderArchive } from './loader-client.js';
import type { ArchiveStore } from './store/types.js';

const int = (min: number, max: number, def: number) => z.number().int().min(min).max(max).default(def);

export const archiveConfigSchema = z
  .strictObject({
    /** Journal, and for the embedded store its Parquet files, audit and keys. Relative to the config file. */
    dataDir: z.string().min(1),
    store: z.enum(['duckdb', 'postgres']).default('duckdb'),
    postgres: z
      .strictObject({
        url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/)
          .default('vitalwire'),
        poolSize: int(1, 100, 4),
      })
      .optional(),
    journal: z
      .strictObject({
        commitDelayMs: int(0, 1000, 5),
        commitMaxBytes: int(4096, 1 << 30, 1 << 20),
        maxBytes: int(1 << 20, 2 ** 50, 4 * 1024 ** 3),
      })
      .prefault({}),
    loader: z
      .strictObject({
        intervalMs: int(10, 60_000, 1000),
        batchSize: int(1, 100_000, 2000),
        /** Niceness of the loader process: on a busy machine the broker goes first. */
        nice: int(0, 19, 19),
        /** Broker event-loop utilization (0-1) above which loads wait, up to maxDeferMs; 1: never wait. */
        deferAbove: z.number().min(0).max(1).default(0.5),
        maxDeferMs: int(0, 3_600_000, 60_000),
      })
      .prefault({}),
    /** Embedded store: how often rows go to Parquet (and the journal is trimmed). */
    checkpoint: z
      .strictObject({
        intervalMs: int(1000, 86_400_000, 600_000),
        rows: int(1000, 1e9, 2_000_000),
      })
      .prefault({}),
    /** Days each kind of data is kept; the purge runs daily and is audited. Set them to what local law requires. */
    retention: z
      .strictObject({
        obsDays: int(1, 36_500, 3650),
        waveDays: int(1, 36_500, 30),
        alarmDays: int(1, 36_500, 3650),
        statusDays: int(1, 36_500, 365),
        gapDays: int(1, 36_500, 3650),
      })
      .prefault({}),
    fhir: z
      .strictObject({
        /** Identifier system URI of patient ids (the hospital's MRN system), for Observation.subject. */
        patientSystem: z.string().min(1).optional(),
        encounterSystem: z.string().min(1).optional(),
        /** PCD-01 PID-3 assigning authority. */
        patientAuthority: z.string().min(1).optional(),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.store === 'postgres' && !c.postgres)
      ctx.addIssue({ code: 'custom', path: ['postgres'], message: 'required when store is postgres' });
  });

export type ArchiveConfig = DeepReadonly<z.output<typeof archiveConfigSchema>>;

/** Validates the parsed `archive` section of a central config (paths resolved against configDir). */
export function archiveConfigFromSection(section: unknown, configDir: string, source = 'archive'): ArchiveConfig {
  const c = validateConfig(archiveConfigSchema, section, source);
  return { ...c, dataDir: resolve(configDir, c.dataDir) };
}

/** Reads a central config file and returns its validated `archive` section (the export and bind commands' --config). */
export async function readArchiveConfig(file: string): Promise<ArchiveConfig> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new VitalwireError(
      'VW_ERR_CONFIG',
      `${abs}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  const doc = parseConfigText(text, formatOf(abs), abs) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object' || doc['archive'] === undefined)
    throw new VitalwireError('VW_ERR_CONFIG', `${abs}: no archive section`);
  return archiveConfigFromSection(doc['archive'], join(abs, '..'), `${abs} archive`);
}

/** The config of a bare embedded archive directory (--data-dir): every default. */
export function dataDirConfig(dir: string): ArchiveConfig {
  return archiveConfigFromSection({ dataDir: dir }, process.cwd());
}

/** The store a config names (the central's worker opens it there; the export and bind commands here). */
export async function openStore(c: ArchiveConfig, logger: Logger, readOnly: boolean): Promise<ArchiveStore> {
  if (c.store === 'postgres' && c.postgres) {
    return openPostgresStore({ url: c.postgres.url, schema: c.postgres.schema, poolSize: c.postgres.poolSize, logger });
  }
  return openDuckDbStore({ dir: c.dataDir, logger, readOnly });
}

/**
 * The archive a central runs: the broker appends to its journal; its loader, checkpoints, retention and queries run in
 * a loader process at a lower priority (loader-client.ts).
 */
export async function openArchiveFromConfig(
  c: ArchiveConfig,
  logger: Logger,
  /** Tests: the broker's utilization as the loader's pacing sees it, and how often it looks. */
  pacing?: { busy: () => number; paceMs: number },
): Promise<Archive> {
  return openLoaderArchive({
    config: c,
    logger,
    ...(pacing ? { pacing } : {}),
    nice: c.loader.nice,
    tuning: {
      commitDelayMs: c.journal.commitDelayMs,
      commitMaxBytes: c.journal.commitMaxBytes,
      journalMaxBytes: c.journal.maxBytes,
      loadIntervalMs: c.loader.intervalMs,
      loadBatchSize: c.loader.batchSize,
      loadDeferAbove: c.loader.deferAbove,
      loadMaxDeferMs: c.loader.maxDeferMs,
      checkpointIntervalMs: c.checkpoint.intervalMs,
      checkpointRows: c.checkpoint.rows,
    },
  });
}

/**
 * The archive as another process sees it while the central runs: the store's files or tables, plus (embedded store)
 * the journal's records not yet checkpointed, loaded in memory. Writes nothing.
 */
export async function openArchiveReader(c: ArchiveConfig, logger: Logger): Promise<Archive> {
  const store = await openStore(c, logger, true);
  return openArchive({ dataDir: c.dataDir, store, logger, readOnly: true });
}

/** The audit store alone (bindings), without opening the data. */
export async function openAudit(
  c: ArchiveConfig,
  logger: Logger,
): Promise<{ audit: AuditLog; close(): Promise<void> }> {
  if (c.store === 'postgres') {
    const s = await openStore(c, logger, false);
    return { audit: s.audit, close: () => s.close() };
  }
  const audit = openFileAudit({ dir: join(c.dataDir, 'audit') });
  return { audit, close: () => audit.close() };
}

/** The site secret for keyed pseudonyms (HMAC-SHA256): 32 random bytes in <dataDir>/deidentify.key, mode 0600. */
export async function loadOrCreateSiteSecret(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, 'deidentify.key');
  try {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new VitalwireError('VW_ERR_CONFIG', `${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64'); // another process made it first
  }
}
