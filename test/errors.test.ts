// Keeps the error registry and docs/errors.md in step: every code documented once, no
// documented code missing from the registry.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS, VitalwireError } from '../lib/errors.js';

const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8');
const documented = [...doc.matchAll(/^\| `(VW_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);

describe('error registry', () => {
  it('documents every code exactly once, and nothing else', () => {
    expect([...documented].sort()).toEqual(Object.keys(ERRORS).sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('names codes VW_ERR_* and carries them on errors', () => {
    for (const code of Object.keys(ERRORS)) expect(code).toMatch(/^VW_ERR_[A-Z0-9_]+$/);
    const e = new VitalwireError('VW_ERR_CONFIG', 'devices[0].id');
    expect(e.code).toBe('VW_ERR_CONFIG');
    expect(e.message).toBe('the configuration is invalid: devices[0].id');
    expect(e).toBeInstanceOf(Error);
  });
});
