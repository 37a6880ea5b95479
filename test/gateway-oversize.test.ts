// Issue 14, finding 1: one HL7 message under the MLLP listener's 1 MiB limit became a Batch above the broker's 256 KiB
// packet limit; the broker dropped the connection, the gateway resent the same record forever (every bed dark), and
// the record being durable, the loop survived restarts. On real parts (an MLLP sender, the gateway, a TLS Aedes broker
// with its default limits): a 300k-sample waveform, a 2,500-row trend dump, a 300 KB free text and an observation whose
// code alone is 300 KB. The queue moves, the other bed keeps flowing, what can be split arrives whole, what can be cut is
// cut and flagged, and what can be neither is set aside with a Gap. Then a gateway upgraded onto an outbox that already
// holds such a record: it sets it aside at start and never loops.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import type { AedesPublishPacket } from 'aedes';
import { afterAll, describe, expect, it } from 'vitest';
import { createMllpFramer, mllpWrap } from '../decoders/framing/mllp.js';
import { encodePcd01 } from '../decoders/hl7/encode.js';
import { gatewayConfig } from '../gateway/config.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { Outbox } from '../gateway/outbox/outbox.js';
import { startUplink } from '../gateway/publisher.js';
import { silentLogger } from '../lib/log.js';
import { parseStreamTopic, type StreamKind } from '../lib/topics.js';
import { Batch, Flag, GapReason, Kind } from '../proto/index.js';
import type { vitalwire } from '../proto/gen/vitals.js';
import { openTcpSink, type Sink } from '../simulators/sinks.js';
import { GATEWAY, Rig, SITE, streamCounter, until } from './chaos/harness.js';

const T = Date.UTC(2026, 5, 1, 8) * 1000;
const HR = { mdc: 147842, refid: 'MDC_ECG_CARD_BEAT_RATE', unitMdc: 264864, unitRefid: 'MDC_DIM_BEAT_PER_MIN' };
const WAVE_SAMPLES = 300_000;
const TREND_ROWS = 2500;
const TEXT = 'Sinus rhythm with occasional ventricular ectopy. '.repeat(6000); // 300 KB of free text (OBX TX)

/** Samples of 1 byte each on the wire (zigzag varints of -9..9): the Batch alone is ~300 KB. */
const waveSamples = Array.from({ length: WAVE_SAMPLES }, (_, i) => (i % 19) - 9);

function waveMessage(): Buffer {
  return mllpWrap(
    encodePcd01({
      controlId: 'WAVE1',
      timeUs: T,
      processingId: 'T',
      waves: [
        {
          mdc: 131330,
          refid: 'MDC_ECG_ELEC_POTL_II',
          containment: '1.1.1.131330',
          samples: waveSamples,
          rateHz: 500,
          resolution: 0.001,
          unitMdc: 266418,
          unitRefid: 'MDC_DIM_MILLI_VOLT',
        },
      ],
    }),
  );
}

/** A monitor's trend dump: a heart rate a minute for 2,500 minutes in one ORU (the values are synthetic). */
function trendMessage(): Buffer {
  return mllpWrap(
    encodePcd01({
      controlId: 'TREND1',
      timeUs: T,
      processingId: 'T',
      numerics: Array.from({ length: TREND_ROWS }, (_, i) => ({
        ...HR,
        value: 1000 + i,
        timeUs: T - (TREND_ROWS - i) * 60e6,
      })),
    }),
  );
}

const HEAD = (id: string) =>
  `MSH|^~\\&|MON|VITALWIRE|||20260601080000||ORU^R01^ORU_R01|${id}|T|2.6\rPID|||\rOBR|1|${id}^V|${id}^V|182777000^monitoring of patient^SCT|||20260601080000\r`;
/** A free-text row (a vendor's note code) 300 KB long, and a heart rate after it. */
const textMessage = () =>
  mllpWrap(
    `${HEAD('TEXT1')}OBX|1|TX|9001^NOTE^99VND|1.1.1.9001|${TEXT}||||||R\rOBX|2|NM|147842^MDC_ECG_CARD_BEAT_RATE^MDC|1.1.1.147842|77|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R\r`,
  );
/** A row whose code (OBX-3, kept as vendor_code) is 300 KB: nothing in it can be cut without changing what it is. */
const codeMessage = () =>
  mllpWrap(
    `${HEAD('CODE1')}OBX|1|NM|99999^${'X'.repeat(300_000)}^99VND|1.1.1.1|42|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R\r`,
  );

/** Sends one message over MLLP and resolves with the ACK code (AA, AE, AR). */
function sendMllp(port: number, msg: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const framer = createMllpFramer();
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('no ACK within 20 s'));
    }, 20_000);
    s.on('data', (b: Buffer) =>
      framer.push(b, {
        frame: (f) => {
          clearTimeout(t);
          resolve(/\rMSA\|([A-Z]{2})\|/.exec(f.toString('latin1'))?.[1] ?? '?');
          s.end();
        },
        error: () => undefined,
      }),
    );
    s.on('error', reject);
    s.write(msg);
  });
}

interface Got {
  device: string;
  kind: StreamKind;
  batch: vitalwire.v1.Batch;
}

function subscribeAll(rig: Rig): Promise<Got[]> {
  const got: Got[] = [];
  return new Promise((resolve) =>
    rig.central?.broker.aedes.subscribe(
      'vw/v1/#',
      (packet: AedesPublishPacket, cb: () => void) => {
        const t = parseStreamTopic(packet.topic);
        if (t) got.push({ device: t.device, kind: t.kind, batch: Batch.decode(packet.payload as Buffer) });
        cb();
      },
      () => resolve(got),
    ),
  );
}

const unsendableGaps = (got: Got[], device: string) =>
  got
    .filter((g) => g.device === device)
    .flatMap((g) => g.batch.gaps)
    .filter((g) => g.reason === GapReason.GAP_REASON_UNSENDABLE);

function deadLetterBytes(dataDir: string): number {
  const dir = join(dataDir, 'outbox', 'dead');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
}

describe('gateway: messages larger than the broker takes (issue 14)', () => {
  const rig = new Rig('oversize');
  const sinks: Sink[] = [];
  let gw: Gateway | null = null;
  afterAll(async () => {
    await gw?.close();
    for (const s of sinks) await s.close();
    await rig.close();
  });

  it('splits, cuts or sets aside what does not fit; the queue moves and the other bed keeps flowing', async () => {
    await rig.startBroker();
    const got = await subscribeAll(rig);
    const tcp = await openTcpSink('127.0.0.1', 0);
    sinks.push(tcp);
    gw = await startGateway({
      config: gatewayConfig(
        rig.config(
          [
            {
              id: 'bed01',
              protocol: 'hl7',
              transport: { kind: 'mllp-listener', host: '127.0.0.1', port: 0, allowedPeers: ['127.0.0.1'] },
            },
            { id: 'bed02', protocol: 'hl7', transport: { kind: 'tcp', host: '127.0.0.1', port: tcp.port ?? 0 } },
          ],
          { batching: { obsMs: 100 } },
        ),
      ),
      logger: silentLogger(),
    });
    const g = gw;
    await until(() => g.uplink.isConnected() && g.devices.every((d) => d.state !== 'connecting'), 'gateway connected');
    const mon = streamCounter(() => tcp, 20);
    try {
      const bed02Values = () =>
        rig.received.filter((r) => r.device === 'bed02').reduce((a, r) => a + r.values.length, 0);
      await until(() => bed02Values() >= 5, 'bed02 flowing');
      const port = g.mllpPorts.get('bed01') ?? 0;
      // Every one is stored before its ACK, as any message.
      expect(await sendMllp(port, waveMessage())).toBe('AA');
      expect(await sendMllp(port, trendMessage())).toBe('AA');
      expect(await sendMllp(port, textMessage())).toBe('AA');
      expect(await sendMllp(port, codeMessage())).toBe('AA');

      const bed01 = (kind: StreamKind) => got.filter((x) => x.device === 'bed01' && x.kind === kind);
      const waves = () => bed01('wave').flatMap((x) => x.batch.waves);
      const trend = () =>
        bed01('obs')
          .flatMap((x) => x.batch.observations)
          .filter((o) => o.mdc === HR.mdc && Number(o.number) >= 1000);
      await until(
        () => waves().reduce((a, w) => a + (w.samples?.length ?? 0), 0) >= WAVE_SAMPLES,
        'the waveform, whole',
        30_000,
      );
      await until(() => trend().length >= TREND_ROWS, 'the trend dump, whole', 30_000);
      await until(() => unsendableGaps(got, 'bed01').length >= 1, 'the Gap of the item set aside', 30_000);
      await until(
        () => bed01('obs').some((x) => x.batch.observations.some((o) => o.vendorCode === '9001^NOTE^99VND')),
        'the cut text',
        30_000,
      );

      // The waveform: in pieces under the limit, contiguous by first_sample, the same samples in the same order.
      const ws = waves().sort((a, b) => Number(a.firstSample) - Number(b.firstSample));
      expect(ws.length).toBeGreaterThan(1);
      let next = Number(ws[0]?.firstSample);
      for (const w of ws) {
        expect(Number(w.firstSample)).toBe(next);
        next += w.samples?.length ?? 0;
        expect(w.sampleRateHz).toBe(500);
      }
      expect(ws.flatMap((w) => w.samples ?? [])).toEqual(waveSamples);
      // Each piece's time is its first sample's: at 500 Hz, 2,000 us a sample from the window's start.
      for (const w of ws)
        expect(Number(w.time?.deviceTimeUs) - Number(ws[0]?.time?.deviceTimeUs)).toBe(
          (Number(w.firstSample) - Number(ws[0]?.firstSample)) * 2000,
        );

      // The trend dump: every row once, over several Batches.
      expect(
        trend()
          .map((o) => Number(o.number))
          .sort((a, b) => a - b),
      ).toEqual(Array.from({ length: TREND_ROWS }, (_, i) => 1000 + i));
      expect(
        new Set(
          bed01('obs')
            .filter((x) => x.batch.observations.some((o) => Number(o.number) >= 1000))
            .map((x) => Number(x.batch.seq)),
        ).size,
      ).toBeGreaterThan(1);

      // The text: a prefix of what was sent, flagged questionable; the row after it untouched.
      const note = bed01('obs')
        .flatMap((x) => x.batch.observations)
        .find((o) => o.vendorCode === '9001^NOTE^99VND');
      expect(note?.text?.length).toBeGreaterThan(1000);
      expect(note?.text?.length).toBeLessThan(TEXT.length);
      expect(TEXT.startsWith(note?.text ?? 'x')).toBe(true);
      expect((note?.flags ?? 0) & Flag.FLAG_QUESTIONABLE).toBe(Flag.FLAG_QUESTIONABLE);
      expect(
        bed01('obs')
          .flatMap((x) => x.batch.observations)
          .some((o) => o.mdc === HR.mdc && o.number === 77),
      ).toBe(true);

      // The code row: set aside, and its Batch's seq declared missing, for its stream and nothing else.
      const gaps = unsendableGaps(got, 'bed01');
      expect(gaps).toHaveLength(1);
      const gap = gaps[0];
      expect(gap?.kind).toBe(Kind.KIND_OBS);
      expect(Number(gap?.fromSeq)).toBe(Number(gap?.toSeq));
      const obsSeqs = new Set(bed01('obs').map((x) => Number(x.batch.seq)));
      expect(obsSeqs.has(Number(gap?.fromSeq))).toBe(false);
      const maxSeq = Math.max(...obsSeqs);
      for (let s = 1; s <= maxSeq; s++) expect(obsSeqs.has(s) || s === Number(gap?.fromSeq)).toBe(true);
      expect(deadLetterBytes(join(rig.dir, 'gateway'))).toBeGreaterThan(300_000);

      // The uplink never lost its connection, the queue drained, the other bed kept flowing.
      const before = bed02Values();
      await until(() => bed02Values() >= before + 20, 'bed02 still flowing');
      expect(g.uplink.counters.disconnects).toBe(0);
      await until(() => g.outbox.depth() < 5, 'the queue drained');
    } finally {
      mon.stop();
    }
  }, 120_000);
});

describe('gateway: started on an outbox that already holds an unsendable record (issue 14)', () => {
  const rig = new Rig('poisoned');
  let gw: Gateway | null = null;
  afterAll(async () => {
    await gw?.close();
    await rig.close();
  });

  it('sets the record aside at start, publishes its Gap and everything around it, and does not loop after a restart', async () => {
    await rig.startBroker();
    const got = await subscribeAll(rig);
    const dataDir = join(rig.dir, 'gateway');
    // An outbox as a gateway without a publish limit left it: a 385 KB Batch between two small ones.
    const old = await Outbox.open({
      dir: join(dataDir, 'outbox'),
      site: SITE,
      gateway: GATEWAY,
      quotaBytes: 64 * 1024 * 1024,
      segmentBytes: 1024 * 1024,
      commitDelayMs: 1,
      commitMaxBytes: 1024 * 1024,
      logger: silentLogger(),
    });
    const source = { site: SITE, gateway: GATEWAY, device: 'bed01', protocol: 'hl7' };
    const obs = (n: number, v: number) =>
      Array.from({ length: n }, (_, i) => ({
        ...HR,
        mdc: HR.mdc,
        refid: HR.refid,
        number: v + i,
        unit: '/min',
        vendorCode: `${HR.mdc}^${HR.refid}^MDC`,
        vendorUnit: `${HR.unitMdc}^${HR.unitRefid}^MDC`,
        containment: '1.1.1.147842',
        time: { gatewayTimeUs: T, deviceTimeUs: T },
      }));
    await old.append({ source, kind: 'obs', fromUs: T, toUs: T, body: { observations: obs(1, 70) } });
    const poison = await old.append({
      source,
      kind: 'obs',
      fromUs: T + 1,
      toUs: T + 1,
      body: { observations: obs(TREND_ROWS, 2000) },
    });
    await old.append({ source, kind: 'obs', fromUs: T + 2, toUs: T + 2, body: { observations: obs(1, 71) } });
    expect(poison.payload.length).toBeGreaterThan(256 * 1024);
    await old.close();

    const config = gatewayConfig(
      rig.config([
        {
          id: 'bed01',
          protocol: 'hl7',
          transport: { kind: 'mllp-listener', host: '127.0.0.1', port: 0, allowedPeers: ['127.0.0.1'] },
        },
      ]),
    );
    gw = await startGateway({ config, logger: silentLogger() });
    const g = gw;
    const seqsOf = () => got.filter((x) => x.device === 'bed01' && x.kind === 'obs').map((x) => Number(x.batch.seq));
    await until(() => seqsOf().includes(1) && seqsOf().includes(3), 'the records around it published', 20_000);
    await until(() => unsendableGaps(got, 'bed01').length === 1, 'its Gap', 20_000);
    const gap = unsendableGaps(got, 'bed01')[0];
    expect([gap?.kind, Number(gap?.fromSeq), Number(gap?.toSeq)]).toEqual([Kind.KIND_OBS, poison.seq, poison.seq]);
    expect(seqsOf()).not.toContain(poison.seq);
    expect(g.uplink.counters.disconnects).toBe(0);
    await until(() => g.outbox.depth() === 0, 'the queue empty');
    expect(deadLetterBytes(dataDir)).toBeGreaterThan(256 * 1024);
    await g.close();
    gw = null;

    // A restart: the record is not in the queue any more; nothing is sent twice, no second Gap.
    const published = got.length;
    gw = await startGateway({ config, logger: silentLogger() });
    const g2 = gw;
    await until(() => g2.uplink.isConnected(), 'connected again');
    await until(() => g2.outbox.depth() === 0 && g2.uplink.inflight() === 0, 'idle');
    await new Promise((r) => setTimeout(r, 500));
    expect(unsendableGaps(got, 'bed01')).toHaveLength(1);
    expect(got.slice(published).filter((x) => x.device === 'bed01' && x.kind === 'obs')).toHaveLength(0);
    expect(g2.uplink.counters.disconnects).toBe(0);
  }, 120_000);
});

describe("uplink: a record over its own limit, lower than the outbox's (issue 14)", () => {
  const rig = new Rig('uplink-limit');
  afterAll(() => rig.close());

  it('hands the record back to be set aside with its Gap instead of sending it, and keeps its connection', async () => {
    await rig.startBroker();
    const got = await subscribeAll(rig);
    const outbox = await Outbox.open({
      dir: join(rig.dir, 'outbox'),
      site: SITE,
      gateway: GATEWAY,
      quotaBytes: 64 * 1024 * 1024,
      segmentBytes: 1024 * 1024,
      commitDelayMs: 1,
      commitMaxBytes: 1024 * 1024,
      logger: silentLogger(),
    });
    const source = { site: SITE, gateway: GATEWAY, device: 'bed01', protocol: 'hl7' };
    const obs = (n: number, v: number) => ({
      observations: Array.from({ length: n }, (_, i) => ({
        mdc: HR.mdc,
        refid: HR.refid,
        number: v + i,
        unit: '/min',
        vendorCode: 'x'.repeat(100),
      })),
    });
    await outbox.append({ source, kind: 'obs', fromUs: T, toUs: T, body: obs(1, 1) });
    const big = await outbox.append({ source, kind: 'obs', fromUs: T, toUs: T, body: obs(3000, 10) });
    await outbox.append({ source, kind: 'obs', fromUs: T, toUs: T, body: obs(1, 2) });
    const uplink = startUplink({
      site: SITE,
      gateway: GATEWAY,
      urls: [rig.url],
      tls: { ca: readFileSync(rig.tls.ca), cert: readFileSync(rig.tls.cert), key: readFileSync(rig.tls.key) },
      keepaliveSeconds: 30,
      connectTimeoutMs: 3000,
      reconnect: { minMs: 100, maxMs: 1000 },
      inflightWindow: 8,
      maxMessagesPerSecond: 800,
      replayMessagesPerSecond: 400,
      maxPacketBytes: 255 * 1024,
      outbox,
      logger: silentLogger(),
      nowUs: () => Date.now() * 1000,
    });
    try {
      await until(() => unsendableGaps(got, 'bed01').length === 1, 'the Gap of the record set aside', 20_000);
      const seqs = () => got.filter((x) => x.device === 'bed01' && x.kind === 'obs').map((x) => Number(x.batch.seq));
      await until(() => seqs().includes(3), 'the record after it');
      expect(seqs()).toEqual([1, 3]);
      expect(Number(unsendableGaps(got, 'bed01')[0]?.fromSeq)).toBe(big.seq);
      expect(uplink.counters.disconnects).toBe(0);
      expect(outbox.counters.unsendable.obs).toBe(1);
    } finally {
      await uplink.close();
      await outbox.close();
    }
  }, 60_000);
});
