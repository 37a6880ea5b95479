// Drives a protocol's host-side session (decoders/session.ts) on a device link: writes what the session asks to
// write, keeps its one timer, feeds it link events and decoded frames, and reports its state (DeviceStatus.session).
// The session itself is sans-I/O; this is the only place its bytes meet the link.
import type { Decoded } from '../decoders/decoded.js';
import type { ProtocolSession, SessionStep } from '../decoders/session.js';
import type { Link } from './transports/link.js';

export interface SessionDriver {
  readonly state: string;
  opened(link: Link): void;
  decoded(d: Decoded): void;
  closed(): void;
  /** The gateway stops: the session's closing bytes go out on the link. */
  stopping(link: Link | undefined): void;
}

export function createSessionDriver(
  s: ProtocolSession,
  o: { onState(state: string): void; onWrite?(bytes: number): void; nowMs?: () => number },
): SessionDriver {
  const now = o.nowMs ?? (() => performance.now());
  let link: Link | undefined;
  let timer: NodeJS.Timeout | undefined;
  let last = s.state;
  const apply = (step: SessionStep): void => {
    for (const b of step.write) {
      if (!link) break;
      link.write(b);
      o.onWrite?.(b.length);
    }
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (step.wakeInMs !== null && link) {
      timer = setTimeout(() => {
        timer = undefined;
        apply(s.timer(now()));
      }, step.wakeInMs);
      timer.unref();
    }
    if (s.state !== last) {
      last = s.state;
      o.onState(last);
    }
  };
  return {
    get state() {
      return s.state;
    },
    opened(l) {
      link = l;
      apply(s.opened(now()));
    },
    decoded(d) {
      if (link) apply(s.frame(d, now()));
    },
    closed() {
      link = undefined;
      if (timer) clearTimeout(timer);
      timer = undefined;
      s.closed();
      if (s.state !== last) {
        last = s.state;
        o.onState(last);
      }
    },
    stopping(l) {
      if (l) for (const b of s.stopping()) l.write(b);
      link = undefined;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
