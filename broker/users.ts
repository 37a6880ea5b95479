// Broker users (dashboards, services, operators) with scrypt password hashes. Gateways never appear here: they
// authenticate with client certificates (broker/pki.ts).
import { randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';

export interface User {
  name: string;
  role: 'observer' | 'service' | 'admin';
  sites: string[]; // '*' = all sites
  hash: string; // scrypt$N$r$p$saltB64$hashB64
}

export interface UserStore {
  get(name: string): User | undefined;
  add(user: User): void;
  remove(name: string): boolean;
  /** The user when the password matches, else null. Unknown names cost the same scrypt as known ones. */
  verify(name: string, password: string | Uint8Array): Promise<User | null>;
  /** Stores backed by a file: re-read it if it changed. Throws VW_ERR_CONFIG while the file is unusable. */
  refresh?(): Promise<void>;
}

// RFC 7914 parameters (N=2^14, r=8, p=1): the interactive-login cost, ~16 MiB and tens of ms per check.
const N = 16384;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
// Bounds on what a stored string may ask for, so a corrupt or hostile entry cannot make verify allocate gigabytes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
export const ROLES: readonly User['role'][] = ['observer', 'service', 'admin'];
/**
 * User names: no '/', ':', '+', '#' or spaces. '/' marks gateway client ids and ':' separates a user's client-id
 * suffix, so a user name can never reach another identity's client ids or widen a topic.
 */
export const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A user's MQTT client id must be its name or `<name>:<anything>`, so no identity can claim (and so disconnect,
 * [MQTT-3.1.4-2]) another identity's session. An empty client id gets a server-assigned one and is always allowed.
 */
export function userClientIdIsBound(clientId: string, name: string): boolean {
  return clientId === name || clientId.startsWith(`${name}:`);
}

function scryptAsync(pw: BinaryLike, salt: Uint8Array, keylen: number, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(pw, salt, keylen, o, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const maxmem = (n: number, r: number, p: number): number => 128 * n * r * p + 1024 * 1024 * 4;

export async function hashPassword(pw: string | Uint8Array): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(pw, salt, KEY_BYTES, { N, r: R, p: P, maxmem: maxmem(N, R, P) });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const INT = /^[1-9][0-9]{0,7}$/;

interface Parsed {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): Parsed | null {
  const f = stored.split('$');
  if (f.length !== 6 || f[0] !== 'scrypt') return null;
  const [, ns, rs, ps, saltB64, keyB64] = f as [string, string, string, string, string, string];
  if (!INT.test(ns) || !INT.test(rs) || !INT.test(ps) || !B64.test(saltB64) || !B64.test(keyB64)) return null;
  const n = Number(ns);
  const r = Number(rs);
  const p = Number(ps);
  if (n < 2 || n > MAX_N || (n & (n - 1)) !== 0 || r > MAX_R || p > MAX_P) return null;
  const salt = Buffer.from(saltB64, 'base64');
  const key = Buffer.from(keyB64, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > 64) return null;
  return { n, r, p, salt, key };
}

/** True only for a well-formed hash that matches; malformed hashes are false, never a throw. */
export async function verifyPassword(pw: string | Uint8Array, stored: string): Promise<boolean> {
  const h = parseHash(stored);
  if (!h) return false;
  let got: Buffer;
  try {
    got = await scryptAsync(pw, h.salt, h.key.length, { N: h.n, r: h.r, p: h.p, maxmem: maxmem(h.n, h.r, h.p) });
  } catch {
    return false;
  }
  return timingSafeEqual(got, h.key);
}

function checkUser(u: User): void {
  if (typeof u.name !== 'string' || !USER_NAME.test(u.name))
    throw new TypeError(`user name ${JSON.stringify(u.name)} must be 1-64 of A-Z a-z 0-9 . _ -`);
  if (!ROLES.includes(u.role)) throw new TypeError(`user ${u.name}: unknown role ${String(u.role)}`);
  if (!Array.isArray(u.sites) || u.sites.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError(`user ${u.name}: sites must be a list of site ids or '*'`);
  }
  if (!parseHash(u.hash)) throw new TypeError(`user ${u.name}: hash is not a scrypt$N$r$p$salt$hash string`);
}

export function createUserStore(users: User[] = []): UserStore {
  const byName = new Map<string, User>();
  // Computed up front, so the first unknown name does not pay an extra hash that a real name would not.
  const dummy = hashPassword(randomBytes(16));
  dummy.catch(() => undefined);
  const store: UserStore = {
    get: (name) => byName.get(name),
    add(user) {
      checkUser(user);
      byName.set(user.name, { ...user, sites: [...user.sites] });
    },
    remove: (name) => byName.delete(name),
    async verify(name, password) {
      const user = byName.get(name);
      if (!user) {
        // Same work as a real check, so response time does not tell which names exist.
        await verifyPassword(password, await dummy);
        return null;
      }
      return (await verifyPassword(password, user.hash)) ? user : null;
    },
  };
  for (const u of users) store.add(u);
  return store;
}
