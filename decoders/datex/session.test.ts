// The Datex S/5 transmission request, byte by byte from the public request code ([VSC] VSCapture RequestTransfer,
// [KAI] icu_devices prepare_phdb_request: r_len 49, DRI_MT_PHDB, sr_type 0 then DRI_EOL_SUBR_LIST, dri_phdb_req
// {u8 type, i16 interval, u32 class bits, i16 reserved}), and the host session around it.
import { describe, expect, it } from 'vitest';
import { createDatexFramer } from '../framing/datex.js';
import type { Decoded } from '../decoded.js';
import {
  createDatexSession,
  encodePhdbRequestFrame,
  encodePhdbRequestRecord,
  readPhdbRequest,
  SESSION_STATES,
} from './session.js';

const record: Decoded = { observations: [], waves: [], alarms: [], warnings: [] };

describe('Datex transmission request', () => {
  it('lays out the request as the public drivers do', () => {
    const b = encodePhdbRequestRecord({ recordType: 1, intervalS: 10, classBits: 0, driLevel: 0 });
    const expected = Buffer.alloc(49);
    expected.writeInt16LE(49, 0); // r_len = sizeof(datex_hdr) + sizeof(dri_phdb_req)
    expected[16 + 2] = 0; // sr_desc[0]: offset 0, type 0 = request
    expected[19 + 2] = 0xff; // sr_desc[1].sr_type = DRI_EOL_SUBR_LIST
    expected[40] = 1; // phdb_rcrd_type DRI_PH_DISPL
    expected.writeInt16LE(10, 41); // tx_ival
    expected.writeUInt32LE(0, 43); // phdb_class_bf: basic
    expect(b.toString('hex')).toBe(expected.toString('hex'));
    // Framed: 0x7E record checksum 0x7E; no byte needs escaping, so both public checksum readings agree.
    const f = encodePhdbRequestFrame({ recordType: 1, intervalS: 10, classBits: 0, driLevel: 0 });
    expect(f[0]).toBe(0x7e);
    expect(f.at(-1)).toBe(0x7e);
    expect(f.length).toBe(49 + 3);
    let sum = 0;
    for (const x of b) sum = (sum + x) & 0xff;
    expect(f.at(-2)).toBe(sum);
    // Through the receiving framer (the simulated monitor's side) and back.
    const got: Buffer[] = [];
    createDatexFramer().push(f, {
      frame: (x) => void got.push(Buffer.from(x)),
      error: (c) => {
        throw new Error(c);
      },
    });
    expect(readPhdbRequest(got[0]!)).toEqual({ recordType: 1, intervalS: 10, classBits: 0, driLevel: 0 });
  });

  it('session: requests at link up, streams, renews after silence, stops politely', () => {
    const s = createDatexSession({ intervalS: 5 });
    expect(s.state).toBe(SESSION_STATES.CLOSED);
    const a = s.opened(0);
    expect(a.write).toHaveLength(1);
    expect(readPhdbRequest(a.write[0]!.subarray(1, -2))?.intervalS).toBe(5);
    expect(s.state).toBe(SESSION_STATES.REQUESTED);
    expect(a.wakeInMs).toBe(20_000); // 3 intervals + 5 s
    // Nothing within that: the request is sent again.
    const r = s.timer(20_000);
    expect(r.write).toHaveLength(1);
    expect(s.state).toBe(SESSION_STATES.RENEWING);
    const f = s.frame(record, 21_000);
    expect(s.state).toBe(SESSION_STATES.STREAMING);
    expect(f.write).toHaveLength(0);
    expect(f.wakeInMs).toBe(20_000);
    // Records keep coming: an early timer sends nothing.
    s.frame(record, 26_000);
    expect(s.timer(41_000).write).toHaveLength(0);
    // They stop (the monitor restarted): renewal.
    expect(s.timer(46_000).write).toHaveLength(1);
    expect(s.renewals).toBe(2);
    const stop = s.stopping();
    expect(readPhdbRequest(stop[0]!.subarray(1, -2))).toMatchObject({ intervalS: 0, classBits: 0 });
    s.closed();
    expect(s.state).toBe(SESSION_STATES.CLOSED);
    expect(s.stopping()).toEqual([]);
    expect(s.timer(50_000)).toEqual({ write: [], wakeInMs: null });
  });

  it('asks for extended classes and trend records when configured', () => {
    const s = createDatexSession({ recordType: 'trend-60s', intervalS: 60, classes: ['ext1'] });
    const req = readPhdbRequest(s.opened(0).write[0]!.subarray(1, -2));
    expect(req).toEqual({ recordType: 3, intervalS: 60, classBits: 0x1 | 0x2, driLevel: 0 });
  });
});
