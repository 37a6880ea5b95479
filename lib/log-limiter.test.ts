// The log limiter: a flood of one event becomes two lines per interval (the first, then the count of the rest), each
// key on its own, with every event accounted for in the lines' `suppressed` counts.
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './log.js';
import { createLogLimiter, OVERFLOW_KEY } from './log-limiter.js';

interface Line {
  level: number;
  msg: string;
  suppressed?: number;
  device?: string;
  code?: string;
  keys?: string;
}

function capture() {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line);
      cb();
    },
  });
  return { lines, logger: createLogger('test', 'debug', sink) };
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('log limiter', () => {
  it('logs the first event of a flood, then one line with the number of the others when the interval ends', () => {
    const { lines, logger } = capture();
    const lim = createLogLimiter({ logger, intervalMs: 10_000 });
    for (let i = 0; i < 10_000; i++)
      lim.log(
        'bed01|VW_ERR_FRAME_GARBAGE',
        'warn',
        { device: 'bed01', code: 'VW_ERR_FRAME_GARBAGE' },
        'frame rejected',
      );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ device: 'bed01', code: 'VW_ERR_FRAME_GARBAGE', msg: 'frame rejected', level: 40 });
    expect(lines[0]?.suppressed).toBeUndefined();
    expect(lim.pending()).toBe(9999);
    vi.advanceTimersByTime(9_999);
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ device: 'bed01', code: 'VW_ERR_FRAME_GARBAGE', suppressed: 9999, level: 40 });
    expect(lines[1]?.msg).toMatch(/^frame rejected \(9999 more in 10 s/);
    expect(lim.pending()).toBe(0);
    // A new interval starts with the next event, logged in full.
    lim.log('bed01|VW_ERR_FRAME_GARBAGE', 'warn', { device: 'bed01', code: 'VW_ERR_FRAME_GARBAGE' }, 'frame rejected');
    expect(lines).toHaveLength(3);
    expect(lines[2]?.suppressed).toBeUndefined();
    lim.close();
  });

  it('limits each key on its own: devices and error kinds do not hide each other', () => {
    const { lines, logger } = capture();
    const lim = createLogLimiter({ logger, intervalMs: 1000 });
    for (let i = 0; i < 50; i++) {
      lim.log('bed01|A', 'warn', { device: 'bed01', code: 'A' }, 'x');
      lim.log('bed01|B', 'warn', { device: 'bed01', code: 'B' }, 'x');
      lim.log('bed02|A', 'info', { device: 'bed02', code: 'A' }, 'x');
    }
    expect(lines.map((l) => `${l.device}/${l.code}`)).toEqual(['bed01/A', 'bed01/B', 'bed02/A']);
    vi.advanceTimersByTime(1000);
    const reports = lines.slice(3);
    expect(reports.map((l) => [l.device, l.code, l.suppressed])).toEqual([
      ['bed01', 'A', 49],
      ['bed01', 'B', 49],
      ['bed02', 'A', 49],
    ]);
    expect(reports[2]?.level).toBe(30); // the level of its events
    lim.close();
  });

  it('reports a count when the next event arrives after the interval, even before its timer ran', () => {
    const { lines, logger } = capture();
    let t = 0;
    const lim = createLogLimiter({ logger, intervalMs: 1000, nowMs: () => t });
    lim.log('k', 'warn', {}, 'x');
    lim.log('k', 'warn', {}, 'x');
    t = 5000;
    lim.log('k', 'warn', {}, 'x');
    expect(lines.map((l) => l.suppressed)).toEqual([undefined, 1, undefined]);
    lim.close();
  });

  it('bounds the keys it tracks: events of further keys are counted under one overflow line', () => {
    const { lines, logger } = capture();
    const lim = createLogLimiter({ logger, intervalMs: 1000, maxKeys: 3 });
    for (let peer = 0; peer < 1000; peer++) lim.log(`peer${peer}`, 'warn', { peer }, 'refused');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ keys: 'more than 3' });
    expect(lim.pending()).toBe(996);
    lim.flush();
    expect(lines[4]).toMatchObject({ keys: 'more than 3', suppressed: 996 });
    expect(lim.pending()).toBe(0);
    expect(OVERFLOW_KEY).toBe('(other)');
    lim.close();
  });

  it('flushes what it counted on close and logs nothing more by itself', () => {
    const { lines, logger } = capture();
    const lim = createLogLimiter({ logger, intervalMs: 60_000 });
    lim.log('k', 'error', { code: 'C' }, 'x');
    lim.log('k', 'error', { code: 'C' }, 'x');
    lim.close();
    expect(lines.map((l) => l.suppressed)).toEqual([undefined, 1]);
    vi.advanceTimersByTime(120_000);
    expect(lines).toHaveLength(2);
  });
});
