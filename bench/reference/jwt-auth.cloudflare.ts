// Reference implementation for the `jwt-auth` benchmark case, Cloudflare Workers.
//
// Source: the project's seed article (the article edgeport started from), sample
// "Example 1: JWT Authentication via Edge Middleware"; the seed article's samples are
// the baseline benchmarks compare against. It is kept as published on purpose,
// weaknesses included: it fails open (any exception forwards to the origin), ignores
// alg/exp/iss/aud and every other claim, and imports the HMAC key again on every
// request. Do not use it as an example.
//
// Adaptations for Cloudflare (the article's own target), and nothing else:
//   1. `interface Env` is declared (the article leaves it implicit).
// The secret is the same HS256 value edgeport gets, bound as JWT_SECRET by bench/measure.mjs.

interface Env {
  JWT_SECRET: string;
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

// Cloudflare Workers: JWT verification handled at the edge
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    try {
      const authHeader = request.headers.get('Authorization');
      const token = authHeader?.split(' ')[1];
      if (!token || !(await verifyJWT(token, env.JWT_SECRET))) {
        return new Response('Unauthorized', { status: 401 });
      }
      return fetch(request);
    } catch {
      // Fall back to origin on edge processing failure
      return fetch(request);
    }
  }
};
