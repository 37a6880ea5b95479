// Protocol `datex`: GE Datex-Ohmeda S/5 (AS/3, CARESCAPE) computer interface. See docs/datex.md.
import type { Protocol } from '../registry.js';
import { createDatexFramer, ESC, FLAG } from '../framing/datex.js';
import { createDatexState, decodeDatexRecord } from './decode.js';
import { HDR, MAINTYPE, MAX_RECORD_BYTES } from './layout.js';
import { createDatexSession, type DatexSessionOptions } from './session.js';

const MAINTYPES: readonly number[] = Object.values(MAINTYPE);

/** Does a 0x7E in `head` start something that unescapes to a plausible record header
 *  (r_len 40..1490, a known r_maintype)? HL7's '~' (also 0x7E) fails on r_len. */
export function looksLikeDatex(head: Buffer): boolean {
  const hdr = Buffer.alloc(HDR.R_MAINTYPE + 2);
  let from = head.indexOf(FLAG);
  for (let tries = 0; from !== -1 && tries < 4; tries++) {
    let n = 0;
    let i = from + 1;
    while (n < hdr.length && i < head.length) {
      let b = head[i++] as number;
      if (b === FLAG) break;
      if (b === ESC) {
        if (i >= head.length) break;
        const e = head[i++] as number;
        if (e !== 0x5e && e !== 0x5d) break;
        b = e === 0x5e ? FLAG : ESC;
      }
      hdr[n++] = b;
    }
    if (n === hdr.length) {
      const rLen = hdr.readInt16LE(HDR.R_LEN);
      if (rLen >= HDR.SIZE && rLen <= MAX_RECORD_BYTES && MAINTYPES.includes(hdr.readInt16LE(HDR.R_MAINTYPE)))
        return true;
    }
    from = head.indexOf(FLAG, from + 1);
  }
  return false;
}

export const datexProtocol: Protocol = {
  id: 'datex',
  description: 'GE Datex-Ohmeda S/5 computer interface (S/5, AS/3, CARESCAPE): physiological data records',
  createFramer: (opts) =>
    createDatexFramer(opts?.maxFrameBytes !== undefined ? { maxFrameBytes: opts.maxFrameBytes } : {}),
  // Per link: the NIBP's time is known only from the records that showed it change (decode.ts).
  createDecoder: () => {
    const state = createDatexState();
    return { decode: (frame, ctx) => decodeDatexRecord(frame, ctx, state) };
  },
  detect: looksLikeDatex,
  // The S/5 sends nothing until the host's transmission request (session.ts); the options are validated by the
  // gateway config (gateway/session-config.ts).
  createSession: (opts) => createDatexSession(opts as DatexSessionOptions),
};
