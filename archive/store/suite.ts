// The behavioural suite every archive store passes (as aedes-persistence's abstract suite does for its backends):
// exactly-once storage by Batch key, every contract field kept, quarantine apart, rejects and conflicts kept, purge
// by kind, and everything still there after a reopen. A backend's test file is its factory and one call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flag } from '../../proto/index.js';
import { fullBatches, publish, replayOf, rowsOf, vitalsBatch, type Dev } from '../test-kit.js';
import { BindingIndex, endBinding, listBindings, setBinding } from '../bindings.js';
import { selectRows, trend } from '../query.js';
import type { ArchiveStore } from './types.js';

export interface StoreFactory {
  /** A new, empty store. */
  open(): Promise<ArchiveStore>;
  /** Closes the store and opens it again on the same storage. */
  reopen(s: ArchiveStore): Promise<ArchiveStore>;
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 15, 8, 0, 0) * 1000;
const dev: Dev = { site: 'bv-soc-son', gateway: 'gw1', device: 'bed01' };

export function archiveStoreSuite(name: string, f: StoreFactory): void {
  describe(`archive store: ${name}`, () => {
    let s: ArchiveStore;
    beforeAll(async () => {
      s = await f.open();
    });
    afterAll(async () => {
      await s?.close();
      await f.cleanup();
    });

    const count = async (
      table: Parameters<ArchiveStore['sql']['from']>[0],
      where = 'TRUE',
      params: (string | number)[] = [],
    ) => Number((await s.sql.all(`SELECT count(*) AS n FROM ${s.sql.from(table)} t WHERE ${where}`, params))[0]?.['n']);

    it('stores every field of every kind as the gateway sent it', async () => {
      const d = { ...dev, device: 'full' };
      const full = fullBatches(d, T0);
      const r = await s.write([
        rowsOf(full.obs, 11),
        rowsOf(full.wave, 12),
        rowsOf(full.alarm, 13),
        rowsOf(full.status, 14),
      ]);
      expect(r).toMatchObject({ stored: 4, duplicates: 0, conflicts: 0 });
      const obs = await s.sql.all(`SELECT * FROM ${s.sql.from('obs')} t WHERE device = 'full' ORDER BY idx`);
      expect(obs).toHaveLength(4);
      // Device time 2 s ahead with a 2 s offset estimate: the gateway-clock time is T0.
      expect(obs[0]).toMatchObject({
        site: 'bv-soc-son',
        gateway: 'gw1',
        device: 'full',
        kind: 'obs',
        seq: 1,
        idx: 0,
        t_us: T0,
        gateway_time_us: T0,
        device_time_us: T0 + 2_000_000,
        clock_offset_us: 2_000_000,
        device_utc_offset_min: 420,
        mdc: 150456,
        refid: 'MDC_PULS_OXIM_SAT_O2',
        value_number: 97.5,
        value_code_mdc: null,
        value_text: null,
        unit: '%',
        unit_mdc: 262688,
        vendor_code: '150456^MDC_PULS_OXIM_SAT_O2^MDC',
        vendor_unit: '%',
        flags: Flag.FLAG_ABNORMAL | Flag.FLAG_LOW_PERFUSION,
        containment: '1.1.1.150456',
        method: 'PULSE_OX',
        ref_range: '90-100',
        sent_number: 97.5,
      });
      expect(obs[1]).toMatchObject({
        value_number: null,
        value_code_mdc: 196800,
        value_code_refid: 'MDC_ECG_SINUS_RHY',
        value_code_text: 'Sinus rhythm',
        value_text: null,
      });
      expect(obs[2]).toMatchObject({ mdc: 0, value_text: 'lead II', flags: Flag.FLAG_UNMAPPED, sent_number: null });
      expect(obs[3]).toMatchObject({ value_number: null, flags: Flag.FLAG_UNAVAILABLE | Flag.FLAG_SENSOR_OFF });
      const [w] = await s.sql.all(`SELECT * FROM ${s.sql.from('wave')} t WHERE device = 'full'`);
      expect(w).toMatchObject({
        mdc: 131330,
        sample_rate_hz: 250,
        first_sample: 5_000_000_000,
        samples: [0, 1, -1, 32767, -32768, 12],
        scale: 0.001221,
        wave_offset: -0.5,
        unit: 'mV',
        invalid_value: 32767,
        flags: Flag.FLAG_ARTIFACT,
      });
      const [a] = await s.sql.all(`SELECT * FROM ${s.sql.from('alarm')} t WHERE device = 'full'`);
      expect(a).toMatchObject({
        alarm_id: 'A-17',
        mdc: 196674,
        alarm_text: 'HR HIGH',
        priority: 4,
        alarm_kind: 1,
        state: 2,
        phase: 1,
        inactivation: 2,
        source_mdc: 147842,
        source_value: 151,
        source_unit: '/min',
        limit_low: 50,
        limit_high: 120,
        limits: '50-120',
        source_containment: '1.1.1.147842',
      });
      expect(JSON.parse(a?.['facets'] as string)).toEqual([
        { mdc: 68480, refid: 'MDC_ATTR_ALARM_SOURCE', value: 'x^y', unit: '', containment: '1.1.1.147842.1' },
      ]);
      const [st] = await s.sql.all(`SELECT * FROM ${s.sql.from('status')} t WHERE device = 'full'`);
      expect(st).toMatchObject({
        state: 3,
        reason: 'VW_ERR_LINK_CLOSED',
        frames_ok: 1234,
        frames_bad: 5,
        garbage_bytes: 77,
        unmapped: 2,
        reconnects: 3,
        queue_depth: 9,
        clock_synced: true,
        last_frame_time_us: T0 - 1000,
        diagnosis: 'no bytes',
        session: 'requested',
        flags: 0,
      });
      const sim = { ...d, device: 'full-sim' };
      await s.write([
        rowsOf(
          publish(sim, 'status', 1, {
            statuses: [{ time: { gatewayTimeUs: T0 }, state: 2, flags: Flag.FLAG_SIMULATED }],
          }),
          15,
        ),
      ]);
      expect(await s.sql.all(`SELECT flags FROM ${s.sql.from('status')} t WHERE device = 'full-sim'`)).toEqual([
        { flags: Flag.FLAG_SIMULATED },
      ]);
      const [g] = await s.sql.all(`SELECT * FROM ${s.sql.from('gap')} t WHERE device = 'full'`);
      expect(g).toMatchObject({
        kind: 'status',
        stream: 1,
        from_seq: 10,
        to_seq: 12,
        from_time_us: T0 - 60_000_000,
        to_time_us: T0 - 1_000_000,
        reason: 1,
        t_us: T0 - 60_000_000,
      });
      const [b] = await s.sql.all(`SELECT * FROM ${s.sql.from('batch')} t WHERE device = 'full' AND kind = 'obs'`);
      expect(b).toMatchObject({
        seq: 1,
        backfill: false,
        model: 'VS900',
        protocol: 'hl7',
        received_us: 11,
        publish_time_us: T0 + 5000,
        items: 4,
      });
    });

    it('stores a Batch once: repeats in one write, in later writes, and replays with a new publish tail', async () => {
      const d = { ...dev, device: 'dup' };
      const p1 = vitalsBatch(d, 1, T0, { hr: 70, spo2: 98 });
      const p2 = vitalsBatch(d, 2, T0 + 1e6, { hr: 71, spo2: 97 });
      expect(await s.write([rowsOf(p1), rowsOf(p1), rowsOf(p2)])).toMatchObject({
        stored: 2,
        duplicates: 1,
        conflicts: 0,
        rows: 4,
      });
      expect(await s.write([rowsOf(replayOf(p1, T0 + 9e6)), rowsOf(p2)])).toMatchObject({
        stored: 0,
        duplicates: 2,
        conflicts: 0,
      });
      await s.checkpoint();
      expect(await s.write([rowsOf(replayOf(p2, T0 + 9e6))])).toMatchObject({ stored: 0, duplicates: 1 });
      expect(await count('obs', `device = 'dup'`)).toBe(4);
      expect(await count('batch', `device = 'dup'`)).toBe(2);
    });

    it('keeps a different Batch under a stored key apart, and the stored one as it was', async () => {
      const d = { ...dev, device: 'conf' };
      await s.write([rowsOf(vitalsBatch(d, 1, T0, { hr: 60 }))]);
      const other = vitalsBatch(d, 1, T0 + 5e6, { hr: 140 });
      expect(await s.write([rowsOf(other)])).toMatchObject({ stored: 0, duplicates: 0, conflicts: 1 });
      const [c] = await s.sql.all(`SELECT * FROM ${s.sql.from('conflict')} t WHERE device = 'conf'`);
      expect(Buffer.from(c?.['payload'] as Uint8Array).equals(other.payload)).toBe(true);
      expect(
        (await s.sql.all(`SELECT value_number FROM ${s.sql.from('obs')} t WHERE device = 'conf'`)).map(
          (r) => r['value_number'],
        ),
      ).toEqual([60]);
    });

    it('keeps distinct seq 0 Batches (last wills) and drops a repeat of one', async () => {
      const d = { ...dev, device: '_gateway' };
      const w1 = publish(d, 'status', 0, { statuses: [{ time: { gatewayTimeUs: T0 }, state: 3 }] });
      const w2 = publish(d, 'status', 0, { statuses: [{ time: { gatewayTimeUs: T0 + 1e6 }, state: 3 }] });
      expect(await s.write([rowsOf(w1), rowsOf(w2), rowsOf(w1)])).toMatchObject({ stored: 2, duplicates: 1 });
      expect(await count('status', `device = '_gateway'`)).toBe(2);
    });

    it('puts demo, test and simulated values in the quarantine tables only', async () => {
      const d = { ...dev, device: 'mixed' };
      await s.write([
        rowsOf(vitalsBatch(d, 1, T0, { hr: 80 })),
        rowsOf(vitalsBatch(d, 2, T0 + 1e6, { hr: 81 }, Flag.FLAG_DEMO)),
        rowsOf(vitalsBatch(d, 3, T0 + 2e6, { hr: 82 }, Flag.FLAG_TEST)),
        rowsOf(vitalsBatch(d, 4, T0 + 3e6, { hr: 83 }, Flag.FLAG_SIMULATED | Flag.FLAG_ABNORMAL)),
      ]);
      expect(
        (await s.sql.all(`SELECT value_number FROM ${s.sql.from('obs')} t WHERE device = 'mixed'`)).map(
          (r) => r['value_number'],
        ),
      ).toEqual([80]);
      expect(
        (await s.sql.all(`SELECT value_number FROM ${s.sql.from('obs_q')} t WHERE device = 'mixed' ORDER BY seq`)).map(
          (r) => r['value_number'],
        ),
      ).toEqual([81, 82, 83]);
    });

    it('keeps unreadable payloads as sent', async () => {
      const bad = Buffer.from([0x0a, 0xff, 0xff, 0xff]);
      await s.write(
        [],
        [{ t_us: T0, site: 'bv-soc-son', topic: 'vw/v1/bv-soc-son/gw1/x/obs', reason: 'truncated', payload: bad }],
      );
      const [r] = await s.sql.all(`SELECT * FROM ${s.sql.from('reject')} t WHERE reason = 'truncated'`);
      expect(Buffer.from(r?.['payload'] as Uint8Array).equals(bad)).toBe(true);
    });

    it('purges one kind before a time, whole days, and leaves the others', async () => {
      const d = { ...dev, device: 'old' };
      const day = 86_400_000_000;
      const old = T0 - 40 * day;
      await s.write([
        rowsOf(vitalsBatch(d, 1, old, { hr: 50 })),
        rowsOf(fullBatches(d, old).wave),
        rowsOf(vitalsBatch(d, 2, T0, { hr: 51 })),
      ]);
      await s.checkpoint();
      const r = await s.purge('wave', T0 - 30 * day);
      expect(r.rows).toBe(1);
      expect(await count('wave', `device = 'old'`)).toBe(0);
      expect(await count('obs', `device = 'old'`)).toBe(2);
      expect((await s.purge('obs', T0 - 30 * day)).rows).toBe(1);
      expect(
        (await s.sql.all(`SELECT value_number FROM ${s.sql.from('obs')} t WHERE device = 'old'`)).map(
          (x) => x['value_number'],
        ),
      ).toEqual([51]);
    });

    it('finds rows by device, code and time range through the store SQL', async () => {
      const d = { ...dev, device: 'range' };
      await s.write(
        Array.from({ length: 10 }, (_, i) =>
          rowsOf(vitalsBatch(d, i + 1, T0 + i * 60e6, { hr: 60 + i, spo2: 90 + i })),
        ),
      );
      const rows = await s.sql.all(
        `SELECT value_number FROM ${s.sql.from('obs', { fromUs: T0 + 120e6, toUs: T0 + 300e6 })} t
        WHERE device = $1 AND mdc = $2 AND t_us >= $3 AND t_us < $4 ORDER BY t_us`,
        ['range', 147842, T0 + 120e6, T0 + 300e6],
      );
      expect(rows.map((r) => r['value_number'])).toEqual([62, 63, 64]);
    });

    it('appends audit entries in order and lists them by action', async () => {
      await s.audit.append({
        actor: 'nurse1',
        action: 'binding.set',
        subject: 'b1',
        before: null,
        after: { bed: 'ICU-1' },
      });
      await s.audit.exclusive(async (tx) => {
        const before = await tx.list();
        await tx.append({
          actor: 'system',
          action: 'retention.purge',
          subject: 'wave',
          before: null,
          after: { rows: before.length },
        });
      });
      const all = await s.audit.list();
      expect(all.map((e) => e.action)).toEqual(['binding.set', 'retention.purge']);
      expect(all.map((e) => e.n)).toEqual([1, 2]);
      expect(all[0]).toMatchObject({ actor: 'nurse1', subject: 'b1', before: null, after: { bed: 'ICU-1' } });
      expect(await s.audit.list(['retention.purge'])).toHaveLength(1);
    });

    it('applies each binding to the data of its own time range, and audits every change', async () => {
      const A = { ...dev, device: 'bindA' };
      const H = 3_600_000_000;
      const T = T0 + 100 * H;
      // A reading every 10 minutes from T-1h to T+2h (19 Batches).
      await s.write(
        Array.from({ length: 19 }, (_, i) => rowsOf(vitalsBatch(A, i + 1, T - H + i * 600e6, { hr: 100 + i }))),
      );
      const p1 = await setBinding(s.audit, 'nurse1', {
        ...A,
        bed: 'ICU-7',
        patient: 'P-0001',
        encounter: 'E-1',
        fromUs: T,
        toUs: T + H,
      });
      // The next patient from T+1h, open; then that binding ends at T+90min.
      const p2 = await setBinding(s.audit, 'nurse2', { ...A, bed: 'ICU-7', patient: 'P-0002', fromUs: T + H });
      await endBinding(s.audit, 'nurse2', p2.id, T + 1.5 * H);
      // A binding that overlaps P-0001's closed one is refused, and changes nothing.
      await expect(
        setBinding(s.audit, 'nurse3', { ...A, bed: 'ICU-8', fromUs: T + 0.5 * H, toUs: T + 0.7 * H }),
      ).rejects.toMatchObject({ code: 'VW_ERR_BINDING' });
      const idx = new BindingIndex(await listBindings(s.audit));
      const hr = (rows: { value_number: number | null }[]) => rows.map((r) => r.value_number);
      expect(hr(await selectRows(s, idx, 'obs', { patient: 'P-0001' }))).toEqual([106, 107, 108, 109, 110, 111]);
      expect(hr(await selectRows(s, idx, 'obs', { patient: 'P-0002' }))).toEqual([112, 113, 114]);
      expect(hr(await selectRows(s, idx, 'obs', { bed: 'ICU-7', fromUs: T + 0.5 * H, toUs: T + 1.2 * H }))).toEqual([
        109, 110, 111, 112, 113,
      ]);
      const all = await selectRows(s, idx, 'obs', { ...A });
      expect(all).toHaveLength(19);
      expect(all.filter((r) => r.binding === null).map((r) => r.value_number)).toEqual([
        100, 101, 102, 103, 104, 105, 115, 116, 117, 118,
      ]);
      expect(all.find((r) => r.value_number === 108)?.binding).toMatchObject({
        id: p1.id,
        bed: 'ICU-7',
        patient: 'P-0001',
        encounter: 'E-1',
      });
      const changes = (await s.audit.list(['binding.set', 'binding.end'])).filter(
        (e) => e.subject === p1.id || e.subject === p2.id,
      );
      expect(
        changes.map((e) => [
          e.actor,
          e.action,
          (e.before as { toUs?: number } | null)?.toUs ?? null,
          (e.after as { toUs: number | null }).toUs,
        ]),
      ).toEqual([
        ['nurse1', 'binding.set', null, T + H],
        ['nurse2', 'binding.set', null, null],
        ['nurse2', 'binding.end', null, T + 1.5 * H],
      ]);
    });

    it('trends a bed in buckets, with empty buckets, declared gaps and unbound time kept as holes', async () => {
      const B = { ...dev, device: 'trendB' };
      const M = 60_000_000;
      const T = T0 + 200 * 3_600_000_000;
      // Two readings a minute for 10 minutes, none in minutes 4 and 5 (the device was unplugged: a Gap says so).
      const batches = [];
      let seq = 1;
      for (let m = 0; m < 10; m++) {
        if (m === 4 || m === 5) continue;
        batches.push(
          rowsOf(vitalsBatch(B, seq++, T + m * M, { spo2: 90 + m })),
          rowsOf(vitalsBatch(B, seq++, T + m * M + 30e6, { spo2: 91 + m })),
        );
      }
      batches.push(
        rowsOf(
          publish(B, 'status', 1, {
            gaps: [{ kind: 1, fromSeq: 9, toSeq: 9, fromTimeUs: T + 4 * M, toTimeUs: T + 6 * M, reason: 1 }],
          }),
        ),
      );
      await s.write(batches);
      await setBinding(s.audit, 'nurse1', { ...B, bed: 'HDU-2', fromUs: T + M });
      const idx = new BindingIndex(await listBindings(s.audit));
      const tr = await trend(s, idx, { bed: 'HDU-2', fromUs: T, toUs: T + 10 * M }, M);
      expect(tr.unbound).toEqual([{ fromUs: T, toUs: T + M }]);
      expect(tr.gaps).toEqual([{ fromUs: T + 4 * M, toUs: T + 6 * M, reason: 1, device: 'trendB' }]);
      expect(tr.series.map((x) => [x.mdc, x.unit])).toEqual([[150456, '%']]);
      const pts = tr.series[0]!.points;
      expect(pts).toHaveLength(10);
      expect(pts[0]).toBeNull(); // before the binding
      expect(pts[4]).toBeNull();
      expect(pts[5]).toBeNull();
      expect(pts[3]).toEqual({ t: T + 3 * M, min: 93, max: 94, mean: 93.5, n: 2, flags: 0 });
      expect(pts.filter((p) => p !== null)).toHaveLength(7);
    });

    it('still holds everything after a checkpoint and a reopen, and still drops repeats', async () => {
      const d = { ...dev, device: 'reopen' };
      const p = vitalsBatch(d, 1, T0, { hr: 99 });
      await s.write([rowsOf(p)]);
      await s.checkpoint();
      s = await f.reopen(s);
      expect(await count('obs', `device = 'reopen'`)).toBe(1);
      expect(await count('obs', `device = 'dup'`)).toBe(4);
      expect(await s.write([rowsOf(p), rowsOf(replayOf(p, T0 + 1))])).toMatchObject({ stored: 0, duplicates: 2 });
      expect((await s.audit.list()).length).toBeGreaterThanOrEqual(5);
      expect(await listBindings(s.audit)).toHaveLength(4); // b1 of the audit test, P-0001, P-0002, HDU-2
    });
  });
}
