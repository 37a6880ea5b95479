// Raw device capture (`vitalwire gateway --record DIR`): every byte a device link received, with its receive time, for
// replay and for fixtures. Per device and run two files: <device>-<start>.raw holds the bytes exactly as received (so
// `vitalwire decode FILE.raw` reads it as it is) and <device>-<start>.idx one line per chunk, "<gateway time us>
// <bytes>". Best effort and bounded: recording never slows a device link; past maxBytes (all devices together) or
// when the disk does not keep up, recording stops for that device with VW_ERR_CAPTURE. Captures hold patient data:
// the directory is created mode 0700 and the files 0600.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../lib/log.js';

/** Bytes a capture file may have queued for the disk before recording for that device stops. */
export const CAPTURE_MAX_QUEUED_BYTES = 8 * 1024 * 1024;

export interface CaptureWriter {
  write(chunk: Buffer, timeUs: number): void;
  close(): Promise<void>;
}

export interface Capture {
  forDevice(device: string): CaptureWriter;
  readonly counters: { bytes: number; chunks: number; stopped: number };
  close(): Promise<void>;
}

function stamp(us: number): string {
  return new Date(Math.floor(us / 1000))
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export function openCapture(dir: string, maxBytes: number, logger: Logger, nowUs: () => number): Capture {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const counters = { bytes: 0, chunks: 0, stopped: 0 };
  const writers: CaptureWriter[] = [];
  const end = (s: WriteStream) => new Promise<void>((res) => (s.closed ? res() : s.end(() => res())));
  return {
    counters,
    forDevice(device) {
      const base = join(dir, `${device}-${stamp(nowUs())}`);
      const raw = createWriteStream(`${base}.raw`, { mode: 0o600, flags: 'a' });
      const idx = createWriteStream(`${base}.idx`, { mode: 0o600, flags: 'a' });
      let on = true;
      const stop = (why: string) => {
        if (!on) return;
        on = false;
        counters.stopped++;
        logger.warn({ code: 'VW_ERR_CAPTURE', device, why }, 'raw capture stopped for this device');
      };
      raw.on('error', (e) => stop(e.message));
      idx.on('error', (e) => stop(e.message));
      const w: CaptureWriter = {
        write(chunk, timeUs) {
          if (!on) return;
          if (counters.bytes + chunk.length > maxBytes) return stop(`record.maxBytes (${maxBytes}) reached`);
          if (raw.writableLength > CAPTURE_MAX_QUEUED_BYTES) return stop('the disk does not keep up');
          counters.bytes += chunk.length;
          counters.chunks++;
          raw.write(chunk);
          idx.write(`${timeUs} ${chunk.length}\n`);
        },
        async close() {
          on = false;
          await Promise.all([end(raw), end(idx)]);
        },
      };
      writers.push(w);
      return w;
    },
    async close() {
      await Promise.all(writers.map((w) => w.close()));
    },
  };
}
