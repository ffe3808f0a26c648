// Live settings (A/B ratios) read from the platform's store, cached per isolate
// with a TTL. A slow or failing store never blocks a request: after `timeoutMs`
// the caller gets null (and uses the declared defaults); the answer, when it
// comes, is cached for the next requests.
import type { Platform } from "./platform";

interface Entry {
  value: string | null;
  expires: number;
  pending?: Promise<string | null>;
}

const cache = new Map<string, Entry>();
const FAILURE_TTL_MS = 5_000;

export async function liveValue(platform: Platform, key: string, ttlMs: number, timeoutMs: number): Promise<string | null> {
  const now = platform.now();
  let e = cache.get(key);
  if (e && now < e.expires) return e.value;
  if (!e) {
    e = { value: null, expires: 0 };
    cache.set(key, e);
  }
  const entry = e;
  entry.pending ??= platform.live(key).then(
    (v) => {
      entry.value = v;
      entry.expires = platform.now() + ttlMs;
      entry.pending = undefined;
      return v;
    },
    (err) => {
      console.warn(`edgeport: live setting ${key} unavailable: ${(err as Error)?.message ?? err}`);
      entry.value = null;
      entry.expires = platform.now() + Math.min(ttlMs, FAILURE_TTL_MS);
      entry.pending = undefined;
      return null;
    },
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    return await Promise.race([entry.pending, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
