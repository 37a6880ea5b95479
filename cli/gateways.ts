// `vitalwire gateways add|revoke|list`: gateway certificates from the site CA (broker/provision.ts).
import { resolve } from 'node:path';
import { VitalwireError } from '../decoders/errors.js';
import { addGateway, listGateways, revokeGateway } from '../broker/provision.js';
import { helpText, intOption, parse, type CommandSpec } from './args.js';

export const gatewaysCommand: CommandSpec = {
  name: 'gateways',
  summary: 'Gateway certificates: `add <site>/<gateway>` writes a bundle, `revoke <site>/<gateway>`, `list`.',
  usage: 'gateways add <site>/<gateway> [--pki DIR] [--out DIR] [--broker URL] [--days N] [--force]\n' +
    '       vitalwire gateways revoke <site>/<gateway> [--pki DIR] [--serial HEX] [--reason TEXT]\n       vitalwire gateways list [--pki DIR]',
  positionals: true,
  options: {
    pki: { type: 'string', default: './pki', arg: 'DIR', help: 'PKI directory made by `vitalwire ca init`' },
    out: { type: 'string', default: './gateways', arg: 'DIR', help: 'bundles go to DIR/<site>/<gateway>/' },
    broker: { type: 'string', default: 'mqtts://localhost:8883', arg: 'URL', help: 'broker URL written into the config stub' },
    days: { type: 'string', default: '825', arg: 'N', help: 'certificate lifetime in days' },
    force: { type: 'boolean', help: 'issue a new certificate over an existing bundle' },
    serial: { type: 'string', arg: 'HEX', help: 'revoke only this serial' },
    reason: { type: 'string', arg: 'TEXT', help: 'reason recorded in the revocation list' },
  },
};

function identity(arg: string | undefined): { site: string; gateway: string } {
  const m = /^([^/]+)\/([^/]+)$/.exec(arg ?? '');
  if (!m) throw new VitalwireError('VW_ERR_USAGE', `expected <site>/<gateway>, got ${JSON.stringify(arg ?? '')}`);
  return { site: m[1] as string, gateway: m[2] as string };
}

export async function runGateways(argv: string[]): Promise<number> {
  const { values, positionals } = parse(gatewaysCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(gatewaysCommand));
    return 0;
  }
  const pki = resolve(String(values['pki']));
  const [sub, arg, ...extra] = positionals;
  if (extra.length > 0) throw new VitalwireError('VW_ERR_USAGE', `unexpected ${extra.join(' ')}`);
  switch (sub) {
    case 'add': {
      const { site, gateway } = identity(arg);
      const b = await addGateway(pki, site, gateway, {
        outDir: resolve(String(values['out'])),
        brokerUrl: String(values['broker']),
        days: intOption(values['days'], 'days', 1, 3650),
        force: values['force'] === true,
      });
      process.stdout.write(`gateways: ${site}/${gateway} serial ${b.serial}, valid until ${b.notAfter}\n`);
      process.stdout.write(`gateways: bundle ${b.dir} (gateway.key mode 0600, config stub gateway.yaml)\n`);
      return 0;
    }
    case 'revoke': {
      const { site, gateway } = identity(arg);
      const serials = await revokeGateway(pki, site, gateway, {
        ...(typeof values['serial'] === 'string' ? { serial: values['serial'] } : {}),
        ...(typeof values['reason'] === 'string' ? { reason: values['reason'] } : {}),
      });
      process.stdout.write(serials.length === 0 ? `gateways: ${site}/${gateway} was already revoked\n`
        : `gateways: revoked ${serials.join(', ')}; brokers refuse it at its next connect\n`);
      return 0;
    }
    case 'list': {
      if (arg !== undefined) throw new VitalwireError('VW_ERR_USAGE', '`gateways list` takes no argument');
      for (const e of await listGateways(pki)) {
        process.stdout.write(`${`${e.site}/${e.gateway}`.padEnd(32)} ${e.serial.padEnd(34)} ${e.notAfter}${e.revoked ? '  REVOKED' : ''}\n`);
      }
      return 0;
    }
    default:
      throw new VitalwireError('VW_ERR_USAGE', 'expected `gateways add|revoke|list`');
  }
}
