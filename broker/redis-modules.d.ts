// aedes-persistence-redis ships no typings. Only what broker/cluster.ts uses is declared.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';
  interface RedisPersistenceOptions {
    conn?: Redis;
    /** Packets a reconnecting persistent session is sent at most per restore (default 1000). */
    maxSessionDelivery?: number;
    packetTTL?: () => number;
  }
  interface RedisPersistence {
    setup(broker: unknown): Promise<void>;
    destroy(): Promise<void>;
  }
  export default function persistence(opts?: RedisPersistenceOptions): RedisPersistence;
}

// msgpack-lite ships no typings: the two calls broker/redis-emitter.ts makes. Buffers round-trip as Buffers, which
// Aedes' packets (payload: Buffer) need.
declare module 'msgpack-lite' {
  export function encode(value: unknown): Buffer;
  export function decode(buf: Uint8Array): unknown;
  const msgpack: { encode: typeof encode; decode: typeof decode };
  export default msgpack;
}
