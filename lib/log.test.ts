// Log lines are JSON that every reader parses the same way: no key twice (a second `svc` is read as the first by some
// tools and as the last by others).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.js';

describe('createLogger', () => {
  it('names the command once and each hosted service once', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const root = createLogger('vitalwire-demo', 'info', sink);
    const log = root.child({ svc: 'fanout' });
    log.info({ device: 'bed01' }, 'hello');
    const line = lines[0] ?? '';
    expect(line.match(/"svc":/g)).toHaveLength(1);
    expect(line.match(/"name":/g)).toHaveLength(1);
    expect(JSON.parse(line)).toMatchObject({ name: 'vitalwire-demo', svc: 'fanout', device: 'bed01' });
    expect(root.bindings()).not.toHaveProperty('svc');
  });
});
