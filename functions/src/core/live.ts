// Live settings (A/B ratios) read from the platform's store, cached per isolate with a TTL, stale-while-revalidate.
// A request never waits on a store once a value is known:
// - a fresh value (younger than the TTL) is returned as is;
// - a stale one is returned at once, and one refresh runs in the background (kept alive by platform.waitUntil where
//   the platform has one): a change in the store is seen within the TTL plus one request (the request that finds the
//   value stale starts the read; requests after the store has answered see the new value);
// - with no value yet, the first read is awaited at most `timeoutMs` (0: not at all; Lambda@Edge, whose store may
//   be an ocean away); until it lands the caller gets null and uses the declared defaults.
// A failed read keeps the last known value (null at first) and is retried after min(TTL, 5 s).
import type { Platform } from "./platform";

interface Entry {
  value: string | null;
  /** whether `value` came from the store (or a failed first read settled it to null) */
  known: boolean;
  /** platform.now() after which the value is stale */
  expires: number;
  pending?: Promise<string | null>;
  /** platform.now() when `pending` started */
  started: number;
}

const cache = new Map<string, Entry>();
const FAILURE_TTL_MS = 5_000;
/**
 * A read still pending after this long is taken as lost and replaced: a platform may end a request's outstanding
 * I/O when the response is done (Vercel without waitUntil), or freeze the container with the read in flight
 * (Lambda), and a lost read must not block every later refresh.
 */
const PENDING_LOST_MS = 30_000;

export async function liveValue(platform: Platform, key: string, ttlMs: number, timeoutMs: number): Promise<string | null> {
  const entry = entryFor(key);
  if (platform.now() < entry.expires) return entry.value;
  const read = refresh(platform, entry, key, ttlMs);
  if (entry.known) return entry.value;
  return timeoutMs > 0 ? firstRead(read, timeoutMs) : null;
}

function entryFor(key: string): Entry {
  let e = cache.get(key);
  if (!e) {
    e = { value: null, known: false, expires: 0, started: 0 };
    cache.set(key, e);
  }
  return e;
}

/** The running read of `key`, or a new one. Its outcome settles the entry unless a newer read replaced it. */
function refresh(platform: Platform, entry: Entry, key: string, ttlMs: number): Promise<string | null> {
  const now = platform.now();
  if (entry.pending && now - entry.started < PENDING_LOST_MS) return entry.pending;
  entry.started = now;
  const read: Promise<string | null> = platform.live(key).then(
    (v) => {
      if (entry.pending === read) settle(entry, v, platform.now() + ttlMs);
      return v;
    },
    (err) => {
      console.warn(`edgeport: live setting ${key} unavailable: ${(err as Error)?.message ?? err}`);
      if (entry.pending === read) settle(entry, entry.value, platform.now() + Math.min(ttlMs, FAILURE_TTL_MS));
      return entry.value;
    },
  );
  entry.pending = read;
  platform.waitUntil?.(read);
  return read;
}

function settle(entry: Entry, value: string | null, expires: number): void {
  entry.value = value;
  entry.known = true;
  entry.expires = expires;
  entry.pending = undefined;
}

/** The first read of a key, or null after `timeoutMs` (the read goes on and fills the cache). */
async function firstRead(read: Promise<string | null>, timeoutMs: number): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    return await Promise.race([read, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
