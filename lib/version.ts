// The package's version: one definition for `vitalwire --version`, the FHIR CapabilityStatement and anything else
// that names the software.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** From the nearest package.json named vitalwire (lib/ in a checkout, dist/lib/ installed); 'unknown' without one. */
export function version(): string {
  if (cached !== null) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (!existsSync(p)) continue;
    const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'vitalwire' && pkg.version) return (cached = pkg.version);
  }
  return (cached = 'unknown');
}
