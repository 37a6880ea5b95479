// Logging. Policy: log device ids, counts and error kinds; never patient names, identifiers
// or clinical values. Nothing in vitalwire passes decoded payloads to the logger.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * The process's logger: `name` says which command runs (vitalwire-gateway, vitalwire-demo). A process that hosts several
 * services names each in a child (`logger.child({ svc: 'fanout' })`); the root carries no `svc` of its own, so no line
 * ever holds the key twice.
 */
export function createLogger(
  name: string,
  level = process.env['VW_LOG_LEVEL'] ?? 'info',
  dest?: DestinationStream,
): Logger {
  const opts = { name, level, base: { pid: process.pid } };
  return dest ? pino(opts, dest) : pino(opts);
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
