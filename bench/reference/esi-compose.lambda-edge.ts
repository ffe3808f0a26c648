// Reference implementation for the `esi-compose` benchmark case, Lambda@Edge origin-request.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 4: ESI Pattern — Static Shell + Dynamic Data Hybrid"; the seed article's samples are
// the baseline benchmarks compare against. It is kept as published on purpose, weaknesses
// included: no fragment timeout, and no size check (a page over CloudFront's 1 MB limit for
// generated responses would be a 502). Do not use it as an example.
//
// The article wrote it as a Cloudflare Worker. Minimal adaptations to a CloudFront
// origin-request handler (the trigger that may answer with a generated page, as edgeport's
// does; neither side streams there):
//   1. entry point: `export const handler = async (event)` taking the CloudFront record
//      `event.Records[0].cf.request` instead of a Web Request;
//   2. `caches.default.match(...)` -> `undefined`: Lambda has no Cache API, so the sample's own
//      cache-miss branch runs on every request, as edgeport's shell fetch does on Lambda@Edge;
//   3. URLs are built on the record's Host (in origin-request: the origin's host) instead of
//      resolving '/shell.html' against `request.url`;
//   4. the page is a CloudFront generated response (`{ status, headers, body }`) instead of
//      `new Response(...)`, and the fallback returns the record (continue to the origin) instead
//      of `fetch(request)`;
//   5. `fetchPersonalizedContent`, which the article calls but never defines, fetches what
//      edgeport's `home` pattern fetches: the `cart` and `recommendations` fragments of the bench
//      stack, in parallel, from the site's origin, with the viewer's cookie, joined in one string.
// Node 20+ has fetch as a global.

interface CfRequest {
  headers: Record<string, { key?: string; value: string }[]>;
  [k: string]: unknown;
}
interface CfEvent {
  Records: { cf: { request: CfRequest } }[];
}

// Not in the article (see 5. above).
async function fetchPersonalizedContent(site: string, request: CfRequest): Promise<string> {
  const headers = { cookie: (request.headers.cookie ?? []).map((c) => c.value).join('; ') };
  const parts = await Promise.all(
    ['/fragments/cart', '/fragments/recommendations'].map((path) =>
      fetch(`${site}${path}`, { headers }).then((r) => r.text()),
    ),
  );
  return parts.join('');
}

// Static shell (no Cache API in Lambda: always the cache-miss path), personalized data injected at the edge
export const handler = async (event: CfEvent) => {
  const request = event.Records[0].cf.request;
  try {
    const site = `https://${request.headers.host[0].value}`;
    const [shellResponse, personalizedData] = await Promise.all([
      undefined as Response | undefined,
      fetchPersonalizedContent(site, request),
    ]);
    // On cache miss, fetch directly from origin
    const shellText = shellResponse
      ? await shellResponse.text()
      : await fetch(`${site}/shell.html`).then(r => r.text());
    const injected = shellText.replace(
      '<!-- PERSONALIZED_SLOT -->',
      personalizedData
    );
    return {
      status: '200',
      headers: { 'content-type': [{ key: 'Content-Type', value: 'text/html' }] },
      body: injected,
    };
  } catch {
    // Fall back to origin on edge processing failure
    return request;
  }
};
