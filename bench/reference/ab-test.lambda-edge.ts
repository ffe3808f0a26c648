// Reference implementation for the `ab-test` benchmark case, Lambda@Edge viewer-request.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 2: Cookie-Based A/B Testing (Vercel Routing Middleware)"; the seed article's samples
// are the baseline benchmarks compare against. It is kept as published on purpose: it only
// reads a `variant` cookie and never assigns one, so a visitor without the cookie is always A
// (no weights, no Set-Cookie, no stickiness, no live ratios). Do not use it as an example.
//
// The article wrote it as Next.js middleware. Minimal adaptations to a CloudFront
// viewer-request handler, and nothing else:
//   1. entry point: `export const handler = async (event)` taking the CloudFront record
//      `event.Records[0].cf.request` instead of a NextRequest;
//   2. `request.cookies.get('variant')?.value` -> `cookieValue(request, 'variant')`, the same
//      lookup on CloudFront's `cookie` header entries;
//   3. `NextResponse.rewrite(url)` -> setting `request.uri` and returning the record (CloudFront's
//      rewrite), `NextResponse.next()` -> returning the record unchanged;
//   4. `config.matcher: '/landing'` is the cache behaviour's path pattern instead.

interface CfRequest {
  uri: string;
  headers: Record<string, { key?: string; value: string }[]>;
  [k: string]: unknown;
}
interface CfEvent {
  Records: { cf: { request: CfRequest } }[];
}

// NextRequest's `request.cookies.get(name)?.value` for a CloudFront request record.
function cookieValue(request: CfRequest, name: string): string | undefined {
  for (const header of request.headers.cookie ?? []) {
    for (const pair of header.value.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
    }
  }
  return undefined;
}

// Lambda@Edge: cookie-based A/B branching
export const handler = async (event: CfEvent) => {
  const request = event.Records[0].cf.request;
  try {
    const cookie = cookieValue(request, 'variant');
    const bucket = cookie === 'B' ? 'B' : 'A';
    request.uri = `/variants/${bucket}`;
    return request;
  } catch {
    return request;
  }
};
