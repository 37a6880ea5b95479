// Configuration files, validated once: YAML or JSON text -> a zod schema that supplies defaults -> every problem
// reported together with its path -> a deep-frozen object. Generic: the broker and the gateway each pass their own
// schema. Relative paths inside a file are the caller's business (`configDir` says where the file was).
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { VitalwireError } from './errors.js';

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends Buffer | ((...args: never[]) => unknown)
    ? T
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export interface ConfigIssue {
  /** Dotted path with [n] for list items, e.g. `limits.maxPacketBytes` or `devices[2].id`; '' for the whole file. */
  readonly path: string;
  readonly message: string;
}

/** A VW_ERR_CONFIG error carrying every issue found, so a user fixes a file in one pass, not one error per run. */
export class ConfigError extends VitalwireError {
  readonly issues: readonly ConfigIssue[];
  readonly source: string;
  constructor(source: string, issues: readonly ConfigIssue[]) {
    super(
      'VW_ERR_CONFIG',
      `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${formatIssues(issues)}`,
    );
    this.name = 'ConfigError';
    this.issues = issues;
    this.source = source;
  }
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `  - ${i.path === '' ? '(top level)' : i.path}: ${i.message}`).join('\n');
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** Freezes an object graph in place and returns it typed read-only. Buffers and typed arrays cannot be frozen. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value as DeepReadonly<T>;
}

export type ConfigFormat = 'yaml' | 'json';

export function formatOf(file: string): ConfigFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  throw new ConfigError(file, [{ path: '', message: `unknown config format '${ext}': use .yaml, .yml or .json` }]);
}

/** Text -> plain data. Syntax errors are ConfigErrors with a line number, never a bare SyntaxError. */
export function parseConfigText(text: string, format: ConfigFormat, source: string): unknown {
  try {
    if (format === 'json') return JSON.parse(text) as unknown;
    // YAML 1.2 core schema: no !!js/function or other tags that construct objects; duplicate keys are errors.
    return parseYaml(text, { schema: 'core', uniqueKeys: true, prettyErrors: true, maxAliasCount: 100 }) as unknown;
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? `line ${err.linePos[0].line}: ` : '';
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    throw new ConfigError(source, [{ path: '', message: `${where}${message}` }]);
  }
}

/** Validates data against a schema (defaults applied), or throws one ConfigError listing every issue. */
export function validateConfig<S extends z.ZodType>(
  schema: S,
  data: unknown,
  source: string,
): DeepReadonly<z.output<S>> {
  // An empty YAML document is null: treat it as {} so a file holding only comments gets every default.
  const r = schema.safeParse(data ?? {});
  if (!r.success) {
    throw new ConfigError(
      source,
      r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  }
  return deepFreeze(r.data);
}

/**
 * Reads and validates one of the small files the CLI maintains (users, revocation list, issued certificates).
 * null when the file does not exist and `missingOk`; any other read failure is a VW_ERR_CONFIG naming `what`.
 */
export async function readValidatedFile<S extends z.ZodType>(
  schema: S,
  path: string,
  o: { what: string; format?: ConfigFormat; missingOk?: boolean },
): Promise<DeepReadonly<z.output<S>> | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (o.missingOk && code === 'ENOENT') return null;
    throw new VitalwireError('VW_ERR_CONFIG', `${o.what} ${path}: ${code ?? String(err)}`);
  }
  return validateConfig(schema, parseConfigText(text, o.format ?? formatOf(path), path), path);
}

export interface LoadedConfig<T> {
  readonly config: DeepReadonly<T>;
  /** Absolute path of the file, and its directory (for resolving relative paths it names). */
  readonly file: string;
  readonly configDir: string;
}

export async function loadConfigFile<S extends z.ZodType>(schema: S, file: string): Promise<LoadedConfig<z.output<S>>> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(abs, [
      { path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` },
    ]);
  }
  const config = validateConfig(schema, parseConfigText(text, formatOf(abs), abs), abs);
  return { config, file: abs, configDir: dirname(abs) };
}
