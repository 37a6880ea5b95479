// `vitalwire gateway init`: on the gateway box, its own key (mode 0600, never leaves the box), a certificate request for
// the centre to sign (`vitalwire gateways sign`), and a config stub to add devices to (broker/provision.ts).
import { resolve } from 'node:path';
import { VitalwireError } from '../lib/errors.js';
import { initGateway } from '../broker/provision.js';
import { isValidSegment } from '../lib/topics.js';
import { helpText, parse, type CommandSpec } from './args.js';

export const gatewayInitCommand: CommandSpec = {
  name: 'gateway init',
  summary:
    "Make this gateway's key and a certificate request for the centre to sign; the key never leaves this machine.",
  usage: 'gateway init --site SITE --gateway ID [--dir DIR] [--broker URL] [--force]',
  options: {
    site: { type: 'string', arg: 'SITE', help: 'the site id this gateway belongs to' },
    gateway: { type: 'string', arg: 'ID', help: "this gateway's id within the site" },
    dir: {
      type: 'string',
      default: '/etc/vitalwire',
      arg: 'DIR',
      help: 'where gateway.key (0600), gateway.csr and gateway.yaml go',
    },
    broker: {
      type: 'string',
      default: 'mqtts://central.example:8883',
      arg: 'URL',
      help: 'broker URL written into the config stub',
    },
    force: {
      type: 'boolean',
      help: 'make a new key over an existing one (the old certificate stops matching: sign again); an edited gateway.yaml is backed up',
    },
  },
};

export async function runGatewayInit(argv: string[]): Promise<number> {
  const { values } = parse(gatewayInitCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(gatewayInitCommand));
    return 0;
  }
  const site = values['site'];
  const gateway = values['gateway'];
  if (
    typeof site !== 'string' ||
    typeof gateway !== 'string' ||
    !isValidSegment(site) ||
    !isValidSegment(gateway) ||
    site.includes(':') ||
    gateway.includes(':')
  ) {
    throw new VitalwireError('VW_ERR_USAGE', '--site and --gateway are required: 1-64 of A-Z a-z 0-9 . _ - each');
  }
  const dir = resolve(String(values['dir']));
  const r = await initGateway(dir, site, gateway, {
    brokerUrl: String(values['broker']),
    force: values['force'] === true,
  });
  process.stdout.write(`gateway init: key ${r.key} (mode 0600: it stays on this machine)\n`);
  process.stdout.write(
    `gateway init: certificate request ${r.csr}: send it to the central operator, who runs\n` +
      `  vitalwire gateways sign ${site}/${gateway} --csr gateway.csr --pki DIR\n` +
      `and sends back gateway.crt and ca.crt: put both in ${dir}\n`,
  );
  if (r.backup) process.stdout.write(`gateway init: your previous gateway.yaml is kept as ${r.backup}\n`);
  process.stdout.write(
    `gateway init: config ${r.config}: add the devices (vitalwire gateway probe --device PATH tells the protocol)\n`,
  );
  return 0;
}
