// npm run chaos [-- outage|sigkill|unplug|quota ...] [--json]
// The long chaos runs of the gateway on real parts (TLS Aedes broker, socat ptys, real files, a real child process):
// a 60 s broker outage under a ward of monitors, 20 SIGKILLs at random moments, serial cables pulled and replugged,
// the disk quota reached. Prints one JSON line per scenario with its figures (sent, received, lost, duplicated, gaps)
// and exits 1 when an invariant failed.
import { socatAvailable } from '../../simulators/pty.js';
import type { Figures } from './harness.js';
import { brokerOutage, quotaShed, serialUnplug, sigkillLoop } from './scenarios.js';

const GAP_NAMES: Record<number, string> = { 1: 'device-disconnected', 2: 'shed-quota', 5: 'restart' };

function line(name: string, f: Figures, extra: Record<string, unknown>, problems: string[]): void {
  const gaps = Object.fromEntries(Object.entries(f.gaps).map(([k, v]) => [GAP_NAMES[Number(k)] ?? k, v]));
  process.stdout.write(
    `${JSON.stringify({
      chaos: name,
      ok: problems.length === 0,
      sent: f.sent,
      received: f.received,
      lost: f.lost,
      ...(f.lost > 0 ? { lost_values: f.lostValues } : {}),
      duplicated: f.duplicated,
      undetectable_duplicates: f.undetectable,
      seq_holes: f.holes,
      gaps,
      live_batches: f.live,
      backfill_batches: f.backfill,
      ...extra,
      problems,
    })}\n`,
  );
}

function check(problems: string[], ok: boolean, what: string): void {
  if (!ok) problems.push(what);
}

const log = (s: string) => process.stderr.write(`${s}\n`);
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const run = (name: string) => wanted.length === 0 || wanted.includes(name);
let failed = false;

if (run('outage')) {
  log('outage: 10 monitors at 10 Hz, broker down for 60 s');
  const t = Date.now();
  const r = await brokerOutage({ outageMs: 60_000, devices: 10, rateHz: 10, replayPerSecond: 400 });
  const p: string[] = [];
  check(p, r.figures.lost === 0, 'lost observations');
  check(p, r.figures.undetectable === 0, 'duplicates not detectable by seq');
  check(p, r.figures.holes === 0, 'seq holes');
  check(p, r.outageValuesNotBackfill === 0, 'outage data not marked backfill');
  check(p, r.backfillInOrder, 'backfill out of order');
  check(p, r.liveAboveBackfill, 'live seq below backfill');
  check(p, r.liveDuringReplay, 'live data held behind the backlog');
  line(
    'broker-outage-60s',
    r.figures,
    { outage_values: r.outageValues, seconds: Math.round((Date.now() - t) / 1000) },
    p,
  );
  failed ||= p.length > 0;
}

if (run('sigkill')) {
  log('sigkill: MLLP monitor, gateway SIGKILLed 20 times at random moments');
  const t = Date.now();
  const r = await sigkillLoop({ kills: 20, minMs: 200, maxMs: 2500, seed: 2026, log });
  const p: string[] = [];
  check(p, r.figures.lost === 0, 'acknowledged messages lost');
  check(p, r.figures.undetectable === 0, 'duplicates not detectable by seq');
  check(p, r.figures.holes === 0, 'seq holes');
  line(
    'sigkill-x20',
    r.figures,
    { kills: r.kills, mllp_resent: r.resent, seconds: Math.round((Date.now() - t) / 1000) },
    p,
  );
  failed ||= p.length > 0;
}

if (run('unplug')) {
  if (!socatAvailable()) log('unplug: skipped, socat is not installed');
  else {
    log('unplug: serial cable pulled and replugged 5 times');
    const r = await serialUnplug({ unplugs: 5, downMs: 3000, rateHz: 20, upMs: 2000 });
    const p: string[] = [];
    check(p, r.figures.lost === 0, 'lost observations sent while the link was up');
    check(p, r.gapsCoveringUnplug === r.unplugs, 'an unplug without a covering Gap');
    check(p, r.figures.holes === 0, 'seq holes');
    line(
      'serial-unplug-x5',
      r.figures,
      { unplugs: r.unplugs, reconnects: r.reconnects, disconnect_gaps: r.disconnectGaps },
      p,
    );
    failed ||= p.length > 0;
  }
}

if (run('quota')) {
  log('quota: 1 MiB quota during an outage with 1000-sample waveforms at 20 Hz');
  const r = await quotaShed({
    quotaBytes: 1024 * 1024,
    segmentBytes: 32 * 1024,
    shedSegments: 20,
    rateHz: 20,
    waveSamples: 1000,
  });
  const p: string[] = [];
  check(p, (r.shed['wave'] ?? 0) > 0 && (r.shed['status'] ?? 0) === 0, 'shedding order');
  check(p, r.shedGapsReceived === r.shedGapsStored, 'shed ranges not all published');
  check(p, r.uncovered === 0, 'seqs neither delivered nor covered by a Gap');
  line('quota-shed', r.figures, { shed_batches: r.shed, shed_gaps: r.shedGapsStored }, p);
  failed ||= p.length > 0;
}

process.exitCode = failed ? 1 : 0;
