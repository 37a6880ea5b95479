// Control messages per dashboard connection (issue 14 finding 7): each op may write the audit (open, close, denied)
// and the log, so a token bucket per connection bounds them. Sans-I/O: time comes in with each call.
export interface OpRate {
  perSecond: number;
  burst: number;
}

export function createOpBucket<K extends object>(rate: OpRate): (key: K, nowMs: number) => boolean {
  const buckets = new WeakMap<K, { tokens: number; atMs: number }>();
  return (key, now) => {
    const b = buckets.get(key) ?? { tokens: rate.burst, atMs: now };
    b.tokens = Math.min(rate.burst, b.tokens + ((now - b.atMs) * rate.perSecond) / 1000);
    b.atMs = now;
    buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  };
}
