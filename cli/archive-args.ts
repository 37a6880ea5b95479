// Options the archive commands (export, bind) share: where the archive is, who is acting, times and device ids.
import { userInfo } from 'node:os';
import { VitalwireError } from '../lib/errors.js';
import { dataDirConfig, readArchiveConfig, type ArchiveConfig } from '../archive/config.js';
import { parseTimeUs } from '../archive/export/names.js';
import { isValidSegment } from '../lib/topics.js';
import type { OptionSpec } from './args.js';

export const ARCHIVE_LOCATION: Record<string, OptionSpec> = {
  config: { type: 'string', arg: 'FILE', help: "the central's config file (its `archive` section)" },
  'data-dir': { type: 'string', arg: 'DIR', help: 'an embedded archive directory (instead of --config)' },
};

export async function archiveConfigOf(values: Record<string, unknown>): Promise<ArchiveConfig> {
  const file = values['config'];
  const dir = values['data-dir'];
  if ((typeof file === 'string') === (typeof dir === 'string'))
    throw new VitalwireError('VW_ERR_USAGE', 'give exactly one of --config FILE or --data-dir DIR');
  return typeof file === 'string' ? readArchiveConfig(file) : dataDirConfig(dir as string);
}

export function timeOption(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const us = parseTimeUs(String(v));
  if (!Number.isFinite(us))
    throw new VitalwireError(
      'VW_ERR_USAGE',
      `--${name} must be an ISO 8601 time with a zone (2026-01-15T08:00:00+07:00) or epoch microseconds`,
    );
  return us;
}

export function deviceOption(
  v: unknown,
  name = 'device',
): { site: string; gateway: string; device: string } | undefined {
  if (v === undefined) return undefined;
  const parts = String(v).split('/');
  if (parts.length !== 3 || !parts.every(isValidSegment))
    throw new VitalwireError('VW_ERR_USAGE', `--${name} must be site/gateway/device`);
  const [site, gateway, device] = parts as [string, string, string];
  return { site, gateway, device };
}

/** Who is acting, for the audit: --by, else the OS user (the one sudo was run by, if any). */
export function actorOf(values: Record<string, unknown>): string {
  const by = values['by'];
  if (typeof by === 'string' && by.trim()) return by.trim();
  return process.env['SUDO_USER'] || userInfo().username;
}
