// Reference implementation for the `jwt-auth` benchmark case, Vercel Routing Middleware.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 1: JWT Authentication via Edge Middleware"; the seed article's samples are
// the baseline benchmarks compare against. It is kept as published on purpose,
// weaknesses included: it fails open (any exception forwards to the origin), ignores
// alg/exp/iss/aud and every other claim, and imports the HMAC key again on every
// request. Do not use it as an example.
//
// The article wrote it as a Cloudflare Worker. Minimal adaptations to Vercel middleware:
//   1. entry point: `export default async function middleware(request)` instead of
//      `export default { async fetch(request, env) }`;
//   2. the secret comes from `process.env.JWT_SECRET` instead of the `env.JWT_SECRET` binding;
//   3. "continue to the origin" is `next()` (from @vercel/functions, as in edgeport's
//      adapter) instead of `fetch(request)`, which in middleware would call the deployment itself.
// verifyJWT is the article's code verbatim.
import { next } from '@vercel/functions/middleware';

declare const process: { env: Record<string, string | undefined> };

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

// Vercel Routing Middleware: JWT verification handled at the edge
export default async function middleware(request: Request): Promise<Response> {
  try {
    const authHeader = request.headers.get('Authorization');
    const token = authHeader?.split(' ')[1];
    if (!token || !(await verifyJWT(token, process.env.JWT_SECRET as string))) {
      return new Response('Unauthorized', { status: 401 });
    }
    return next();
  } catch {
    // Fall back to origin on edge processing failure
    return next();
  }
}
