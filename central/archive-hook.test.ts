import { describe, expect, it } from 'vitest';
import type { Archive } from '../archive/archive.js';
import { archiveHook } from './central.js';

/** An archive that records what it was handed and acknowledges at once. */
function recordingArchive(): { archive: Archive; appended: string[] } {
  const appended: string[] = [];
  const archive = {
    append(topic: string, _payload: Uint8Array, done: (err?: Error | null) => void) {
      appended.push(topic);
      done();
    },
  } as unknown as Archive;
  return { archive, appended };
}

describe('archiveHook', () => {
  it('journals stream topics only, and acknowledges everything else at once, however often a topic repeats', () => {
    const { archive, appended } = recordingArchive();
    const hook = archiveHook(archive);
    const acks: string[] = [];
    const topics = [
      'vw/v1/site-a/gw1/bed01/obs', // stream
      'vw/v1/site-a/gw1/bed01/wave', // stream
      'vwcmd/v1/site-a/gw1/reload', // command: not clinical data
      'lab/anything', // a user's own topic
      'vw/v1/site-a/gw1/bed01/notakind', // not a stream kind
      'vw/v1/site-a/gw#/bed01/obs', // a segment no stream may have
    ];
    for (let round = 0; round < 3; round++)
      for (const t of topics) hook(t, Buffer.alloc(0), (err) => acks.push(err ? `err ${t}` : t));
    expect(acks).toEqual([...topics, ...topics, ...topics]);
    const streams = ['vw/v1/site-a/gw1/bed01/obs', 'vw/v1/site-a/gw1/bed01/wave'];
    expect(appended).toEqual([...streams, ...streams, ...streams]);
  });

  it('stays right past the number of topics it remembers', () => {
    const { archive, appended } = recordingArchive();
    const hook = archiveHook(archive);
    const n = 40_000; // more than the memo holds: it starts again and keeps answering correctly
    for (let i = 0; i < n; i++) {
      hook(`vw/v1/site-a/gw1/dev${i}/obs`, Buffer.alloc(0), () => undefined);
      hook(`other/dev${i}`, Buffer.alloc(0), () => undefined);
    }
    hook('vw/v1/site-a/gw1/dev0/obs', Buffer.alloc(0), () => undefined);
    hook('other/dev0', Buffer.alloc(0), () => undefined);
    expect(appended.length).toBe(n + 1);
    expect(appended.at(-1)).toBe('vw/v1/site-a/gw1/dev0/obs');
  });
});
