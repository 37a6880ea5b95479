// Shared parts of the gateway's chaos scenarios (test/gateway-*.test.ts run them short; test/chaos/run.ts long):
// a real TLS Aedes broker (the central side's composition root with the dev PKI) that can be stopped and restarted on the same port, an
// in-process subscriber that records every Batch, simulated monitors that number what they send, and the analysis
// that turns it into figures: sent, received, lost, duplicated, gaps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AedesPublishPacket } from 'aedes';
import { startCentral, type Central } from '../../central/central.js';
import { centralConfig } from '../../central/config.js';
import { ensureDevPki } from '../../broker/pki.js';
import { createUserStore, hashPassword, type UserStore } from '../../broker/users.js';
import { createMllpFramer, mllpWrap } from '../../decoders/framing/mllp.js';
import { encodePcd01 } from '../../decoders/hl7/encode.js';
import type { GatewayConfigInput } from '../../gateway/config.js';
import { silentLogger } from '../../lib/log.js';
import { parseStreamTopic, type StreamKind } from '../../lib/topics.js';
import { Batch, Kind, type IGap } from '../../proto/index.js';
import type { Sink } from '../../simulators/sinks.js';

export const SITE = 'chaos';
export const GATEWAY = 'gw1';
const HR = { mdc: 147842, refid: 'MDC_ECG_CARD_BEAT_RATE', unitMdc: 264864, unitRefid: 'MDC_DIM_BEAT_PER_MIN' };

export interface Rx {
  device: string;
  kind: StreamKind;
  seq: number;
  backfill: boolean;
  retain: boolean;
  /** Which broker instance delivered it (0, 1, ... after restarts). */
  epoch: number;
  /** Message counters carried (the HR value of each observation). */
  values: number[];
  gaps: IGap[];
  statuses: number[];
}

export class Rig {
  readonly dir: string;
  readonly received: Rx[] = [];
  central: Central | null = null;
  port = 0;
  epoch = -1;
  tls: { ca: string; cert: string; key: string } = { ca: '', cert: '', key: '' };

  /** Counts kept when `keep` is false (benches): messages, and backfill ones with their first and last arrival. */
  readonly tally = { messages: 0, backfill: 0, firstBackfillMs: 0, lastBackfillMs: 0 };
  private readonly keep: boolean;

  constructor(name: string, o: { keep?: boolean } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), `vw-${name}-`));
    this.keep = o.keep ?? true;
  }

  async startBroker(): Promise<void> {
    if (!this.tls.ca) {
      const pki = await ensureDevPki(this.dir, { site: SITE, gateway: GATEWAY, hosts: ['127.0.0.1'] });
      this.tls = { ca: pki.caCert, cert: pki.gatewayCert, key: pki.gatewayKey };
      this.brokerTls = { ca: pki.caCert, cert: pki.brokerCert, key: pki.brokerKey };
    }
    // An observer account for tests that subscribe over MQTT (password 'observer-pw').
    this.users ??= createUserStore([
      { name: 'observer', role: 'observer', sites: [SITE], hash: await hashPassword('observer-pw') },
    ]);
    // The same port again after a restart, as a real broker comes back at its address.
    await this.releasePort();
    const config = centralConfig({ listen: { host: '127.0.0.1', port: this.port }, tls: this.brokerTls }, 'chaos rig');
    const central = await startCentral({
      config,
      baseDir: this.dir,
      logger: silentLogger(),
      parts: { users: this.users },
    });
    this.epoch++;
    const epoch = this.epoch;
    await new Promise<void>((resolve) =>
      central.broker.aedes.subscribe(
        'vw/v1/#',
        (packet: AedesPublishPacket, cb: () => void) => {
          this.record(packet, epoch);
          cb();
        },
        resolve,
      ),
    );
    this.central = central;
    this.port = central.broker.port;
  }

  private users: UserStore | undefined;
  /** The broker's TLS files. */
  private brokerTls = { ca: '', cert: '', key: '' };

  private record(packet: AedesPublishPacket, epoch: number): void {
    const t = parseStreamTopic(packet.topic);
    if (!t) return;
    const p = packet.payload;
    const b = Batch.decode(Buffer.isBuffer(p) ? p : Buffer.from(p));
    this.tally.messages++;
    if (b.backfill) {
      const now = Date.now();
      this.tally.backfill++;
      this.tally.firstBackfillMs ||= now;
      this.tally.lastBackfillMs = now;
    }
    if (!this.keep) return;
    this.received.push({
      device: t.device,
      kind: t.kind,
      seq: Number(b.seq),
      backfill: b.backfill,
      retain: packet.retain,
      epoch,
      values: b.observations.filter((o) => o.refid === HR.refid).map((o) => Number(o.number)),
      gaps: b.gaps,
      statuses: b.statuses.map((s) => s.state ?? 0),
    });
  }

  async stopBroker(): Promise<void> {
    const c = this.central;
    this.central = null;
    await c?.close();
    if (c) await this.holdPort();
  }

  /**
   * While the broker is down its port is held by a listener that resets every connection (a gateway sees its broker
   * down either way), so no other test's socket takes it before the restart: a listening socket keeps the port out of
   * both bind() and the ephemeral ports connect() picks.
   */
  private async holdPort(): Promise<void> {
    const holder = createServer((s) => s.destroy());
    const held = await new Promise<boolean>((resolve) => {
      holder.once('error', () => resolve(false)); // taken already: the restart will say so
      holder.listen(this.port, '127.0.0.1', () => resolve(true));
    });
    this.holder = held ? holder : null;
  }

  private async releasePort(): Promise<void> {
    const h = this.holder;
    this.holder = null;
    if (h) await new Promise((r) => h.close(r));
  }

  private holder: Server | null = null;

  get url(): string {
    return `mqtts://127.0.0.1:${this.port}`;
  }

  /** A gateway config for this rig: its broker, its certificates, a data dir under the rig. Its devices are all
   *  simulators, so each is `simulated` unless the caller says otherwise. */
  config(devices: GatewayConfigInput['devices'], over: Partial<GatewayConfigInput> = {}): GatewayConfigInput {
    return {
      site: SITE,
      gateway: GATEWAY,
      broker: { urls: [this.url], reconnect: { minMs: 100, maxMs: 1000 }, connectTimeoutMs: 3000 },
      tls: this.tls,
      dataDir: join(this.dir, 'gateway'),
      devices: devices.map((d) => ({ simulated: true, ...d })),
      ...over,
    };
  }

  async close(): Promise<void> {
    await this.stopBroker();
    await this.releasePort();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One PCD-01 message whose HR value is the message counter n (a synthetic test value), marked as not production
 *  data (MSH-11 T) as every simulator's message is. */
export function counterMessage(n: number, timeUs: number, waveSamples = 0): Buffer {
  return mllpWrap(
    encodePcd01({
      controlId: `C${n}`,
      timeUs,
      processingId: 'T',
      numerics: [{ ...HR, value: n }],
      ...(waveSamples > 0
        ? {
            waves: [
              {
                mdc: 131330,
                refid: 'MDC_ECG_ELEC_POTL_II',
                containment: '1.1.1.131330',
                samples: Array.from({ length: waveSamples }, (_, i) => ((n * 31 + i * 17) % 2000) - 1000),
                rateHz: 500,
                resolution: 0.001,
                unitMdc: 266418,
                unitRefid: 'MDC_DIM_MILLI_VOLT',
              },
            ],
          }
        : {}),
    }),
  );
}

/** A streaming monitor (serial or TCP): sends counter messages at rateHz to a sink; never waits for anything. */
export function streamCounter(sink: () => Sink | null, rateHz: number, waveSamples = 0) {
  const sent: { n: number; atMs: number }[] = [];
  let n = 0;
  const timer = setInterval(() => {
    const s = sink();
    if (!s) return;
    n++;
    s.write(counterMessage(n, Date.now() * 1000, waveSamples));
    sent.push({ n, atMs: Date.now() });
  }, 1000 / rateHz);
  return { sent, stop: () => clearInterval(timer) };
}

/**
 * An MLLP sender as bedside monitors behave: sends message n, waits for its ACK (at most ackTimeoutMs), and on a
 * timeout or a dropped connection reconnects and resends the same message. `acked` are the counters it got AA for.
 */
export function mllpCounter(port: number, o: { ackTimeoutMs?: number; gapMs?: number } = {}) {
  const acked: number[] = [];
  let sentMessages = 0;
  let n = 1;
  let stopped = false;
  let sock: Socket | null = null;
  let msg: Buffer | null = null;
  let msgN = 0;
  const run = async () => {
    while (!stopped) {
      const s = await new Promise<Socket | null>((resolve) => {
        const c = connect(port, '127.0.0.1');
        c.once('connect', () => resolve(c));
        c.once('error', () => resolve(null));
      });
      if (!s) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      sock = s;
      s.on('error', () => undefined);
      let answer: ((code: string) => void) | null = null;
      const framer = createMllpFramer();
      s.on('data', (b: Buffer) =>
        framer.push(b, {
          frame: (f) => answer?.(/\rMSA\|([A-Z]{2})\|/.exec(f.toString('latin1'))?.[1] ?? '?'),
          error: () => undefined,
        }),
      );
      const closed = new Promise<string>((r) => s.once('close', () => r('closed')));
      while (!stopped && !s.destroyed) {
        // A resend is the same message (same MSH-10, same content), as monitors do.
        if (msgN !== n || !msg) {
          msg = counterMessage(n, Date.now() * 1000);
          msgN = n;
        }
        const got = new Promise<string>((r) => (answer = r));
        s.write(msg);
        sentMessages++;
        const code = await Promise.race([
          got,
          closed,
          new Promise<string>((r) => setTimeout(() => r('timeout'), o.ackTimeoutMs ?? 2000)),
        ]);
        answer = null;
        if (code === 'AA') {
          acked.push(n);
          n++;
          if (o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
        } else if (code === 'timeout' || code === 'closed') {
          s.destroy();
          break;
        }
      }
    }
  };
  const done = run();
  return {
    acked,
    get sentMessages() {
      return sentMessages;
    },
    async stop() {
      stopped = true;
      sock?.destroy();
      await done;
    },
  };
}

export interface Figures {
  /** Counter values the devices handed over (streaming: written; MLLP: acknowledged). */
  sent: number;
  /** Distinct counter values received. */
  received: number;
  lost: number;
  /** The first lost values, for diagnosis. */
  lostValues: string[];
  /** Messages received more than once under the same seq (QoS 1 duplicates, dropped by seq). */
  duplicated: number;
  /** Values received under two different seqs (duplicates a consumer could not detect): must be 0. */
  undetectable: number;
  /** Gap markers received, by reason number. */
  gaps: Record<number, number>;
  /** seqs of obs streams neither received nor inside a Gap: must be 0. */
  holes: number;
  /** Batches received live and as backfill. */
  live: number;
  backfill: number;
}

/** The figures of a run: `expected` are the values each device handed to the gateway. */
export function analyse(rx: readonly Rx[], expected: ReadonlyMap<string, readonly number[]>): Figures {
  const firstBySeq = new Map<string, Rx>();
  let duplicated = 0;
  let live = 0;
  let backfill = 0;
  const gaps: Record<number, number> = {};
  const gapSeqs = new Map<string, Set<number>>();
  for (const r of rx) {
    const key = `${r.device}/${r.kind}/${r.seq}`;
    if (r.seq === 0) continue; // the last will: not sequenced
    if (firstBySeq.has(key)) {
      duplicated++;
      continue;
    }
    firstBySeq.set(key, r);
    if (r.backfill) backfill++;
    else live++;
    for (const g of r.gaps) {
      gaps[g.reason ?? 0] = (gaps[g.reason ?? 0] ?? 0) + 1;
      const kindName =
        g.kind === Kind.KIND_OBS
          ? 'obs'
          : g.kind === Kind.KIND_WAVE
            ? 'wave'
            : g.kind === Kind.KIND_ALARM
              ? 'alarm'
              : g.kind === Kind.KIND_STATUS
                ? 'status'
                : '';
      if (!kindName) continue;
      const k = `${r.device}/${kindName}`;
      let set = gapSeqs.get(k);
      if (!set) gapSeqs.set(k, (set = new Set()));
      for (let s = Number(g.fromSeq); s <= Number(g.toSeq) && s > 0; s++) set.add(s);
    }
  }
  const valueSeq = new Map<string, number>();
  let undetectable = 0;
  const seqsByStream = new Map<string, number[]>();
  for (const r of firstBySeq.values()) {
    const stream = `${r.device}/${r.kind}`;
    let list = seqsByStream.get(stream);
    if (!list) seqsByStream.set(stream, (list = []));
    list.push(r.seq);
    for (const v of r.values) {
      const k = `${r.device}:${v}`;
      const prev = valueSeq.get(k);
      if (prev !== undefined && prev !== r.seq) undetectable++;
      valueSeq.set(k, r.seq);
    }
  }
  let holes = 0;
  for (const [stream, seqs] of seqsByStream) {
    if (!stream.endsWith('/obs')) continue;
    const have = new Set(seqs);
    const shed = gapSeqs.get(stream) ?? new Set<number>();
    const max = Math.max(...seqs, ...shed);
    for (let s = 1; s <= max; s++) if (!have.has(s) && !shed.has(s)) holes++;
  }
  let sent = 0;
  let received = 0;
  let lost = 0;
  const lostValues: string[] = [];
  for (const [device, values] of expected) {
    for (const v of values) {
      sent++;
      if (valueSeq.has(`${device}:${v}`)) received++;
      else {
        lost++;
        if (lostValues.length < 20) lostValues.push(`${device}:${v}`);
      }
    }
  }
  return { sent, received, lost, lostValues, duplicated, undetectable, gaps, holes, live, backfill };
}

export async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
