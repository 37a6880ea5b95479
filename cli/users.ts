// `vitalwire users add|remove|list`: broker accounts in the users file (scrypt hashes, mode 0600).
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { VitalwireError } from '../lib/errors.js';
import { readUsersFile, writeUsersFile } from '../broker/users-file.js';
import { hashPassword, ROLES, USER_NAME, type User } from '../broker/users.js';
import { helpText, parse, type CommandSpec } from './args.js';

export const usersCommand: CommandSpec = {
  name: 'users',
  summary: 'Broker accounts for services and people: `users add|remove <name>`, `users list`.',
  usage:
    'users add <name> --role observer|service|admin --sites S1,S2|* [--password-stdin] [--file FILE]\n' +
    '       vitalwire users remove <name> [--file FILE]\n       vitalwire users list [--file FILE]',
  positionals: true,
  options: {
    file: {
      type: 'string',
      default: './users.yaml',
      arg: 'FILE',
      help: 'users file (.yaml or .json), written with mode 0600',
    },
    role: { type: 'string', arg: 'ROLE', help: `one of ${ROLES.join(', ')}` },
    sites: {
      type: 'string',
      arg: 'LIST',
      help: "comma-separated scope entries the account may see (site, site/gateway, site/gateway/device), or '*' for every site; without it the account sees nothing",
    },
    'password-stdin': {
      type: 'boolean',
      help: 'read the password from standard input (otherwise one is generated and printed once)',
    },
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export async function runUsers(argv: string[]): Promise<number> {
  const { values, positionals } = parse(usersCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(usersCommand));
    return 0;
  }
  const file = resolve(String(values['file']));
  const [sub, name, ...extra] = positionals;
  if (extra.length > 0) throw new VitalwireError('VW_ERR_USAGE', `unexpected ${extra.join(' ')}`);
  if (sub === 'list') {
    for (const u of await readUsersFile(file, true))
      process.stdout.write(`${u.name.padEnd(24)} ${u.role.padEnd(9)} ${u.sites.join(',') || '(no sites)'}\n`);
    return 0;
  }
  if (sub !== 'add' && sub !== 'remove') throw new VitalwireError('VW_ERR_USAGE', 'expected `users add|remove|list`');
  if (name === undefined || !USER_NAME.test(name))
    throw new VitalwireError('VW_ERR_USAGE', 'a user name of 1-64 A-Z a-z 0-9 . _ - is required');
  const users = await readUsersFile(file, true);
  if (sub === 'remove') {
    const left = users.filter((u) => u.name !== name);
    if (left.length === users.length) throw new VitalwireError('VW_ERR_PROVISION', `no user ${name} in ${file}`);
    await writeUsersFile(file, left);
    process.stdout.write(
      `users: removed ${name}; brokers refuse it at its next login (live sessions end at their next reconnect)\n`,
    );
    return 0;
  }
  const role = values['role'];
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
    throw new VitalwireError('VW_ERR_USAGE', `--role must be one of ${ROLES.join(', ')}`);
  if (users.some((u) => u.name === name))
    throw new VitalwireError('VW_ERR_PROVISION', `user ${name} already exists in ${file} (remove it first)`);
  // No scope unless given: an account made without --sites sees nothing (an easy '*' would open every site).
  const sites =
    values['sites'] === undefined
      ? []
      : String(values['sites'])
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
  if (values['sites'] !== undefined && sites.length === 0)
    throw new VitalwireError('VW_ERR_USAGE', "--sites needs at least one site, or '*' for every site");
  const generated = values['password-stdin'] !== true;
  const password = generated ? randomBytes(18).toString('base64url') : await readStdin();
  if (password.length < 12) throw new VitalwireError('VW_ERR_USAGE', 'passwords must be at least 12 characters');
  const user: User = { name, role: role as User['role'], sites, hash: await hashPassword(password) };
  await writeUsersFile(file, [...users, user]);
  process.stdout.write(
    `users: added ${name} (${role}, ${sites.length > 0 ? `sites ${sites.join(',')}` : 'no sites: it sees nothing until re-added with --sites'}) to ${file}\n`,
  );
  if (generated) process.stdout.write(`users: password for ${name} (shown once): ${password}\n`);
  return 0;
}
