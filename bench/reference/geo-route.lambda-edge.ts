// Reference implementation for the `geo-route` benchmark case, Lambda@Edge origin-request.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 5: Geo-Based Content Routing"; the seed article's samples are the baseline
// benchmarks compare against. It is kept as published on purpose, weaknesses included: only
// four countries are mapped (the rest of the EU goes to the US origin), and a missing, unknown
// (`XX`) or Tor (`T1`) country goes there too. Do not use it as an example.
//
// The article wrote it as a Cloudflare Worker. Minimal adaptations to a CloudFront
// origin-request handler (the trigger that sees the country, and may change the origin):
//   1. entry point: `export const handler = async (event)` taking the CloudFront record
//      `event.Records[0].cf.request` instead of a Web Request;
//   2. the country is read from the `CloudFront-Viewer-Country` header (forwarded to
//      origin-request by an origin request policy) instead of `request.cf?.country`;
//   3. "send it to the chosen origin" sets the record's custom origin `domainName` and the Host
//      header to the chosen hostname and returns the record, instead of
//      `fetch(new Request(targetUrl, request))` with `targetUrl.hostname` changed; the fallback
//      returns the record unchanged instead of `fetch(request)`.
// The country map and the default are the article's.

interface CfRequest {
  headers: Record<string, { key?: string; value: string }[]>;
  origin?: { custom?: { domainName: string; [k: string]: unknown } };
  [k: string]: unknown;
}
interface CfEvent {
  Records: { cf: { request: CfRequest } }[];
}

// Origin routing based on requester's country
export const handler = async (event: CfEvent) => {
  const request = event.Records[0].cf.request;
  try {
    // CloudFront provides the requester's country via CloudFront-Viewer-Country
    const country = request.headers['cloudfront-viewer-country']?.[0]?.value ?? 'US';
    const originMap: Record<string, string> = {
      KR: 'https://api-apac.example.com',
      JP: 'https://api-apac.example.com',
      DE: 'https://api-eu.example.com',
      FR: 'https://api-eu.example.com',
    };
    const origin = originMap[country] ?? 'https://api-us.example.com';
    const hostname = new URL(origin).hostname;
    request.origin!.custom!.domainName = hostname;
    request.headers.host = [{ key: 'Host', value: hostname }];
    return request;
  } catch {
    return request;
  }
};
