// Reference implementation for the `jwt-auth` benchmark case, Lambda@Edge viewer-request.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 1: JWT Authentication via Edge Middleware"; the seed article's samples are
// the baseline benchmarks compare against. It is kept as published on purpose,
// weaknesses included: it fails open (any exception forwards to the origin), ignores
// alg/exp/iss/aud and every other claim, and imports the HMAC key again on every
// request. Do not use it as an example.
//
// The article wrote it as a Cloudflare Worker. Minimal adaptations to a CloudFront
// viewer-request handler:
//   1. entry point: `export const handler = async (event)` taking the CloudFront record
//      `event.Records[0].cf.request` instead of a Web Request;
//   2. the header is read from CloudFront's header map (`headers.authorization[0].value`)
//      instead of `request.headers.get('Authorization')`;
//   3. the secret is a build-time constant (`__JWT_SECRET__`, esbuild `define`), because
//      Lambda@Edge has no environment variables (edgeport reads Secrets Manager instead);
//   4. 401 is a CloudFront response object instead of `new Response(...)`, and "continue to
//      the origin" is returning the request record instead of `fetch(request)`.
// verifyJWT is the article's code verbatim (Node 20+ has WebCrypto and atob as globals).

declare const __JWT_SECRET__: string;

interface CfRequest {
  headers: Record<string, { key?: string; value: string }[]>;
  [k: string]: unknown;
}
interface CfEvent {
  Records: { cf: { request: CfRequest } }[];
}

// HMAC-SHA256 signature verification with Web Crypto API
async function verifyJWT(token: string, secret: string): Promise<boolean> {
  try {
    const [headerB64, payloadB64, sigB64] = token.split('.');
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify']
    );
    const data = new TextEncoder().encode(`${headerB64}.${payloadB64}`);
    const sig = Uint8Array.from(
      atob(sigB64.replace(/-/g, '+').replace(/_/g, '/')),
      c => c.charCodeAt(0)
    );
    return await crypto.subtle.verify('HMAC', key, sig, data);
  } catch {
    return false;
  }
}

// Lambda@Edge: JWT verification handled at the edge
export const handler = async (event: CfEvent) => {
  const request = event.Records[0].cf.request;
  try {
    const authHeader = request.headers.authorization?.[0]?.value;
    const token = authHeader?.split(' ')[1];
    if (!token || !(await verifyJWT(token, __JWT_SECRET__))) {
      return { status: '401', statusDescription: 'Unauthorized', body: 'Unauthorized' };
    }
    return request;
  } catch {
    // Fall back to origin on edge processing failure
    return request;
  }
};
