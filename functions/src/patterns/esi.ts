// esi-compose: a shared HTML shell plus personalised fragments fetched in parallel.
// The composed page is streamed: bytes before a slot go out as soon as the shell
// has arrived, each fragment is written when its turn comes, and a fragment that fails
// or misses its deadline leaves the slot's fallback. Personalisation never turns
// into a 5xx; if the shell itself is unavailable - also when it breaks off mid-body:
// it is read whole before the first byte goes out - the request continues to the
// origin unchanged.
//
// Slots in the shell: <!--esi:NAME--> (replaced by fragment NAME).
//
// Only GET and HEAD are composed (ESI_METHODS): a POST, PUT, DELETE, ... on an ESI route is the
// application's own traffic (a form post, an API call) and passes to the origin untouched. A HEAD
// answer carries the composed page's headers and no body (RFC 9110 §9.3.2), so no fragment is fetched.
import type { PatternBase } from "../core/config";
import { DEFAULT_ORIGIN, type EdgeContext } from "../core/context";
import { forwardable } from "../core/http";
import { originUrl } from "../core/origin";

export interface FragmentConfig {
  slot: string;
  path: string;
  origin: string;
  timeoutMs: number;
  fallback: string;
}

export interface EsiConfig extends PatternBase {
  type: "esi-compose";
  shell: string;
  fragments: FragmentConfig[];
  shellCacheTtl: number;
}

/** The request methods esi-compose acts on; the engine passes every other method to the origin (issue #16 item 2). */
export const ESI_METHODS: readonly string[] = ["GET", "HEAD"];

const SLOT = /<!--\s*esi:([A-Za-z0-9_-]{1,64})\s*-->/;
const MAX_MARKER = 80; // longest possible marker, for carrying partial markers across chunks

async function fragment(ctx: EdgeContext, f: FragmentConfig): Promise<string> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), f.timeoutMs);
  try {
    const url = originUrl(ctx.cfg, f.origin, f.path);
    const res = await fetch(url.href, { headers: forwardable(ctx.headers), signal: ac.signal, redirect: "manual" });
    if (!res.ok) {
      res.body?.cancel().catch(() => undefined);
      return f.fallback;
    }
    return await res.text();
  } catch {
    return f.fallback;
  } finally {
    clearTimeout(timer);
  }
}

interface Shell {
  html: string;
  contentType: string | null;
}

/**
 * The shell, read whole, or null when it is unavailable. Reading it whole before the page's first byte is what
 * lets a shell that breaks off mid-body go to the origin like a missing one: a body cut by the origin rejects the
 * read (fetch's body stream errors: "Network connection lost" in workerd, "terminated" in undici), while a page
 * already streaming has sent its 200 and first bytes, and its cut may reach the viewer as a page that looks whole
 * (workerd, locally, ends a response whose stream errors with the chunked terminator; docs/faults.md). The
 * fragments, the slow part, still stream in as they come.
 */
async function shell(ctx: EdgeContext, cfg: EsiConfig): Promise<Shell | null> {
  const origin = ctx.origin ?? DEFAULT_ORIGIN;
  const url = originUrl(ctx.cfg, origin, cfg.shell).href;
  // Cache entries are keyed on the site's own host (a zone's cache holds its own URLs), per shell and origin.
  const key = new URL(`/__edgeport/esi-shell?pattern=${encodeURIComponent(cfg.name)}&origin=${encodeURIComponent(origin)}`, ctx.request.url).href;
  const cache = ctx.platform.cache;
  if (cache) {
    const hit = await cache.match(key).catch(() => undefined);
    const html = hit ? await hit.text().catch(() => null) : null;
    if (html !== null) return { html, contentType: hit!.headers.get("content-type") };
  }
  let res: Response;
  let html: string;
  try {
    res = await fetch(url, { headers: { accept: "text/html" }, redirect: "manual" });
    if (!res.ok || !res.body) {
      res.body?.cancel().catch(() => undefined);
      return null;
    }
    html = await res.text();
  } catch {
    return null;
  }
  const contentType = res.headers.get("content-type");
  if (cache && cfg.shellCacheTtl > 0) {
    const copy = new Response(html, { headers: { "content-type": contentType ?? "text/html", "cache-control": `public, max-age=${cfg.shellCacheTtl}` } });
    const put = cache.put(key, copy).catch(() => undefined);
    ctx.platform.waitUntil ? ctx.platform.waitUntil(put) : await put;
  }
  return { html, contentType };
}

/** Stream `body`, replacing each slot marker by its fragment (awaited in document order). */
export function compose(body: ReadableStream<Uint8Array>, slots: Map<string, Promise<string>>): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const enc = new TextEncoder();
  (async () => {
    const reader = body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { done, value } = await reader.read();
      buf += done ? dec.decode() : dec.decode(value, { stream: true });
      let m: RegExpExecArray | null;
      while ((m = SLOT.exec(buf))) {
        const before = buf.slice(0, m.index);
        if (before) await writer.write(enc.encode(before));
        const fill = slots.get(m[1]);
        await writer.write(enc.encode(fill ? await fill : m[0]));
        buf = buf.slice(m.index + m[0].length);
      }
      // Hold back only what could be the start of a marker split across chunks.
      const lt = buf.lastIndexOf("<!--");
      const keepFrom = done ? buf.length : lt >= 0 && buf.length - lt < MAX_MARKER ? lt : Math.max(0, buf.length - 3);
      if (keepFrom > 0) {
        await writer.write(enc.encode(buf.slice(0, keepFrom)));
        buf = buf.slice(keepFrom);
      }
      if (done) break;
    }
    if (buf) await writer.write(enc.encode(buf));
    await writer.close();
  })().catch((e) => writer.abort(e).catch(() => undefined));
  return readable;
}

export async function esiStep(ctx: EdgeContext, cfg: EsiConfig): Promise<Response | void> {
  const head = ctx.request.method === "HEAD";
  // Fragments start at once, in parallel with the shell (none for HEAD: nothing of them is sent).
  const slots = new Map(head ? [] : cfg.fragments.map((f) => [f.slot, fragment(ctx, f)] as const));
  const res = await shell(ctx, cfg);
  if (!res) {
    console.warn(`edgeport: esi ${cfg.name}: shell ${cfg.shell} unavailable, passing the request to the origin`);
    for (const p of slots.values()) p.catch(() => undefined);
    return;
  }
  const headers = new Headers({
    "content-type": res.contentType ?? "text/html; charset=utf-8",
    "cache-control": "private, no-store",
    "x-edgeport-esi": cfg.name,
  });
  // The shell was fetched so that HEAD answers as GET would (composed, or passed on when the shell is down).
  if (head) return new Response(null, { status: 200, headers });
  return new Response(compose(new Response(res.html).body!, slots), { status: 200, headers });
}
