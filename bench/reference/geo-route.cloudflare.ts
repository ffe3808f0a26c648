// Reference implementation for the `geo-route` benchmark case, Cloudflare Workers.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 5: Geo-Based Content Routing"; the seed article's samples are the baseline
// benchmarks compare against. It is kept as published on purpose, weaknesses included: only
// four countries are mapped (the rest of the EU goes to the US origin), and a missing, unknown
// (`XX`) or Tor (`T1`) country goes there too. Do not use it as an example.
//
// Adaptations for Cloudflare (the article's own target), and nothing else:
//   1. `interface Env` is declared (the article leaves it implicit; nothing is bound).
// The country map and origins are the article's; bench/run.py sends DE (mapped to api-eu) and
// US (the default, api-us).

interface Env {}

// Origin routing based on requester's country
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    try {
      // Cloudflare Workers provides the requester's country via cf.country
      const country = (request as any).cf?.country ?? 'US';
      const originMap: Record<string, string> = {
        KR: 'https://api-apac.example.com',
        JP: 'https://api-apac.example.com',
        DE: 'https://api-eu.example.com',
        FR: 'https://api-eu.example.com',
      };
      const origin = originMap[country] ?? 'https://api-us.example.com';
      const targetUrl = new URL(request.url);
      targetUrl.hostname = new URL(origin).hostname;
      return fetch(new Request(targetUrl.toString(), request));
    } catch {
      return fetch(request);
    }
  }
};
