// Capped exponential backoff with full jitter: a ward of devices that lost power together must
// not reconnect in lock-step.
export interface Backoff {
  next(): number;
  reset(): void;
}

export function createBackoff(minMs = 250, maxMs = 30_000, random: () => number = Math.random): Backoff {
  let attempt = 0;
  return {
    next() {
      const cap = Math.min(maxMs, minMs * 2 ** attempt);
      attempt = Math.min(attempt + 1, 30);
      return Math.round(minMs / 2 + random() * (cap - minMs / 2));
    },
    reset() {
      attempt = 0;
    },
  };
}
