// Reference implementation for the `ab-test` benchmark case, Cloudflare Workers.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 2: Cookie-Based A/B Testing (Vercel Routing Middleware)"; the seed article's samples
// are the baseline benchmarks compare against. It is kept as published on purpose: it only
// reads a `variant` cookie and never assigns one, so a visitor without the cookie is always A
// (no weights, no Set-Cookie, no stickiness, no live ratios). Do not use it as an example.
//
// The article wrote it as Next.js middleware. Minimal adaptations to a Worker (the shape of the
// article's other samples), and nothing else:
//   1. entry point: `export default { async fetch(request) }` instead of `middleware(request)`;
//   2. `NextResponse.rewrite(url)` -> `fetch(new Request(url, request))`, the Workers way to send
//      the request on with another path (as the article's geo sample does), and
//      `NextResponse.next()` -> `fetch(request)`;
//   3. `request.cookies.get('variant')?.value` -> `cookieValue(request, 'variant')`, the same
//      lookup on the Cookie header (a Workers `Request` has no parsed `cookies`);
//   4. `config.matcher: '/landing'` is the Worker route instead (bench/run.py sends only /landing).

// NextRequest's `request.cookies.get(name)?.value` for a plain Request.
function cookieValue(request: Request, name: string): string | undefined {
  for (const pair of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

// Cloudflare Workers: cookie-based A/B branching
export default {
  async fetch(request: Request): Promise<Response> {
    try {
      const cookie = cookieValue(request, 'variant');
      const bucket = cookie === 'B' ? 'B' : 'A';
      return fetch(new Request(
        new URL(`/variants/${bucket}`, request.url), request
      ));
    } catch {
      return fetch(request);
    }
  }
};
