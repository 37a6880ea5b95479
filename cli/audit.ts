// `vitalwire audit`: who opened which bed when, from the fan-out's append-only access log (docs/dashboard.md).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { auditDir } from '../central/central.js';
import { loadCentralConfig } from '../central/config.js';
import { VitalwireError } from '../lib/errors.js';
import { AUDIT_EVENTS, queryAudit, type AuditEntry, type AuditEventName, type AuditQuery } from '../fanout/audit.js';
import { helpText, parse, type CommandSpec } from './args.js';

export const auditCommand: CommandSpec = {
  name: 'audit',
  summary: 'Query the dashboard access audit: who opened which bed when (no clinical values).',
  usage:
    'audit [--dir DIR | --config central.yaml] [--user NAME] [--bed SITE[/GATEWAY[/DEVICE]]] [--event E] [--since T] [--until T] [--json]',
  options: {
    dir: {
      type: 'string',
      arg: 'DIR',
      help: "audit directory (the demo: <data-dir>/audit; central --config: <dataDir>/audit); default: the demo's ./.vitalwire/audit",
    },
    config: {
      type: 'string',
      arg: 'FILE',
      help: "the central's config file: read the audit where that central writes it (<dataDir>/audit)",
    },
    user: { type: 'string', arg: 'NAME', help: 'only this user' },
    bed: {
      type: 'string',
      arg: 'KEY',
      help: 'only this site, site/gateway or site/gateway/device (ward views that showed it included)',
    },
    event: { type: 'string', arg: 'E', help: `only one event: ${AUDIT_EVENTS.join(', ')}` },
    since: { type: 'string', arg: 'TIME', help: 'from this time on (ISO 8601, e.g. 2026-05-01T08:00Z, or a date)' },
    until: { type: 'string', arg: 'TIME', help: 'before this time (ISO 8601)' },
    json: { type: 'boolean', help: 'one JSON object per line instead of a table' },
    limit: { type: 'string', default: '10000', arg: 'N', help: 'print at most N entries' },
  },
};

function time(v: unknown, name: string): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new VitalwireError('VW_ERR_USAGE', `--${name} must be an ISO 8601 time, got ${v}`);
  return d;
}

function row(e: AuditEntry, q: AuditQuery): string {
  let bed = [e.site, e.gateway, e.device].filter((s) => s !== undefined).join('/');
  const listed = Array.isArray(e.beds) ? e.beds : [];
  if (!bed && listed.length > 0) {
    // A ward view or an aggregate of refusals: the beds the query asked about, else how many it names.
    const asked = q.bed;
    const hits = asked === undefined ? [] : listed.filter((b) => b === asked || b.startsWith(`${asked}/`));
    const total = listed.length + (e.bedsOmitted ?? 0);
    bed =
      hits.length > 0 ? `${hits.slice(0, 2).join(',')}${hits.length > 2 ? ',…' : ''} (of ${total})` : `${total} beds`;
  }
  const label = `${e.bed ?? ''}${e.count !== undefined ? ` ×${e.count}` : ''}`;
  return [e.t, e.event.padEnd(12), e.user.padEnd(16), (bed || '-').padEnd(32), label, e.remote ?? '']
    .join('  ')
    .trimEnd();
}

export async function runAudit(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const { values } = parse(auditCommand, argv);
  if (values['help']) {
    out(helpText(auditCommand).trimEnd());
    return 0;
  }
  const event = values['event'];
  if (event !== undefined && !(AUDIT_EVENTS as readonly unknown[]).includes(event)) {
    throw new VitalwireError('VW_ERR_USAGE', `--event must be one of ${AUDIT_EVENTS.join(', ')}`);
  }
  const limit = Number(values['limit']);
  if (!Number.isInteger(limit) || limit < 1)
    throw new VitalwireError('VW_ERR_USAGE', '--limit must be a positive integer');
  const since = time(values['since'], 'since');
  const until = time(values['until'], 'until');
  const q: AuditQuery = {
    ...(typeof values['user'] === 'string' ? { user: values['user'] } : {}),
    ...(typeof values['bed'] === 'string' ? { bed: values['bed'] } : {}),
    ...(event !== undefined ? { event: event as AuditEventName } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
  const json = values['json'] === true;
  if (!json)
    out(
      [
        'time'.padEnd(24),
        'event'.padEnd(12),
        'user'.padEnd(16),
        'site/gateway/device'.padEnd(32),
        'bed label',
        'remote',
      ].join('  '),
    );
  let n = 0;
  const stats = { badLines: 0 };
  // Where the audit is: given, beside the central's config, or the demo's default; never an empty answer for a
  // directory that does not exist (that printed nothing and looked like "nobody opened anything").
  if (values['dir'] !== undefined && values['config'] !== undefined)
    throw new VitalwireError('VW_ERR_USAGE', 'give --dir or --config, not both');
  // With --config, where that central writes it: <dataDir>/audit, dataDir relative to the config file (central.ts).
  const central = typeof values['config'] === 'string' ? await loadCentralConfig(values['config']) : null;
  const dir = resolve(
    typeof values['dir'] === 'string'
      ? values['dir']
      : central
        ? auditDir(central.config, central.configDir)
        : './.vitalwire/audit',
  );
  if (!existsSync(dir)) {
    const how =
      values['dir'] === undefined && values['config'] === undefined
        ? ': give --dir DIR (the demo: <data-dir>/audit) or --config central.yaml'
        : '';
    throw new VitalwireError('VW_ERR_USAGE', `no audit directory at ${dir}${how}`);
  }
  for await (const e of queryAudit(dir, q, stats)) {
    out(json ? JSON.stringify(e) : row(e, q));
    if (++n >= limit) break;
  }
  if (stats.badLines > 0) process.stderr.write(`audit: ${stats.badLines} unreadable line(s) skipped\n`);
  return 0;
}
