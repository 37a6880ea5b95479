import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config.js';
import { gatewayConfig, type GatewayConfigInput } from './config.js';

const base = (devices: GatewayConfigInput['devices']): GatewayConfigInput => ({
  site: 's',
  gateway: 'g',
  broker: 'mqtts://127.0.0.1:8883',
  tls: { ca: 'ca', cert: 'c', key: 'k' },
  devices,
});

describe('device session options', () => {
  it('accepts a Datex transmission request and rejects what the S/5 cannot be asked, with paths', () => {
    const ok = gatewayConfig(
      base([
        {
          id: 's5',
          protocol: 'datex',
          transport: { kind: 'serial', path: '/dev/ttyUSB0' },
          session: { intervalS: 10, recordType: 'displayed' },
        },
      ]),
      '/',
      { checkFiles: false },
    );
    expect(ok.devices[0]?.session).toEqual({ intervalS: 10, recordType: 'displayed' });
    try {
      gatewayConfig(
        base([
          {
            id: 's5',
            protocol: 'datex',
            transport: { kind: 'serial', path: '/dev/ttyUSB0' },
            session: { intervalS: 2, classes: ['ext9'], extra: 1 },
          },
          { id: 'ox', protocol: 'nonin7', transport: { kind: 'serial', path: '/dev/ttyUSB1' }, session: {} },
        ]),
        '/',
        { checkFiles: false },
      );
      expect.unreachable();
    } catch (err) {
      const paths = (err as ConfigError).issues.map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          'devices[0].session.intervalS',
          'devices[0].session.classes[0]',
          'devices[0].session',
          'devices[1].session',
        ]),
      );
    }
  });
});
