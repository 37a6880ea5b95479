// `vitalwire gateways add|revoke|list`: gateway certificates from the site CA (broker/provision.ts).
import { resolve } from 'node:path';
import { VitalwireError } from '../lib/errors.js';
import { addGateway, listGateways, readRequest, revokeGateway, signGateway } from '../broker/provision.js';
import { helpText, intOption, parse, type CommandSpec } from './args.js';

export const gatewaysCommand: CommandSpec = {
  name: 'gateways',
  summary:
    "Gateway certificates: `sign <site>/<gateway> --csr FILE` signs a gateway's own request, `revoke`, `list`; `add` (lab key).",
  usage:
    'gateways sign <site>/<gateway> --csr FILE [--pki DIR] [--out DIR] [--days N]\n' +
    '       vitalwire gateways revoke <site>/<gateway> (--serial HEX | --all) [--pki DIR] [--reason TEXT]\n       vitalwire gateways list [--pki DIR]\n' +
    '       vitalwire gateways add <site>/<gateway> [--pki DIR] [--out DIR] [--broker URL] [--days N] [--force]  (labs: the key is made here)',
  positionals: true,
  options: {
    pki: { type: 'string', default: './pki', arg: 'DIR', help: 'PKI directory made by `vitalwire ca init`' },
    out: {
      type: 'string',
      default: './gateways',
      arg: 'DIR',
      help: 'certificates (sign) and bundles (add) go to DIR/<site>/<gateway>/',
    },
    csr: {
      type: 'string',
      arg: 'FILE',
      help: 'sign: the certificate request the gateway made (vitalwire gateway init)',
    },
    broker: {
      type: 'string',
      default: 'mqtts://localhost:8883',
      arg: 'URL',
      help: 'broker URL written into the config stub',
    },
    days: { type: 'string', default: '825', arg: 'N', help: 'certificate lifetime in days' },
    force: {
      type: 'boolean',
      help: 'add: issue a new certificate over an existing bundle (the old one is revoked, gateway.yaml backed up)',
    },
    serial: { type: 'string', arg: 'HEX', help: 'revoke: this certificate (see `gateways list`)' },
    all: { type: 'boolean', help: 'revoke: every certificate of the gateway' },
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
  const superseded = (serials: string[]): void => {
    if (serials.length > 0)
      process.stdout.write(
        `gateways: revoked the previous certificate${serials.length > 1 ? 's' : ''} ${serials.join(', ')}: install the new one on the gateway now\n`,
      );
  };
  switch (sub) {
    case 'sign': {
      const { site, gateway } = identity(arg);
      if (typeof values['csr'] !== 'string')
        throw new VitalwireError(
          'VW_ERR_USAGE',
          'sign needs --csr FILE (the gateway makes it: vitalwire gateway init)',
        );
      const r = await signGateway(pki, site, gateway, {
        csrPem: await readRequest(resolve(values['csr'])),
        outDir: resolve(String(values['out']), site, gateway),
        days: intOption(values['days'], 'days', 1, 3650),
      });
      process.stdout.write(`gateways: ${site}/${gateway} serial ${r.serial}, valid until ${r.notAfter}\n`);
      process.stdout.write(
        `gateways: send ${r.cert} and ${r.caCert} to the gateway (no private key here: it never left the gateway)\n`,
      );
      superseded(r.revoked);
      return 0;
    }
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
      if (b.backup) process.stdout.write(`gateways: the previous gateway.yaml is kept as ${b.backup}\n`);
      superseded(b.revoked);
      return 0;
    }
    case 'revoke': {
      const { site, gateway } = identity(arg);
      const serials = await revokeGateway(pki, site, gateway, {
        ...(typeof values['serial'] === 'string' ? { serial: values['serial'] } : {}),
        ...(values['all'] === true ? { all: true } : {}),
        ...(typeof values['reason'] === 'string' ? { reason: values['reason'] } : {}),
      });
      process.stdout.write(
        serials.length === 0
          ? `gateways: ${site}/${gateway} was already revoked\n`
          : `gateways: revoked ${serials.join(', ')}; brokers refuse it at its next connect\n`,
      );
      return 0;
    }
    case 'list': {
      if (arg !== undefined) throw new VitalwireError('VW_ERR_USAGE', '`gateways list` takes no argument');
      for (const e of await listGateways(pki)) {
        process.stdout.write(
          `${`${e.site}/${e.gateway}`.padEnd(32)} ${e.serial.padEnd(34)} ${e.notAfter}${e.revoked ? '  REVOKED' : ''}\n`,
        );
      }
      return 0;
    }
    default:
      throw new VitalwireError('VW_ERR_USAGE', 'expected `gateways sign|revoke|list|add`');
  }
}
