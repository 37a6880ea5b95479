import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, deepFreeze, formatPath, loadConfigFile, parseConfigText, validateConfig } from './config.js';

const schema = z.strictObject({
  name: z.string().min(1),
  port: z.number().int().min(0).max(65535).default(8883),
  limits: z
    .strictObject({
      maxBytes: z.number().int().positive().default(1024),
      rate: z.number().positive().default(10),
    })
    .prefault({}),
  devices: z.array(z.strictObject({ id: z.string().regex(/^[a-z0-9]+$/) })).default([]),
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('VW_ERR_CONFIG');
    return [...(err as ConfigError).issues];
  }
  throw new Error('no error');
}

describe('validateConfig', () => {
  it('fills defaults, including nested objects left out', () => {
    const c = validateConfig(schema, { name: 'a' }, 'test');
    expect(c).toEqual({ name: 'a', port: 8883, limits: { maxBytes: 1024, rate: 10 }, devices: [] });
  });

  it('reports every problem together, each with its path', () => {
    const issues = issuesOf(() =>
      validateConfig(
        schema,
        {
          port: 70000,
          limits: { maxBytes: -1, extra: 1 },
          devices: [{ id: 'ok' }, { id: 'Not OK' }],
        },
        'test',
      ),
    );
    const paths = issues.map((i) => i.path).sort();
    expect(paths).toEqual(['devices[1].id', 'limits', 'limits.maxBytes', 'name', 'port']);
    expect(issues.find((i) => i.path === 'limits')?.message).toMatch(/extra/);
  });

  it('freezes the result deeply', () => {
    const c = validateConfig(schema, { name: 'a', devices: [{ id: 'x' }] }, 'test');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.limits)).toBe(true);
    expect(Object.isFrozen(c.devices)).toBe(true);
    expect(Object.isFrozen(c.devices[0])).toBe(true);
    expect(() => {
      (c.limits as { rate: number }).rate = 1;
    }).toThrow(TypeError);
  });

  it('treats an empty document as an empty object', () => {
    expect(issuesOf(() => validateConfig(schema, null, 'test')).map((i) => i.path)).toEqual(['name']);
  });
});

describe('parseConfigText', () => {
  it('reads YAML and JSON to the same data', () => {
    expect(parseConfigText('name: a\nlimits:\n  rate: 2.5\n', 'yaml', 'x')).toEqual({
      name: 'a',
      limits: { rate: 2.5 },
    });
    expect(parseConfigText('{"name":"a","limits":{"rate":2.5}}', 'json', 'x')).toEqual({
      name: 'a',
      limits: { rate: 2.5 },
    });
  });

  it('refuses duplicate keys and reports the line of a syntax error', () => {
    const dup = issuesOf(() => parseConfigText('name: a\nname: b\n', 'yaml', 'x'));
    expect(dup[0]?.message).toMatch(/line 2/);
    expect(issuesOf(() => parseConfigText('{"name": ', 'json', 'x'))).toHaveLength(1);
  });
});

describe('loadConfigFile', () => {
  it('loads a YAML file and says where it was', async () => {
    const f = join(dir, 'c.yaml');
    await writeFile(f, '# comment\nname: central\nport: 0\n');
    const { config, configDir, file } = await loadConfigFile(schema, f);
    expect(config.port).toBe(0);
    expect(configDir).toBe(dir);
    expect(file).toBe(f);
  });

  it('names the file in every error: unreadable, unknown extension, invalid', async () => {
    await expect(loadConfigFile(schema, join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml.*ENOENT/s);
    await writeFile(join(dir, 'c.toml'), 'name = "x"');
    await expect(loadConfigFile(schema, join(dir, 'c.toml'))).rejects.toThrow(/unknown config format/);
    await writeFile(join(dir, 'bad.json'), '{"port": "x"}');
    await expect(loadConfigFile(schema, join(dir, 'bad.json'))).rejects.toThrow(
      /bad\.json: 2 problems[\s\S]*name[\s\S]*port/,
    );
  });
});

describe('helpers', () => {
  it('formats paths with dots and list indexes', () => {
    expect(formatPath(['a', 0, 'b', 12])).toBe('a[0].b[12]');
    expect(formatPath([])).toBe('');
  });

  it('leaves buffers alone when freezing', () => {
    const o = deepFreeze({ b: Buffer.from('x') });
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.b)).toBe(false);
  });
});
