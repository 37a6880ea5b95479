// Replays a raw capture made by the gateway (`vitalwire gateway --record DIR`, gateway/capture.ts): <device>-<start>.raw
// holds the bytes as received, <device>-<start>.idx one line per chunk "<gateway time us> <bytes>". The plan is pure:
// each chunk with its delay from the previous one at the chosen speed, so a field capture becomes a regression test
// that arrives at the gateway as it once did (or faster).
import { readFileSync } from 'node:fs';

export interface ReplayChunk {
  bytes: Buffer;
  /** Wait this long after the previous chunk (ms) before writing this one. */
  delayMs: number;
}

export class ReplayFormatError extends Error {}

/** The chunks of a capture, with delays scaled by 1/speed (speed 0 or Infinity: as fast as possible). */
export function replayPlan(raw: Buffer, idx: string, speed = 1): ReplayChunk[] {
  const out: ReplayChunk[] = [];
  let at = 0;
  let prevUs: number | null = null;
  const lines = idx.split('\n');
  lines.forEach((line, n) => {
    if (line.trim() === '') return;
    const m = /^(\d+) (\d+)$/.exec(line.trim());
    if (!m) throw new ReplayFormatError(`index line ${n + 1}: expected "<time us> <bytes>"`);
    const us = Number(m[1]);
    const len = Number(m[2]);
    if (at + len > raw.length)
      throw new ReplayFormatError(`index line ${n + 1}: runs past the end of the raw file (${raw.length} bytes)`);
    const gap = prevUs === null ? 0 : Math.max(0, us - prevUs) / 1000;
    out.push({ bytes: raw.subarray(at, at + len), delayMs: speed > 0 && Number.isFinite(speed) ? gap / speed : 0 });
    at += len;
    prevUs = us;
  });
  if (at !== raw.length) throw new ReplayFormatError(`the index covers ${at} of the raw file's ${raw.length} bytes`);
  return out;
}

/** Reads FILE.raw and its FILE.idx (either name may be given). */
export function loadCapture(file: string, speed = 1): ReplayChunk[] {
  const base = file.replace(/\.(raw|idx)$/, '');
  return replayPlan(readFileSync(`${base}.raw`), readFileSync(`${base}.idx`, 'utf8'), speed);
}

/** Writes the chunks with their delays; resolves when done (or stopped). */
export async function playChunks(
  chunks: readonly ReplayChunk[],
  write: (b: Buffer) => void,
  o: { stopped?: () => boolean } = {},
): Promise<number> {
  let written = 0;
  // Delays are kept against a running schedule, so timer lateness does not accumulate over a long capture.
  let due = performance.now();
  for (const c of chunks) {
    if (o.stopped?.()) break;
    due += c.delayMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    write(c.bytes);
    written += c.bytes.length;
  }
  return written;
}
