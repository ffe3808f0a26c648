// Reference implementation for the `esi-compose` benchmark case, Vercel Routing Middleware.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 4: ESI Pattern — Static Shell + Dynamic Data Hybrid"; the seed article's samples are
// the baseline benchmarks compare against. It is kept as published on purpose, weaknesses
// included: it waits for the shell *and* every fragment before sending a byte and has no
// fragment timeout. Do not use it as an example.
//
// The article wrote it as a Cloudflare Worker. Minimal adaptations to Vercel middleware:
//   1. entry point: `export default async function middleware(request)` instead of
//      `export default { async fetch(request) }`;
//   2. `caches.default.match(...)` -> `undefined`: Vercel's edge runtime has no Cache API
//      (`caches` is undefined there and in edge-runtime), so the sample's own cache-miss branch
//      runs on every request: the shell is fetched from the origin, as edgeport does on Vercel;
//   3. the relative '/shell.html' is resolved against `request.url` (a relative URL does not
//      parse in fetch); on Vercel that URL goes through the deployment, whose vercel.json
//      rewrites it to the origin (locally: straight to the loopback origin);
//   4. the fallback is `next()` instead of `fetch(request)`, which in middleware would call the
//      deployment itself;
//   5. `fetchPersonalizedContent`, which the article calls but never defines, fetches what
//      edgeport's `home` pattern fetches: the `cart` and `recommendations` fragments of the bench
//      stack, in parallel, from the site's origin, with the viewer's cookie, joined in one string.
import { next } from '@vercel/functions/middleware';

// Not in the article (see 5. above).
async function fetchPersonalizedContent(request: Request): Promise<string> {
  const headers = { cookie: request.headers.get('cookie') ?? '' };
  const parts = await Promise.all(
    ['/fragments/cart', '/fragments/recommendations'].map((path) =>
      fetch(new URL(path, request.url).href, { headers }).then((r) => r.text()),
    ),
  );
  return parts.join('');
}

// Static shell (no Cache API on Vercel: always the cache-miss path), personalized data injected at the edge
export default async function middleware(request: Request): Promise<Response> {
  try {
    const [shellResponse, personalizedData] = await Promise.all([
      undefined as Response | undefined,
      fetchPersonalizedContent(request),
    ]);
    // On cache miss, fetch directly from origin
    const shellText = shellResponse
      ? await shellResponse.text()
      : await fetch(new URL('/shell.html', request.url).href).then(r => r.text());
    const injected = shellText.replace(
      '<!-- PERSONALIZED_SLOT -->',
      personalizedData
    );
    return new Response(injected, {
      headers: { 'Content-Type': 'text/html' },
    });
  } catch {
    // Fall back to origin on edge processing failure
    return next();
  }
}
