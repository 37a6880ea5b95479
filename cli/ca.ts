// `vitalwire ca init`: a site CA and the broker's server certificate (broker/provision.ts).
import { resolve } from 'node:path';
import { VitalwireError } from '../lib/errors.js';
import { caInit } from '../broker/provision.js';
import { helpText, parse, type CommandSpec } from './args.js';

export const caCommand: CommandSpec = {
  name: 'ca',
  summary: "Site certificate authority: `ca init` creates the CA and the broker's TLS certificate.",
  usage: 'ca init [--dir DIR] [--host NAME ...]',
  positionals: true,
  options: {
    dir: { type: 'string', default: './pki', arg: 'DIR', help: 'PKI directory (created 0700; keys written 0600)' },
    host: {
      type: 'string',
      multiple: true,
      arg: 'NAME',
      help: 'DNS name or IP the broker is reached at (repeatable; localhost is always included)',
    },
    name: { type: 'string', default: 'vitalwire site CA', arg: 'CN', help: 'common name of the CA' },
  },
};

export async function runCa(argv: string[]): Promise<number> {
  const { values, positionals } = parse(caCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(caCommand));
    return 0;
  }
  if (positionals[0] !== 'init' || positionals.length !== 1)
    throw new VitalwireError('VW_ERR_USAGE', 'expected `ca init`');
  const dir = resolve(String(values['dir']));
  const p = await caInit(dir, { hosts: (values['host'] as string[] | undefined) ?? [], name: String(values['name']) });
  process.stdout.write(`ca: created ${p.caCert} (key ${p.caKey}, mode 0600)\n`);
  process.stdout.write(`ca: broker certificate ${p.brokerCert}, revocation list ${p.revoked}\n`);
  process.stdout.write(
    'ca: keep ca.key offline or on the provisioning machine only; the broker needs ca.crt, broker.crt, broker.key and the revocation/ directory\n',
  );
  return 0;
}
