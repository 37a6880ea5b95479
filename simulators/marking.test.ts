// Issue 13: `vitalwire simulate` produced a synthetic patient that looked real. Every message a simulator writes now
// says it is simulated in the protocol's own terms: MSH-11 processing id T (HL7 v2 Table 0103: T training, P
// production) on every message, OBX-8 DEMO (Mindray's demo-mode flag) on every value; `asReal` (conformance tests)
// drops both. Checked on the wire fields themselves and through the gateway's own HL7 decoder.
import { describe, expect, it } from 'vitest';
import type { Decoded } from '../decoders/decoded.js';
import { createMllpFramer } from '../decoders/framing/mllp.js';
import { getProtocol } from '../decoders/registry.js';
import { Flag } from '../proto/index.js';
import { buildAlarmFrame, type SimAlarm } from './hl7-alarm.js';
import { runMonitor } from './monitor.js';
import { createWardMonitor } from './ward.js';

const id = { eui64: '0256570000000001', model: 'VW-SIM', bed: 'Bed 1' };

const ALARM: SimAlarm = {
  id: 'a1',
  event: { mdc: 196648, refid: 'MDC_EVT_HI' },
  text: 'HR HIGH',
  source: { mdc: 147842, refid: 'MDC_ECG_CARD_BEAT_RATE', containment: '1.1.1.147842' },
  priority: 'PM',
  kind: 'SP',
  phase: 'start',
  state: 'active',
};

/** Every MLLP message a monitor writes in `ms` (vitals, waves, slow numerics), and one of its alarm reports. */
async function capture(o: { asReal?: boolean; demo?: boolean }, ms = 1200): Promise<string[]> {
  const messages: string[] = [];
  const framer = createMllpFramer();
  const sink = {
    write: (b: Buffer) =>
      framer.push(b, { frame: (f) => void messages.push(f.toString('utf8')), error: () => undefined }),
    close: async () => undefined,
  };
  const mon = runMonitor({ identity: id, seed: 4, intervalMs: 100, slowNumericsEveryMs: 200, ...o, sink });
  await new Promise((r) => setTimeout(r, ms));
  mon.stop();
  // Alarm episodes take tens of seconds to come: the monitor's alarm frame, built as runMonitor builds it.
  sink.write(buildAlarmFrame(id, ALARM, { controlId: 'A1', timeUs: Date.now() * 1000, ...o }));
  return messages;
}

const field = (segment: string, n: number): string => segment.split('|')[n] ?? '';
/** NM rows that are values, not a wave's attribute rows (rate, resolution, INOP: a fifth OBX-4 level). */
const isValueRow = (s: string): boolean => field(s, 2) === 'NM' && field(s, 4).split('.').length === 4;
const segments = (m: string, type: string): string[] => m.split('\r').filter((s) => s.startsWith(`${type}|`));

function decode(messages: string[]): Decoded[] {
  const d = getProtocol('hl7')!.createDecoder();
  return messages.map((m) => {
    const r = d.decode(Buffer.from(m, 'utf8'), { gatewayTimeUs: Date.now() * 1000, defaultUtcOffsetMin: 0 });
    if (!r.ok) throw new Error(r.error.code);
    return r.value;
  });
}

describe('simulators mark what they send as simulated', () => {
  it('by default: MSH-11 T on every message, OBX-8 DEMO on every value; decoded as test (and demo) data', async () => {
    const msgs = await capture({});
    const types = new Set(msgs.map((m) => field(segments(m, 'MSH')[0] ?? '', 8)));
    expect(types).toEqual(new Set(['ORU^R01^ORU_R01', 'ORU^R40^ORU_R40'])); // vitals, waves, slow numerics; alarms
    // MSH-11 is field 11; split('|') puts MSH-1 (the separator itself) between, so it is index 10.
    for (const m of msgs) expect(field(segments(m, 'MSH')[0] ?? '', 10)).toBe('T');
    const valueRows = msgs.flatMap((m) => segments(m, 'OBX')).filter(isValueRow);
    expect(valueRows.length).toBeGreaterThan(10);
    for (const s of valueRows) expect(field(s, 8).split('~')).toContain('DEMO');
    const alarmRows = msgs.filter((m) => m.includes('ORU^R40')).map((m) => segments(m, 'OBX')[0] ?? '');
    for (const s of alarmRows) expect(field(s, 8).split('~')).toContain('DEMO');

    const decoded = decode(msgs);
    const obs = decoded.flatMap((d) => d.observations);
    const waves = decoded.flatMap((d) => d.waves);
    expect(obs.length).toBeGreaterThan(10);
    expect(waves.length).toBeGreaterThan(0);
    for (const o of obs)
      expect((o.flags ?? 0) & (Flag.FLAG_TEST | Flag.FLAG_DEMO)).toBe(Flag.FLAG_TEST | Flag.FLAG_DEMO);
    for (const w of waves) expect((w.flags ?? 0) & Flag.FLAG_TEST).toBe(Flag.FLAG_TEST);
    for (const a of decoded.flatMap((d) => d.alarms)) expect((a.flags ?? 0) & Flag.FLAG_TEST).toBe(Flag.FLAG_TEST);
  });

  it('as real only when asked (conformance tests): MSH-11 P and no DEMO', async () => {
    const msgs = await capture({ asReal: true }, 700);
    expect(msgs.length).toBeGreaterThan(3);
    for (const m of msgs) expect(field(segments(m, 'MSH')[0] ?? '', 10)).toBe('P');
    for (const s of msgs.flatMap((m) => segments(m, 'OBX'))) expect(field(s, 8).split('~')).not.toContain('DEMO');
    for (const d of decode(msgs))
      for (const o of d.observations) expect((o.flags ?? 0) & (Flag.FLAG_TEST | Flag.FLAG_DEMO)).toBe(0);
  });

  it('the load-test ward monitor too', () => {
    const w = createWardMonitor(1);
    const m = w
      .next(Date.now() * 1000)
      .toString('utf8')
      .replace(/^\x0b|\x1c\r$/g, '');
    expect(field(segments(m, 'MSH')[0] ?? '', 10)).toBe('T');
    const rows = segments(m, 'OBX').filter(isValueRow);
    expect(rows.length).toBe(3);
    for (const s of rows) expect(field(s, 8)).toBe('DEMO');
    const real = createWardMonitor(1, { asReal: true })
      .next(Date.now() * 1000)
      .toString('utf8');
    expect(field(segments(real.replace(/^\x0b/, ''), 'MSH')[0] ?? '', 10)).toBe('P');
  });
});
