// A memo of string keys whose size is bounded whatever the keys are: once full it starts again. For lookups that are
// asked the same few keys many times (a gateway's topics) but may be fed any number by a peer.

export interface BoundedMemo<V> {
  /** The remembered value, or `compute(key)`'s, remembered. */
  get(key: string): V;
  /** The remembered value without computing one. */
  peek(key: string): V | undefined;
  delete(key: string): void;
  clear(): void;
}

export function boundedMemo<V>(limit: number, compute: (key: string) => V): BoundedMemo<V> {
  const m = new Map<string, V>();
  return {
    get(key) {
      let v = m.get(key);
      if (v === undefined) {
        if (m.size >= limit) m.clear();
        v = compute(key);
        m.set(key, v);
      }
      return v;
    },
    peek: (key) => m.get(key),
    delete: (key) => void m.delete(key),
    clear: () => m.clear(),
  };
}
