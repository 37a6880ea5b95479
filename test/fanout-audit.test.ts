// `vitalwire audit`: the access log queried from the command line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileAuditLog } from '../fanout/audit.js';
import { runAudit } from '../cli/audit.js';
import { VitalwireError } from '../lib/errors.js';

describe('vitalwire audit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vw-audit-cli-'));

  beforeAll(async () => {
    let now = Date.parse('2026-05-01T08:00:00Z');
    const log = createFileAuditLog({ dir, now: () => now });
    log.append({ event: 'login', user: 'dr-nguyen', remote: '10.1.1.5', session: 's1' });
    now += 60_000;
    log.append({
      event: 'open',
      user: 'dr-nguyen',
      site: 'bv-soc-son',
      gateway: 'gw1',
      device: 'bed07',
      bed: 'Bed 7',
      remote: '10.1.1.5',
      session: 's1',
    });
    now += 60_000;
    log.append({
      event: 'denied',
      user: 'nurse-b',
      site: 'bv-soc-son',
      gateway: 'gw2',
      device: 'bed01',
      remote: '10.1.1.9',
    });
    now += 86_400_000;
    log.append({
      event: 'close',
      user: 'dr-nguyen',
      site: 'bv-soc-son',
      gateway: 'gw1',
      device: 'bed07',
      session: 's1',
    });
    // A ward view, as the fan-out writes it: one entry naming the beds its tiles showed.
    now += 60_000;
    log.append({
      event: 'open',
      user: 'dr-le',
      bed: 'ward view',
      beds: ['bv-soc-son/gw2/bed01', 'bv-soc-son/gw2/bed02', 'bv-dong-anh/gw1/bed09'],
      remote: '10.1.1.8',
      session: 's3',
    });
    now += 60_000;
    log.append({
      event: 'close',
      user: 'dr-le',
      bed: 'ward view',
      beds: ['bv-soc-son/gw2/bed01', 'bv-soc-son/gw2/bed02', 'bv-dong-anh/gw1/bed09'],
      remote: '10.1.1.8',
      session: 's3',
    });
    await log.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (...args: string[]): Promise<string[]> => {
    const lines: string[] = [];
    expect(await runAudit(['--dir', dir, ...args], (l) => lines.push(l))).toBe(0);
    return lines;
  };

  it('prints who opened which bed when, as a table', async () => {
    const lines = await run('--event', 'open', '--user', 'dr-nguyen');
    expect(lines[0]).toMatch(/^time +event +user +site\/gateway\/device/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(/^2026-05-01T08:01:00.000Z +open +dr-nguyen +bv-soc-son\/gw1\/bed07 +Bed 7 +10\.1\.1\.5$/);
  });

  it('filters by user, bed and time, and prints JSON lines', async () => {
    const byUser = (await run('--user', 'dr-nguyen', '--json')).map((l) => JSON.parse(l) as { event: string });
    expect(byUser.map((e) => e.event)).toEqual(['login', 'open', 'close']);
    expect(
      (await run('--bed', 'bv-soc-son/gw2', '--json')).map((l) => (JSON.parse(l) as { user: string }).user),
    ).toEqual(['nurse-b', 'dr-le', 'dr-le']);
    expect(await run('--since', '2026-05-02', '--json')).toHaveLength(3);
    expect(await run('--until', '2026-05-01T08:01:30Z', '--json')).toHaveLength(2);
  });

  it('finds the ward views that showed a bed, and names the bed in the table', async () => {
    const lines = await run('--bed', 'bv-dong-anh/gw1/bed09');
    expect(lines.slice(1)).toHaveLength(2);
    expect(lines[1]).toMatch(/ open +dr-le +bv-dong-anh\/gw1\/bed09 \(of 3\) +ward view +10\.1\.1\.8$/);
    expect(lines[2]).toMatch(/ close +dr-le +bv-dong-anh\/gw1\/bed09 \(of 3\) +ward view/);
    expect(await run('--bed', 'bv-dong-anh/gw1/bed1', '--json')).toEqual([]); // a prefix of a segment is not the bed
  });

  it('says what is wrong with bad options', async () => {
    await expect(runAudit(['--dir', dir, '--event', 'peek'], () => undefined)).rejects.toThrow(VitalwireError);
    await expect(runAudit(['--dir', dir, '--since', 'yesterday'], () => undefined)).rejects.toThrow(/ISO 8601/);
  });

  it('finds the audit where a central config puts it, and says what it needs instead of printing nothing', async () => {
    const central = mkdtempSync(join(tmpdir(), 'vw-audit-central-'));
    try {
      // The shipped one-site config keeps its state away from the config (dataDir /var/lib/vitalwire/central): the
      // central writes <dataDir>/audit, relative to the config file; `--config` must read it there.
      const tls = 'tls: { ca: pki/ca.crt, cert: pki/broker.crt, key: pki/broker.key }';
      writeFileSync(join(central, 'central.yaml'), `${tls}\ndataDir: state\nfanout: { port: 0 }\n`);
      const log = createFileAuditLog({ dir: join(central, 'state', 'audit') });
      log.append({ event: 'login', user: 'dr-tran', remote: '10.1.1.7', session: 's9' });
      await log.close();
      const lines: string[] = [];
      expect(await runAudit(['--config', join(central, 'central.yaml'), '--json'], (l) => lines.push(l))).toBe(0);
      expect(lines.map((l) => (JSON.parse(l) as { user: string }).user)).toEqual(['dr-tran']);
      // No dataDir: the config's own directory.
      writeFileSync(join(central, 'plain.yaml'), `${tls}\n`);
      await expect(runAudit(['--config', join(central, 'plain.yaml')], () => undefined)).rejects.toThrow(
        new RegExp(`no audit directory at ${central}/audit`),
      );
      // A directory that does not exist is an error that names it, not an empty table.
      await expect(runAudit(['--dir', join(central, 'nowhere')], () => undefined)).rejects.toThrow(
        /no audit directory at .*nowhere/,
      );
      await expect(
        runAudit(['--dir', dir, '--config', join(central, 'central.yaml')], () => undefined),
      ).rejects.toThrow(/not both/);
    } finally {
      rmSync(central, { recursive: true, force: true });
    }
  });
});
