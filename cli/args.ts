// Small helpers over node:util parseArgs: every command declares its options once, and the
// same table prints its --help.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VitalwireError } from '../lib/errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  default?: string | boolean;
  help: string;
  arg?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  positionals?: boolean;
}

export function helpText(c: CommandSpec): string {
  const rows = Object.entries({ ...c.options, help: { type: 'boolean', help: 'show this help' } as OptionSpec }).map(
    ([k, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
      const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
      return `  ${flag.padEnd(30)} ${o.help}${def}`;
    },
  );
  return `${c.summary}\n\nUsage: vitalwire ${c.usage}\n\nOptions:\n${rows.join('\n')}\n`;
}

export function parse(
  c: CommandSpec,
  argv: string[],
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [k, o] of Object.entries(c.options)) {
    options[k] = {
      type: o.type,
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.short ? { short: o.short } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
    } as NonNullable<ParseArgsConfig['options']>[string];
  }
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: c.positionals ?? false, strict: true });
    return { values: r.values as Record<string, string | boolean | string[] | undefined>, positionals: r.positionals };
  } catch (err) {
    throw new VitalwireError('VW_ERR_USAGE', err instanceof Error ? err.message : String(err));
  }
}

export function intOption(v: unknown, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new VitalwireError('VW_ERR_USAGE', `--${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return n;
}

/** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
