// Length- and CRC-framed records in append-only files, sans-I/O apart from syncDir: the one format of the gateway's
// outbox segments and the archive's journal.
//
//   frame = u32 LE body length | u32 LE CRC-32 of the body | body
//
// A frame whose length runs past the end of the file, whose length is 0 or beyond MAX_BODY_BYTES, or whose CRC does
// not match is a torn tail (a write cut by a crash or power loss): everything from it on is discarded, everything
// before it is kept.
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_BYTES = 8;
/** A body larger than this is not ours: a corrupt length field. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Frames a body: header and body in one new buffer. */
export function frameRecord(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  body.copy(out, FRAME_HEADER_BYTES);
  return out;
}

export interface ScanResult {
  /** Bytes of whole, valid frames from the start. */
  end: number;
  /** True when bytes after `end` were discarded (a torn or corrupt tail). */
  torn: boolean;
}

/** Walks the frames of a file's contents; stops at the first torn or corrupt one. */
export function scanFrames(buf: Buffer, visit: (type: number, body: Buffer, bodyOffset: number) => void): ScanResult {
  let o = 0;
  while (o < buf.length) {
    if (buf.length - o < FRAME_HEADER_BYTES) return { end: o, torn: true };
    const len = buf.readUInt32LE(o);
    if (len === 0 || len > MAX_BODY_BYTES || o + FRAME_HEADER_BYTES + len > buf.length) return { end: o, torn: true };
    const body = buf.subarray(o + FRAME_HEADER_BYTES, o + FRAME_HEADER_BYTES + len);
    if (crc32(body) !== buf.readUInt32LE(o + 4)) return { end: o, torn: true };
    visit(body[0] ?? 0, body, o + FRAME_HEADER_BYTES);
    o += FRAME_HEADER_BYTES + len;
  }
  return { end: o, torn: false };
}

/** fsyncs a directory, so a file created (or renamed, or unlinked) in it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
