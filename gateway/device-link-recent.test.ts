// The bytes the link diagnosis reads (recentBytes) on a link with frame errors. On a quiet machine a pty hands the
// gateway one small chunk per frame; when a Nonin 8 is read at twice its rate, a share of its bytes pass as frames by
// chance (it has no checksum), and each such chunk emptied the bytes kept for the diagnosis, so it never held enough
// to recognise the slower sender (CI: "frame errors 15 %", no baud-rate hint, the passing values unflagged).
import { describe, expect, it } from 'vitest';
import { encodeNonin8Frame } from '../decoders/nonin/encode.js';
import { getProtocol } from '../decoders/registry.js';
import { silentLogger } from '../lib/log.js';
import { ERROR_WINDOW_MIN_MS } from './diagnosis.js';
import { startDeviceLink } from './device-link.js';
import type { LinkHandlers } from './transports/link.js';

async function linkWithHandlers(nowUs: () => number) {
  let h: LinkHandlers | null = null;
  const link = startDeviceLink({
    id: 'ox2',
    protocol: getProtocol('nonin8')!,
    logger: silentLogger(),
    nowUs,
    open: async (handlers) => {
      h = handlers;
      return { write: () => undefined, close: async () => undefined };
    },
    events: { decoded: () => undefined, state: () => undefined },
  });
  for (let i = 0; i < 100 && !h; i++) await new Promise((r) => setTimeout(r, 5));
  return { link, data: (b: Buffer) => h!.data(b) };
}

describe('device link: bytes kept for the diagnosis', () => {
  it('keeps the clean chunks of a link that had errors within the error window, and drops them once it is clean', async () => {
    let t = 1_000_000_000_000;
    const { link, data } = await linkWithHandlers(() => t);
    const good = encodeNonin8Frame({ hr: 72, spo2: 97 });
    data(Buffer.from([0x01, 0x02, 0x03])); // bytes that make no frame: trouble now
    for (let i = 0; i < 20; i++) {
      t += 1_000;
      data(good); // a chunk that is one whole frame
    }
    // 3 + 20 x 4 bytes: the clean chunks right after the trouble are kept.
    expect(link.recentBytes?.().length).toBe(3 + 20 * good.length);
    t += ERROR_WINDOW_MIN_MS * 1000 + 1;
    data(good);
    expect(link.recentBytes?.().length).toBe(0); // clean for a whole window: nothing kept
    await link.stop();
  });
});
