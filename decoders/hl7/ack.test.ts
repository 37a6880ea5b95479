import { describe, expect, it } from 'vitest';
import { buildAck } from './ack.js';

const now = Date.UTC(2026, 10, 23, 7, 0, 0) * 1000;
const msg = (msh15: string, msh16: string, enc = '^~\\&') =>
  Buffer.from(
    `MSH|${enc}|MON^0123456789ABCDEF^EUI-64|WARD|GW|HOSP|20261123140000+0700||ORU^R01^ORU_R01|CTRL77|P|2.6|||${msh15}|${msh16}\rOBX|1|NM|x||1\r`,
  );

describe('HL7 ACK', () => {
  it('accepts with MSA|AA and the original control id, sender and receiver swapped (HL7 2.9.2)', () => {
    const r = buildAck(msg('AL', 'NE'), { code: 'AA', controlId: 'A1', nowUs: now, utcOffsetMin: 420 });
    expect(r.originalControlId).toBe('CTRL77');
    const segs = (r.message ?? '').split('\r').filter(Boolean);
    expect(segs).toHaveLength(2);
    const msh = segs[0]!.split('|');
    expect(msh.slice(0, 6)).toEqual(['MSH', '^~\\&', 'GW', 'HOSP', 'MON^0123456789ABCDEF^EUI-64', 'WARD']);
    expect(msh[6]).toBe('20261123140000.000+0700');
    expect(msh[8]).toBe('ACK^R01^ACK');
    expect(msh[9]).toBe('A1');
    expect(msh[10]).toBe('P');
    expect(msh[11]).toBe('2.6');
    expect(segs[1]).toBe('MSA|AA|CTRL77');
  });

  it('sends AE and AR with an ERR segment', () => {
    const ae =
      buildAck(msg('AL', 'NE'), { code: 'AE', controlId: 'A2', nowUs: now, text: 'outbox full' }).message ?? '';
    expect(ae).toContain('\rMSA|AE|CTRL77\r');
    expect(ae).toContain('\rERR|||207^Application internal error^HL70357|E||||outbox full\r');
    const ar = buildAck(msg('AL', 'NE'), { code: 'AR', controlId: 'A3', nowUs: now }).message ?? '';
    expect(ar).toContain('\rMSA|AR|CTRL77\r');
    expect(ar).toContain('200^Unsupported message type^HL70357');
  });

  it('follows MSH-15/16 (HL7 Table 0155) and original mode', () => {
    const send = (a: string, b: string, code: 'AA' | 'AE') =>
      buildAck(msg(a, b), { code, controlId: 'x', nowUs: now }).message !== null;
    expect(send('', '', 'AA')).toBe(true); // original mode: always
    expect(send('NE', 'NE', 'AA')).toBe(false);
    expect(send('NE', 'NE', 'AE')).toBe(false);
    expect(send('ER', 'NE', 'AA')).toBe(false);
    expect(send('ER', 'NE', 'AE')).toBe(true);
    expect(send('SU', 'NE', 'AA')).toBe(true);
    expect(send('SU', 'NE', 'AE')).toBe(false);
    expect(send('NE', 'AL', 'AA')).toBe(true);
  });

  it('keeps a five-character encoding field (HL7 2.7 truncation character)', () => {
    const r = buildAck(msg('AL', 'NE', '^~\\&#'), { code: 'AA', controlId: 'x', nowUs: now });
    expect(r.message?.startsWith('MSH|^~\\&#|GW|')).toBe(true);
  });

  it('rejects an unreadable message with an empty MSA-2', () => {
    const r = buildAck(Buffer.from('garbage'), { code: 'AA', controlId: 'x', nowUs: now });
    expect(r.originalControlId).toBe('');
    expect(r.message).toContain('\rMSA|AR|\r');
  });

  it('never lets error text break the ACK structure', () => {
    const r = buildAck(msg('AL', 'NE'), { code: 'AE', controlId: 'x', nowUs: now, text: 'a|b^c\rd' });
    expect((r.message ?? '').split('\r').filter(Boolean)).toHaveLength(3);
  });
});
