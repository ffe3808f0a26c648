// Reference implementation for the `geo-route` benchmark case, Vercel Routing Middleware.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 5: Geo-Based Content Routing"; the seed article's samples are the baseline
// benchmarks compare against. It is kept as published on purpose, weaknesses included: only
// four countries are mapped (the rest of the EU goes to the US origin), and a missing, unknown
// (`XX`) or Tor (`T1`) country goes there too. Do not use it as an example.
//
// The article wrote it as a Cloudflare Worker. Minimal adaptations to Vercel middleware:
//   1. entry point: `export default async function middleware(request)` instead of
//      `export default { async fetch(request, env) }`;
//   2. the country is read from `x-vercel-ip-country` (set by Vercel's proxy) instead of
//      `request.cf?.country`, which only Workers have;
//   3. "send it to the chosen origin" is `rewrite(targetUrl)` (from @vercel/functions, as in
//      edgeport's adapter; the request's headers go along unchanged) instead of
//      `fetch(new Request(targetUrl, request))`, and the fallback is `next()` instead of
//      `fetch(request)`, which in middleware would call the deployment itself.
// The country map, the default and the URL rewrite are the article's.
import { next, rewrite } from '@vercel/functions/middleware';

// Origin routing based on requester's country
export default async function middleware(request: Request): Promise<Response> {
  try {
    // Vercel provides the requester's country in the x-vercel-ip-country header
    const country = request.headers.get('x-vercel-ip-country') ?? 'US';
    const originMap: Record<string, string> = {
      KR: 'https://api-apac.example.com',
      JP: 'https://api-apac.example.com',
      DE: 'https://api-eu.example.com',
      FR: 'https://api-eu.example.com',
    };
    const origin = originMap[country] ?? 'https://api-us.example.com';
    const targetUrl = new URL(request.url);
    targetUrl.hostname = new URL(origin).hostname;
    return rewrite(targetUrl);
  } catch {
    return next();
  }
}
