// Reference implementation for the `esi-compose` benchmark case, Cloudflare Workers.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 4: ESI Pattern — Static Shell + Dynamic Data Hybrid"; the seed article's samples are
// the baseline benchmarks compare against. It is kept as published on purpose, weaknesses
// included: it waits for the shell *and* every fragment before sending a byte, has no fragment
// timeout (a slow fragment delays the whole page; a failed one sends the origin's error page or
// the whole request to the origin), and never fills the cache it reads. Do not use it as an
// example.
//
// Adaptations for Cloudflare (the article's own target), and nothing else:
//   1. the two relative URLs ('/shell.html' for `caches.default.match` and for the cache-miss
//      `fetch`) are resolved against `request.url`: a relative URL does not parse in Workers
//      (TypeError, so as published every request would fall back to `fetch(request)`);
//   2. `fetchPersonalizedContent`, which the article calls but never defines, fetches what
//      edgeport's `home` pattern fetches: the `cart` and `recommendations` fragments of the bench
//      stack, in parallel, from the site's origin, with the viewer's cookie, joined in one string.
// The shell goes through `caches.default` as published. The sample never puts it there (the
// article assumes the CDN already holds it), so bench/measure.mjs seeds caches.default with
// the shell before the first request, untimed; edgeport fills its own cache on its first request.

// Not in the article (see 2. above).
async function fetchPersonalizedContent(request: Request): Promise<string> {
  const headers = { cookie: request.headers.get('cookie') ?? '' };
  const parts = await Promise.all(
    ['/fragments/cart', '/fragments/recommendations'].map((path) =>
      fetch(new URL(path, request.url).href, { headers }).then((r) => r.text()),
    ),
  );
  return parts.join('');
}

// Static shell served from CDN cache, only personalized data injected at the edge
export default {
  async fetch(request: Request): Promise<Response> {
    try {
      const [shellResponse, personalizedData] = await Promise.all([
        caches.default.match(new URL('/shell.html', request.url).href),
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
      return fetch(request);
    }
  }
};
