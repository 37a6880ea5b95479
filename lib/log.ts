// Logging. Policy: log device ids, counts and error kinds; never patient names, identifiers
// or clinical values. Nothing in vitalwire passes decoded payloads to the logger.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level = process.env['VW_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ name, level, base: { svc: name } });
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
