// The central side's composition root: one validated config in; the archive (archive/), the MQTT broker (broker/) and
// the dashboard fan-out (fanout/) built and wired here, and closed in reverse order. The archive is the clinical
// record: the broker hands it every Batch it accepts on a stream topic and holds the PUBACK until the archive's journal
// has it on disk (docs/archive.md "Durability"). Every entry point builds the central side through
// this function: `vitalwire central` in its three modes (config file, development, lab), the demo stack
// (cli/stack.ts) that the end-to-end tests and benches run, and the test rigs. What the config only names (TLS files,
// the users file, the revocation list, the fan-out's key and audit) is opened here; `parts` replaces any of it with an
// object built elsewhere (the demo's in-memory users, a test's memory audit).
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Archive } from '../archive/archive.js';
import { archiveConfigFromSection, openArchiveFromConfig, type ArchiveConfig } from '../archive/config.js';
import { bundleDashboard } from '../dashboard/bundle.js';
import type { Logger } from '../lib/log.js';
import { boundedMemo } from '../lib/bounded-memo.js';
import { parseStreamTopic } from '../lib/topics.js';
import { startBroker, type Broker } from '../broker/broker.js';
import { isLoopbackAddress } from '../broker/listeners.js';
import type { OnAccepted } from '../broker/hooks/authorize-publish.js';
import type { UserStore } from '../broker/users.js';
import type { AuditLog } from '../fanout/audit.js';
import { startFanout, type Asset, type Fanout, type FanoutOptions } from '../fanout/server.js';
import { fanoutSecurity } from '../fanout/setup.js';
import { brokerOptions, type CentralConfig } from './config.js';

export type { CentralConfig } from './config.js';

export interface CentralParts {
  /** Who may log in, to the broker and the dashboard; default: config `users.file`, else nobody. */
  users?: UserStore;
  /** The fan-out's access audit; default: files under `<dataDir>/audit`. */
  audit?: AuditLog;
  /** The dashboard's files; default: the bundle built from dashboard/ at start. */
  assets?: Map<string, Asset>;
  /** Clock for the broker's rate limits (tests). */
  now?: () => number;
  /** Fan-out settings the config file does not expose (tests: limits, ring sizes, Redis key prefix, clock). */
  fanout?: Omit<Partial<FanoutOptions>, 'broker' | 'users' | 'logger' | 'host' | 'port' | 'audit' | 'assets'>;
}

export interface CentralOptions {
  config: CentralConfig;
  /** Where the config's relative paths start (the config file's directory). */
  baseDir: string;
  logger: Logger;
  parts?: CentralParts;
}

export interface Central {
  readonly config: CentralConfig;
  /** Null when the config has no `archive` section. */
  readonly archive: Archive | null;
  readonly broker: Broker;
  /** Null when the config has no `fanout` section. */
  readonly fanout: Fanout | null;
  close(): Promise<void>;
}

/** The archive's validated config with its paths resolved, or null when the central keeps no record. */
export function archiveConfigOf(config: CentralConfig, baseDir: string): ArchiveConfig | null {
  return config.archive ? archiveConfigFromSection(config.archive, baseDir) : null;
}

/**
 * The broker's hook into the archive: Batches on stream topics (vw/v1/<site>/<gateway>/<device>/<kind>) are appended;
 * anything else the broker accepts (a user's own topics) is not clinical data and is acknowledged as before.
 */
export function archiveHook(archive: Archive): OnAccepted {
  // Whether a topic is a stream topic, remembered: a gateway publishes on a handful of topics, and parsing each
  // message's topic again was a tenth of what the archive adds to the broker's thread. Bounded: forgotten when full.
  const isStream = boundedMemo(STREAM_TOPICS_REMEMBERED, (topic) => parseStreamTopic(topic) !== null);
  return (topic, payload, done) => {
    if (!isStream.get(topic)) return done();
    archive.append(topic, payload, done);
  };
}

/** Topics archiveHook remembers as stream or not before it starts again. */
const STREAM_TOPICS_REMEMBERED = 16_384;

export async function startCentral(o: CentralOptions): Promise<Central> {
  const { config, logger: log } = o;
  const parts = o.parts ?? {};
  const opts = await brokerOptions(config, o.baseDir, { users: parts.users });
  // First: the journal's torn tail is repaired and what it held is loaded before the broker accepts anything new.
  const archiveCfg = archiveConfigOf(config, o.baseDir);
  const archive = archiveCfg ? await openArchiveFromConfig(archiveCfg, log.child({ svc: 'archive' })) : null;
  let broker: Broker;
  try {
    broker = await startBroker({
      ...opts,
      logger: log.child({ svc: 'broker' }),
      ...(parts.now ? { now: parts.now } : {}),
      ...(archive ? { onAccepted: archiveHook(archive) } : {}),
    });
  } catch (err) {
    await archive?.close();
    throw err;
  }
  let fanout: Fanout | null = null;
  let ownAudit: AuditLog | null = null;
  try {
    if (config.fanout) {
      const security = await fanoutSecurity({
        stateDir: resolve(o.baseDir, config.dataDir),
        users: opts.users,
        redisUrl: config.redis?.url,
        logger: log,
        ...(parts.audit ? { audit: parts.audit } : {}),
      });
      // An audit made here is closed here; one passed in belongs to the caller.
      if (!parts.audit) ownAudit = security.audit;
      const tls = config.fanout.tls;
      if (!tls && !isLoopbackAddress(config.fanout.host)) {
        log.warn(
          { event: 'fanout_plain_http', host: config.fanout.host },
          'dashboard served over plain HTTP beyond loopback: passwords and session tokens cross the network in clear (set fanout.tls)',
        );
      }
      fanout = await startFanout({
        ...security,
        ...parts.fanout,
        broker: broker.aedes,
        // One /metrics per central process: the fan-out's metrics go into the broker's registry (its health port).
        metrics: broker.metrics,
        host: config.fanout.host,
        port: config.fanout.port,
        ...(tls
          ? {
              tls: {
                cert: await readFile(resolve(o.baseDir, tls.cert)),
                key: await readFile(resolve(o.baseDir, tls.key)),
              },
            }
          : {}),
        assets: parts.assets ?? (await bundleDashboard()),
        logger: log.child({ svc: 'fanout' }),
        ...(archive && archiveCfg
          ? {
              records: {
                store: archive.store,
                fhir: {
                  patientSystem: archiveCfg.fhir.patientSystem,
                  encounterSystem: archiveCfg.fhir.encounterSystem,
                },
              },
            }
          : {}),
      });
    }
  } catch (err) {
    await ownAudit?.close();
    await broker.close();
    await archive?.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    config,
    archive,
    broker,
    fanout,
    close: () =>
      (closing ??= (async () => {
        await fanout?.close();
        await ownAudit?.close();
        await broker.close();
        // After the broker: nothing appends any more; what is staged is committed, what is loaded stays in the journal.
        await archive?.close();
      })()),
  };
}

/** The fan-out's audit directory for a config (what `vitalwire audit` reads). */
export function auditDir(config: CentralConfig, baseDir: string): string {
  return join(resolve(baseDir, config.dataDir), 'audit');
}
