// End to end on real parts: simulated monitors write HL7 into socat ptys, the gateway reads
// them with serialport, publishes protobuf over TLS MQTT with a client certificate to the Aedes
// broker, and the fan-out forwards the same bytes to a WebSocket client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, type Stack } from '../cli/stack.js';
import { silentLogger } from '../lib/log.js';
import { Flag, Kind, LinkState } from '../proto/index.js';
import { socatAvailable } from '../simulators/pty.js';
import type { Vitals } from '../simulators/physiology.js';
import { connectWs, waitFor, type Received } from './ws-client.js';

interface Sent {
  bed: number;
  v: Vitals;
  timeUs: number;
}

function suite(name: string, noSocat: boolean) {
  // Without socat there is no pty to test; the TCP variant still runs. CI installs socat.
  describe.skipIf(!noSocat && !socatAvailable())(
    !noSocat && !socatAvailable() ? `${name} (skipped: socat not installed)` : name,
    () => {
      let stack: Stack;
      let dir: string;
      const sent: Sent[] = [];
      let received: Received[];
      let ws: WebSocket;

      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'vw-e2e-'));
        stack = await startStack({
          dataDir: dir,
          mqttPort: 0,
          httpPort: 0,
          beds: 2,
          intervalMs: 200,
          noSocat,
          logger: silentLogger(),
          onSend: (bed, v, timeUs) => sent.push({ bed, v, timeUs }),
        });
        ({ ws, received } = await connectWs(stack.fanout.url, stack.token));
      });

      afterAll(async () => {
        ws?.close();
        await stack?.close();
        rmSync(dir, { recursive: true, force: true });
      });

      it(`uses the ${noSocat ? 'tcp' : 'serial'} device link`, () => {
        expect(stack.deviceLink).toBe(noSocat ? 'tcp' : 'serial');
      });

      it('delivers what each simulated monitor sent, decoded, with MDC codes, UCUM units and device ids', async () => {
        // The vitals messages (NIBP and temperature come in their own, slower ones).
        const obs = () =>
          received.filter(
            (r) =>
              r.batch.kind === Kind.KIND_OBS && r.batch.observations.some((o) => o.refid === 'MDC_ECG_CARD_BEAT_RATE'),
          );
        await waitFor(
          () =>
            obs().filter((r) => r.batch.source?.device === 'bed01').length >= 5 &&
            obs().filter((r) => r.batch.source?.device === 'bed02').length >= 5,
          15_000,
          '5 obs batches per bed',
        );
        for (const r of obs()) {
          const src = r.batch.source!;
          expect(src.site).toBe('demo');
          expect(src.gateway).toBe('gw1');
          const bed = Number((src.device ?? '').slice(3));
          expect(src.bed).toBe(`Bed ${bed}`);
          expect(src.hardwareId).toBe(`025657000000000${bed}`);
          expect(src.protocol).toBe('hl7');
          const byRef = new Map(r.batch.observations.map((o) => [o.refid, o]));
          expect([...byRef.keys()].sort()).toEqual([
            'MDC_ECG_CARD_BEAT_RATE',
            'MDC_PULS_OXIM_PULS_RATE',
            'MDC_PULS_OXIM_SAT_O2',
            'MDC_RESP_RATE',
          ]);
          const hr = byRef.get('MDC_ECG_CARD_BEAT_RATE')!;
          expect(hr.mdc).toBe(147842);
          expect(hr.unit).toBe('/min');
          expect(byRef.get('MDC_PULS_OXIM_SAT_O2')!.mdc).toBe(150456);
          expect(byRef.get('MDC_PULS_OXIM_SAT_O2')!.unit).toBe('%');
          expect(byRef.get('MDC_RESP_RATE')!.mdc).toBe(151562);
          // The message carried its send time as device time (ms precision): match it to what was sent.
          const s = sent.find((x) => x.bed === bed && Math.floor(x.timeUs / 1000) * 1000 === hr.time!.deviceTimeUs);
          expect(s, `a sent frame for bed ${bed} at ${hr.time!.deviceTimeUs}`).toBeDefined();
          expect(hr.number).toBe(s!.v.hr);
          expect(byRef.get('MDC_PULS_OXIM_SAT_O2')!.number).toBe(s!.v.spo2);
          expect(byRef.get('MDC_RESP_RATE')!.number).toBe(s!.v.rr);
          expect(hr.time!.gatewayTimeUs).toBeGreaterThanOrEqual(Number(hr.time!.deviceTimeUs));
          expect(hr.time!.deviceUtcOffsetMin).toBe(420);
        }
      });

      // What the monitors sent before the gateway's first broker connect is stored as backlog. A short backlog is sent
      // before live data (gateway/publisher.ts, SMALL_BACKLOG_SECONDS), so every stream arrives in seq order however
      // long that connect takes; it used to follow the live data, and this failed on a loaded machine (issue 15;
      // test/gateway-backlog-order.test.ts makes that case deterministic).
      it('numbers each stream with increasing sequence numbers', () => {
        for (const dev of ['bed01', 'bed02']) {
          const seqs = received
            .filter((r) => r.batch.kind === Kind.KIND_OBS && r.batch.source?.device === dev)
            .map((r) => r.batch.seq);
          expect(seqs.length).toBeGreaterThan(1);
          for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(Number(seqs[i - 1]) + 1);
        }
      });

      it('survives garbage and truncated frames on the device line, counts them, and keeps decoding', async () => {
        const dev = stack.gateway.devices[0]!;
        const before = received.length;
        const garbageBefore = dev.counters.errors.VW_ERR_FRAME_GARBAGE ?? 0;
        const truncBefore = dev.counters.errors.VW_ERR_FRAME_TRUNCATED ?? 0;
        const badBefore = dev.counters.badFrames;
        const sink = stack.sinks[0]!;
        sink.write(Buffer.from('\x00\xff line noise \xfe'));
        sink.write(Buffer.from('\x0bMSH|^~\\&|cut short')); // truncated: the next frame's VT cuts it
        await waitFor(
          () => (dev.counters.errors.VW_ERR_FRAME_TRUNCATED ?? 0) > truncBefore,
          5000,
          'truncation counted',
        );
        sink.write(Buffer.from('\x0bnot hl7 at all\x1c\x0d'));
        await waitFor(() => dev.counters.badFrames > badBefore, 5000, 'bad frame counted');
        expect(dev.counters.errors.VW_ERR_FRAME_GARBAGE ?? 0).toBeGreaterThan(garbageBefore);
        expect(dev.counters.errors.VW_ERR_HL7_NO_MSH ?? 0).toBeGreaterThan(0);
        await waitFor(
          () =>
            received.slice(before).filter((r) => r.batch.kind === Kind.KIND_OBS && r.batch.source?.device === 'bed01')
              .length >= 3,
          5000,
          'bed01 keeps streaming after the garbage',
        );
      });

      it('reports device link status', () => {
        const st = received.filter((r) => r.batch.kind === Kind.KIND_STATUS);
        expect(st.some((r) => r.batch.statuses[0]?.state === LinkState.LINK_STATE_CONNECTED)).toBe(true);
      });

      it('marks everything of the simulated monitors as simulated, all the way to the dashboard', () => {
        // The stack configures its devices `simulated` (FLAG_SIMULATED); the monitors send MSH-11 T (FLAG_TEST).
        const bed = (r: Received) => r.batch.source?.device?.startsWith('bed');
        const obs = received
          .filter((r) => bed(r) && r.batch.kind === Kind.KIND_OBS)
          .flatMap((r) => r.batch.observations);
        const waves = received.filter((r) => bed(r) && r.batch.kind === Kind.KIND_WAVE).flatMap((r) => r.batch.waves);
        const statuses = received
          .filter((r) => bed(r) && r.batch.kind === Kind.KIND_STATUS)
          .flatMap((r) => r.batch.statuses);
        expect(obs.length).toBeGreaterThan(0);
        expect(waves.length).toBeGreaterThan(0);
        expect(statuses.length).toBeGreaterThan(0);
        for (const x of [...obs, ...waves])
          expect((x.flags ?? 0) & (Flag.FLAG_SIMULATED | Flag.FLAG_TEST)).toBe(Flag.FLAG_SIMULATED | Flag.FLAG_TEST);
        for (const x of statuses) expect((x.flags ?? 0) & Flag.FLAG_SIMULATED).toBe(Flag.FLAG_SIMULATED);
      });

      it('refuses websocket clients without the token and oversize client messages', async () => {
        await expect(connectWs(stack.fanout.url, 'wrong-token')).rejects.toThrow(/403/);
        const { ws: w } = await connectWs(stack.fanout.url, stack.token);
        const code = await new Promise<number>((resolve) => {
          w.on('close', (c) => resolve(c));
          w.send(Buffer.alloc(64 * 1024));
        });
        expect(code).toBe(1009); // RFC 6455 7.4.1: message too big
        expect(stack.fanout.counters.refusedUpgrades).toBeGreaterThan(0);
      });
    },
  );
}

suite('end to end over virtual serial (socat pty)', false);
suite('end to end over the TCP fallback link', true);
