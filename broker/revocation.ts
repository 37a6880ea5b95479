// Gateway certificate revocation: a JSON list of revoked serials that `vitalwire gateways revoke` appends to and the
// broker consults at every certificate connect, re-reading the file when it changes. So a revoked certificate is
// refused at its next connect, on every broker that reads the file, with no restart. A list the broker cannot read
// or validate refuses every certificate until fixed (fail closed): an unreadable list must not un-revoke anyone.
import { z } from 'zod';
import { readValidatedFile } from '../lib/config.js';
import { writeAtomic } from '../lib/atomic-file.js';
import { canonicalSerial } from './pki.js';
import { watchFile } from '../lib/watched-file.js';

const entry = z.strictObject({
  serial: z.string().regex(/^[0-9A-Fa-f:]{1,60}$/),
  identity: z.string(),
  revokedAt: z.string(),
  reason: z.string().optional(),
});

export const revocationFileSchema = z.strictObject({ revoked: z.array(entry).default([]) });
export type RevokedEntry = z.output<typeof entry>;

export interface RevocationList {
  /** True when the serial is revoked; throws VW_ERR_CONFIG while the list cannot be read. */
  isRevoked(serial: string): Promise<boolean>;
}

export async function readRevocationFile(path: string, missingOk = false): Promise<RevokedEntry[]> {
  const f = await readValidatedFile(revocationFileSchema, path, { what: 'revocation list', format: 'json', missingOk });
  return f ? f.revoked.map((e) => ({ ...e })) : [];
}

export async function writeRevocationFile(path: string, entries: readonly RevokedEntry[]): Promise<void> {
  await writeAtomic(path, `${JSON.stringify({ revoked: entries }, null, 2)}\n`, 0o644);
}

/** A revocation list over a file, reloaded when its inode, size or mtime change. */
export function fileRevocationList(path: string): RevocationList {
  const file = watchFile(
    path,
    async (p) => new Set((await readRevocationFile(p)).map((e) => canonicalSerial(e.serial))),
    new Set<string>(),
    'revocation list',
  );
  return {
    async isRevoked(serial) {
      await file.refresh();
      return file.current().has(canonicalSerial(serial));
    },
  };
}

/** A fixed in-memory list (tests, embedding). */
export function staticRevocationList(revoked: readonly string[]): RevocationList {
  const set = new Set(revoked.map(canonicalSerial));
  return { isRevoked: async (s) => set.has(canonicalSerial(s)) };
}
