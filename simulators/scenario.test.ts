import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config.js';
import { loadScenario, scenario, WARD_MIX, wardScenario } from './scenario.js';

const DIR = join(import.meta.dirname, 'scenarios');

describe('scenarios', () => {
  it('every shipped scenario is valid', async () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual([
      'deteriorating-patient.yaml',
      'flaky-cable.yaml',
      'mixed-vendor-ward.yaml',
      'stable-ward.yaml',
      'uplink-outage.yaml',
    ]);
    for (const f of files) {
      const s = await loadScenario(join(DIR, f));
      expect(s.beds.length, f).toBeGreaterThan(0);
    }
  });

  it('reports every problem with its path', () => {
    try {
      scenario({
        version: 1,
        beds: [
          {
            bed: 1,
            devices: [
              {
                id: 'a',
                protocol: 'nonin7',
                transport: 'mllp',
                faults: [
                  { at: 1, kind: 'no-ack-read' },
                  { at: 2, kind: 'clock-jump' },
                ],
              },
            ],
          },
          { bed: 1, devices: [{ id: 'a', protocol: 'hl7x' as 'hl7' }] },
        ],
      });
      expect.unreachable();
    } catch (err) {
      const paths = (err as ConfigError).issues.map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          'beds[0].devices[0].transport',
          'beds[0].devices[0].faults[0].for',
          'beds[0].devices[0].faults[1].offsetMs',
          'beds[1].devices[0].protocol',
          'beds[1].devices[0].id',
          'beds[1].bed',
        ]),
      );
    }
  });

  it('--ward N mixes every protocol, HL7 over MLLP and TCP', () => {
    const w = wardScenario(14, 1);
    expect(w.beds).toHaveLength(14);
    const kinds = new Set(w.beds.flatMap((b) => b.devices.map((d) => `${d.protocol}/${d.transport}`)));
    expect(kinds).toEqual(new Set(WARD_MIX.map((m) => `${m.protocol}/${m.transport}`)));
    expect(wardScenario(14, 1)).toEqual(w);
  });
});
