// Reference implementation for the `ab-test` benchmark case, Vercel Routing Middleware.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 2: Cookie-Based A/B Testing (Vercel Routing Middleware)"; the seed article's samples
// are the baseline benchmarks compare against. It is kept as published on purpose: it only
// reads a `variant` cookie and never assigns one, so a visitor without the cookie is always A
// (no weights, no Set-Cookie, no stickiness, no live ratios). Do not use it as an example.
//
// The article wrote it for Next.js (`next/server`); edgeport deploys plain Routing Middleware
// (no Next.js). Adaptations to that, and nothing else:
//   1. `NextResponse.rewrite(url)` / `NextResponse.next()` -> `rewrite(url)` / `next()` from
//      @vercel/functions/middleware (as in edgeport's adapter), which answer with the same
//      x-middleware-rewrite / x-middleware-next headers;
//   2. `request.cookies.get('variant')?.value` -> `cookieValue(request, 'variant')`, the same
//      lookup on the Cookie header: a plain `Request` has no parsed `cookies` (NextRequest's);
//   3. the `NextRequest` type -> `Request`, and `export default middleware` added: plain Routing
//      Middleware is the module's default export.
// The rewrite target and `config.matcher` are the article's.
import { next, rewrite } from '@vercel/functions/middleware';

// NextRequest's `request.cookies.get(name)?.value` for a plain Request.
function cookieValue(request: Request, name: string): string | undefined {
  for (const pair of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

// Vercel Routing Middleware: cookie-based A/B branching
export function middleware(request: Request) {
  try {
    const cookie = cookieValue(request, 'variant');
    const bucket = cookie === 'B' ? 'B' : 'A';
    return rewrite(
      new URL(`/variants/${bucket}`, request.url)
    );
  } catch {
    return next();
  }
}

export default middleware;

export const config = {
  matcher: '/landing',
};
