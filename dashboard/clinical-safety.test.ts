// docs/clinical-safety.md cites, for each hazard, the test that verifies its risk control. This keeps the citations
// true: every "`file` › test name" names a file that exists and a test in it, so a renamed or deleted test fails here
// instead of leaving the hazard table pointing at nothing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const DOC = readFileSync(join(ROOT, 'docs', 'clinical-safety.md'), 'utf8');

/** Every (file, test name) the table cites: "`path` › name<br>› name<br>`other` › name" inside a Verification cell. */
function citations(): { file: string; name: string }[] {
  const out: { file: string; name: string }[] = [];
  for (const row of DOC.split('\n').filter((l) => l.startsWith('| ') && l.includes('›'))) {
    for (const cell of row.split(' | ')) {
      let file = '';
      for (const part of cell.split('<br>')) {
        const m = /^(?:`([^`]+\.test\.ts)` )?› (.+?)\s*\|?$/.exec(part.trim());
        if (!m) continue;
        if (m[1]) file = m[1];
        if (file) out.push({ file, name: (m[2] ?? '').trim() });
      }
    }
  }
  return out;
}

/** A test title as it reads in its source: quotes escaped, and "(…)" standing for the rest of it. */
function inSource(source: string, name: string): boolean {
  const text = source.replace(/\\'/g, "'");
  const head = name.replace(/\s*\(…\).*$/, '');
  return text.includes(head);
}

describe('docs/clinical-safety.md', () => {
  const cited = citations();

  it('cites tests for its hazards', () => {
    expect(cited.length).toBeGreaterThan(20);
  });

  it('every cited test exists under the name it is cited by', () => {
    const missing = cited.filter(({ file, name }) => {
      const path = join(ROOT, file);
      return !existsSync(path) || !inSource(readFileSync(path, 'utf8'), name);
    });
    expect(missing).toEqual([]);
  });

  it('names no test for rows still waiting on another part: those say "(pending: …)"', () => {
    const pending = DOC.split('\n').filter((l) => l.includes('(pending:'));
    for (const row of pending) expect(row).not.toMatch(/\.test\.ts` › [^|]*\(pending/);
  });
});
