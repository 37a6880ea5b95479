// What DeviceRuntime puts in the outbox for a decoded frame: the source it publishes under and the Gaps a decoder
// reports. The outbox here only records appends: the runtime's contract is what it asks the outbox to store.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { GapReason, Kind, type ISource } from '../proto/index.js';
import type { Decoded } from '../decoders/decoded.js';
import { DeviceRuntime } from './device-runtime.js';
import type { Outbox } from './outbox/outbox.js';

function runtime(bed?: string) {
  const appended: { source: ISource; kind: string; body: Record<string, unknown> }[] = [];
  const outbox = {
    recoveredLastUs: new Map<string, number>(),
    append: (r: { source: ISource; kind: string; body: Record<string, unknown> }) => {
      appended.push(r);
      return Promise.resolve({});
    },
  } as unknown as Outbox;
  const rt = new DeviceRuntime({
    site: 's1', gateway: 'g1', device: 'mon1', protocol: 'hl7', bed, losesDataWhileDown: true, outbox,
    batching: { obsMs: 0, waveMs: 0, alarmMs: 0, maxBatchBytes: 64 * 1024 },
    clock: { maxFutureMs: 60_000, jumpMs: 300_000, minPlausibleUs: 0 }, logger: pino({ level: 'silent' }), nowUs: () => 1.8e15,
  });
  return { rt, appended };
}

const frame = (extra: Partial<Decoded>): Decoded => ({
  observations: [{ mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2', number: 97, unit: '%', time: { gatewayTimeUs: 1.8e15 } }],
  waves: [], alarms: [], warnings: [], ...extra,
});

describe('DeviceRuntime', () => {
  it("publishes a device's PV1-3 bed as its claim, never as the bed: two monitors claiming one bed stay apart", async () => {
    const { rt, appended } = runtime(undefined);
    rt.ingest(frame({ bed: 'ICU-5' }), 1.8e15);
    await rt.commit();
    const src = appended.find((a) => a.kind === 'obs')?.source;
    expect(src?.bed).toBe('');
    expect(src?.bedClaim).toBe('ICU-5');
  });

  it('keeps the configured bed and carries the claim beside it', async () => {
    const { rt, appended } = runtime('Bed 3');
    rt.ingest(frame({ bed: 'ICU-5' }), 1.8e15);
    await rt.commit();
    const src = appended.find((a) => a.kind === 'obs')?.source;
    expect(src?.bed).toBe('Bed 3');
    expect(src?.bedClaim).toBe('ICU-5');
  });

  it("stores the Gaps a decoder reports in the device's status stream, and counts them", async () => {
    const { rt, appended } = runtime('Bed 1');
    const gap = { kind: Kind.KIND_WAVE, waveMdc: 131330, fromSample: 500, sampleCount: 500, reason: GapReason.GAP_REASON_DEVICE_SKIPPED };
    rt.ingest(frame({ gaps: [gap] }), 1.8e15);
    await rt.commit();
    const st = appended.filter((a) => a.kind === 'status').map((a) => a.body['gaps']);
    expect(st).toContainEqual([gap]);
    expect(rt.counters.gaps['device-skipped']).toBe(1);
  });
});
