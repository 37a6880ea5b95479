// `vitalwire replay`: a capture written by the gateway's own recorder (gateway/capture.ts) is played back byte for
// byte, chunk by chunk, with its recorded spacing scaled by the speed; a damaged index is refused, not guessed at.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../gateway/capture.js';
import { silentLogger } from '../lib/log.js';
import { loadCapture, playChunks, replayPlan, ReplayFormatError } from './replay.js';

describe('replay of a gateway capture', () => {
  it('plays the recorded chunks in order with their spacing / speed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vw-replay-'));
    try {
      const cap = openCapture(dir, 1 << 20, silentLogger(), () => 1_700_000_000_000_000);
      const w = cap.forDevice('bed01');
      const t0 = 1_700_000_000_000_000;
      const chunks = [Buffer.from('\x0bMSH|a'), Buffer.from('bc\x1c\r'), Buffer.from([0x7e, 0x7d, 0x5e, 0x7e])];
      chunks.forEach((c, i) => w.write(c, t0 + i * 400_000));
      await cap.close();
      const raw = readdirSync(dir).find((f) => f.endsWith('.raw'))!;
      const plan = loadCapture(join(dir, raw), 4);
      expect(plan.map((c) => c.bytes.toString('hex'))).toEqual(chunks.map((c) => c.toString('hex')));
      expect(plan.map((c) => c.delayMs)).toEqual([0, 100, 100]);
      const got: Buffer[] = [];
      expect(await playChunks(plan, (b) => void got.push(b))).toBe(Buffer.concat(chunks).length);
      expect(Buffer.concat(got).equals(Buffer.concat(chunks))).toBe(true);
      expect(loadCapture(join(dir, raw), 0).every((c) => c.delayMs === 0)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an index that does not match its raw file', () => {
    expect(() => replayPlan(Buffer.from('abc'), '1 2\n2 5\n')).toThrow(ReplayFormatError);
    expect(() => replayPlan(Buffer.from('abc'), '1 2\n')).toThrow(/covers 2 of the raw file's 3 bytes/);
    expect(() => replayPlan(Buffer.from('abc'), 'x 3\n')).toThrow(/index line 1/);
  });
});
