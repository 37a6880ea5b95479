// Scenarios: a ward as a file (YAML or JSON, docs/simulators.md): beds with their patients' events, each bed's
// devices (protocol, transport, quirks) with their faults, and outages of the gateway's uplink. Validated once like
// every config (lib/config.ts: all problems with their paths, then frozen). `wardScenario` builds the mixed ward
// of `vitalwire simulate --ward N`.
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadConfigFile, validateConfig, type DeepReadonly } from '../lib/config.js';
import { isValidSegment } from '../lib/topics.js';
import { FAULT_KINDS } from './ground-truth.js';
import { EVENT_KINDS } from './physiology.js';
import { SIM_PROTOCOLS, type SimProtocol } from './devices/types.js';

const seconds = z
  .number()
  .min(0)
  .max(7 * 86_400);

const fault = z.strictObject({
  at: seconds,
  kind: z.enum(FAULT_KINDS).exclude(['nak']),
  /** How long the fault lasts (disconnect, burst, drip, no-ack-read), s. */
  for: seconds.optional(),
  /** garbage: how many bytes. */
  bytes: z.number().int().min(1).max(1_000_000).optional(),
  /** clock-skew / clock-jump: the device clock's offset from then on, ms. */
  offsetMs: z
    .number()
    .int()
    .min(-10 * 365 * 86_400_000)
    .max(10 * 365 * 86_400_000)
    .optional(),
});

const device = z
  .strictObject({
    id: z
      .string()
      .refine(isValidSegment, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -')
      .refine((s) => !s.startsWith('_'), 'ids starting with _ are reserved'),
    protocol: z.enum(SIM_PROTOCOLS),
    /** serial: a socat pty pair (TCP when socat is missing); tcp: a port the gateway dials; mllp: the device dials the
     *  gateway's MLLP listener and waits for ACKs (hl7 only). */
    transport: z.enum(['serial', 'tcp', 'mllp']).default('serial'),
    ecgRateHz: z.union([z.literal(250), z.literal(500)]).optional(),
    quirks: z
      .strictObject({
        demo: z.boolean().optional(),
        asReal: z.boolean().optional(),
        missingEvery: z.number().int().min(0).max(1_000_000).optional(),
        localCodes: z.boolean().optional(),
        mdil: z.boolean().optional(),
      })
      .optional(),
    faults: z.array(fault).default([]),
  })
  .superRefine(
    (d, ctx) => {
      if (d.transport === 'mllp' && d.protocol !== 'hl7')
        ctx.addIssue({ code: 'custom', path: ['transport'], message: 'mllp carries HL7: protocol must be hl7' });
      if (d.ecgRateHz !== undefined && d.protocol !== 'hl7')
        ctx.addIssue({ code: 'custom', path: ['ecgRateHz'], message: 'only hl7 monitors send ECG' });
      (Array.isArray(d.faults) ? d.faults : []).forEach((f, i) => {
        if (f.kind === 'no-ack-read' && d.transport !== 'mllp')
          ctx.addIssue({ code: 'custom', path: ['faults', i, 'kind'], message: 'no-ack-read needs an mllp transport' });
        if ((f.kind === 'clock-skew' || f.kind === 'clock-jump') && f.offsetMs === undefined)
          ctx.addIssue({ code: 'custom', path: ['faults', i, 'offsetMs'], message: `${f.kind} needs offsetMs` });
        const needsFor =
          ['burst', 'drip', 'no-ack-read'].includes(f.kind) || (f.kind === 'disconnect' && d.transport !== 'mllp');
        if (needsFor && f.for === undefined)
          ctx.addIssue({ code: 'custom', path: ['faults', i, 'for'], message: `${f.kind} needs for (seconds)` });
      });
    },
    { when: () => true },
  );

const bed = z.strictObject({
  bed: z.number().int().min(1).max(9999),
  /** Seed of this bed's patient; default: scenario seed x 1000 + bed. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  events: z
    .array(
      z.strictObject({
        at: seconds,
        kind: z.enum(EVENT_KINDS),
        for: seconds.optional(),
        rampS: z.number().min(0.1).max(3600).default(20),
      }),
    )
    .default([]),
  devices: z.array(device).min(1),
});

export const scenarioSchema = z
  .strictObject({
    version: z.literal(1),
    name: z.string().max(200).optional(),
    description: z.string().max(4000).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    /** Stop after this long (default: run until stopped). */
    durationS: seconds.optional(),
    beds: z.array(bed).min(1),
    /** Outages of the gateway's uplink (run with --uplink-gate): the relay between gateway and broker is cut. */
    uplink: z.array(z.strictObject({ at: seconds, for: seconds })).default([]),
  })
  .superRefine(
    (s, ctx) => {
      if (!Array.isArray(s.beds)) return;
      // Runs even when parts are invalid (every problem in one pass), so it reads defensively.
      const ids = new Map<string, string>();
      s.beds.forEach((b, i) =>
        (Array.isArray(b?.devices) ? b.devices : []).forEach((d, j) => {
          if (typeof d?.id !== 'string') return;
          const first = ids.get(d.id);
          if (first)
            ctx.addIssue({
              code: 'custom',
              path: ['beds', i, 'devices', j, 'id'],
              message: `duplicate device id '${d.id}' (also ${first})`,
            });
          else ids.set(d.id, `beds[${i}].devices[${j}]`);
        }),
      );
      const beds = new Map<number, number>();
      s.beds.forEach((b, i) => {
        if (typeof b?.bed !== 'number') return;
        if (beds.has(b.bed))
          ctx.addIssue({
            code: 'custom',
            path: ['beds', i, 'bed'],
            message: `bed ${b.bed} twice (also beds[${beds.get(b.bed)}])`,
          });
        beds.set(b.bed, i);
      });
    },
    { when: () => true },
  );

export type Scenario = DeepReadonly<z.output<typeof scenarioSchema>>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioDevice = Scenario['beds'][number]['devices'][number];

export async function loadScenario(file: string): Promise<Scenario> {
  const abs = resolve(file);
  return (await loadConfigFile(scenarioSchema, abs)).config;
}

export function scenario(input: ScenarioInput): Scenario {
  return validateConfig(scenarioSchema, input, 'scenario');
}

/** The mixed-protocol ward of `simulate --ward N`: one device a bed, protocols in turn, HL7 monitors alternating
 *  between dialling the gateway's MLLP listener and a terminal-server port. */
export const WARD_MIX: readonly { protocol: SimProtocol; transport: 'serial' | 'tcp' | 'mllp' }[] = [
  { protocol: 'hl7', transport: 'mllp' },
  { protocol: 'nonin7', transport: 'serial' },
  { protocol: 'hl7', transport: 'tcp' },
  { protocol: 'masimo', transport: 'serial' },
  { protocol: 'datex', transport: 'serial' },
  { protocol: 'nonin8', transport: 'serial' },
  { protocol: 'ble-bridge', transport: 'serial' },
];

export function wardScenario(n: number, seed: number, o: { ecgRateHz?: 250 | 500 } = {}): Scenario {
  return scenario({
    version: 1,
    name: `mixed ward of ${n}`,
    seed,
    beds: Array.from({ length: n }, (_, i) => {
      const mix = WARD_MIX[i % WARD_MIX.length]!;
      const bedNo = i + 1;
      return {
        bed: bedNo,
        devices: [
          {
            id: `bed${String(bedNo).padStart(2, '0')}-${mix.protocol}`,
            protocol: mix.protocol,
            transport: mix.transport,
            ...(mix.protocol === 'hl7' && o.ecgRateHz ? { ecgRateHz: o.ecgRateHz } : {}),
          },
        ],
      };
    }),
  });
}
