// The session signing key on disk: base64 of at least 32 random bytes, mode 0600. Every fan-out of a cluster must
// read the same file (copy it, or mount it), or a token from one instance is refused by the others.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { VitalwireError } from '../lib/errors.js';
import { MIN_SECRET_BYTES } from './session.js';

/** Reads the key file, creating it (and its directory, 0700) with a fresh key when it does not exist. */
export async function loadOrCreateSessionSecret(path: string): Promise<Buffer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new VitalwireError(
        'VW_ERR_CONFIG',
        `session key ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    text = `${randomBytes(MIN_SECRET_BYTES).toString('base64')}\n`;
    try {
      await writeFile(path, text, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      text = await readFile(path, 'utf8'); // another process created it first
    }
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length < MIN_SECRET_BYTES) {
    throw new VitalwireError(
      'VW_ERR_CONFIG',
      `session key ${path} must hold at least ${MIN_SECRET_BYTES} bytes (base64)`,
    );
  }
  return key;
}
