import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileAuditLog, queryAudit, type AuditEntry } from './audit.js';

describe('access audit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vw-audit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one line per event to a per-day file and answers queries', async () => {
    let now = Date.UTC(2026, 4, 1, 23, 59, 59);
    const log = createFileAuditLog({ dir, now: () => now });
    log.append({ event: 'login', user: 'dr-a', remote: '10.0.0.1' });
    log.append({ event: 'open', user: 'dr-a', site: 's1', gateway: 'g1', device: 'bed01', bed: 'Bed 1' });
    now += 2000; // next UTC day: next file
    log.append({ event: 'open', user: 'dr-b', site: 's1', gateway: 'g1', device: 'bed02' });
    log.append({ event: 'denied', user: 'dr-b', site: 's2', gateway: 'g1', device: 'bed09' });
    await log.close();
    expect(statSync(join(dir, 'audit-2026-05-01.jsonl')).mode & 0o777).toBe(0o600);
    const day2 = readFileSync(join(dir, 'audit-2026-05-02.jsonl'), 'utf8').trim().split('\n');
    expect(day2).toHaveLength(2);
    const all = async (q: Parameters<typeof queryAudit>[1]): Promise<AuditEntry[]> => {
      const out: AuditEntry[] = [];
      for await (const e of queryAudit(dir, q)) out.push(e);
      return out;
    };
    expect((await all({})).map((e) => e.event)).toEqual(['login', 'open', 'open', 'denied']);
    expect((await all({ user: 'dr-a', event: 'open' })).map((e) => e.device)).toEqual(['bed01']);
    expect((await all({ bed: 's1/g1' })).map((e) => e.device)).toEqual(['bed01', 'bed02']);
    expect((await all({ since: new Date(Date.UTC(2026, 4, 2)) })).map((e) => e.user)).toEqual(['dr-b', 'dr-b']);
    // Clinical values have nowhere to go: the entries carry ids and labels only.
    for (const e of await all({}))
      expect(
        Object.keys(e).every((k) =>
          ['t', 'event', 'user', 'site', 'gateway', 'device', 'bed', 'remote', 'session'].includes(k),
        ),
      ).toBe(true);
  });
});
