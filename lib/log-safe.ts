// Strings a peer chose (user names, client ids, topics, filters) on their way into a log line. A refused CONNECT
// logged its user name whatever its length: one unauthenticated client wrote 4.2 MB/s of log (issue 14). pino escapes
// control characters in JSON, so this is about size and legibility: printable ASCII kept, anything else shown as '?',
// and a long string cut with the number of characters left out.

/** Printable ASCII, except the escape-prone backslash and quote, survive; at most `max` characters. */
export function peerText(s: unknown, max = 64): string {
  const text = typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s);
  const kept = text.length > max ? text.slice(0, max) : text;
  const clean = kept.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
  return text.length > max ? `${clean}...(${text.length - max} more)` : clean;
}
