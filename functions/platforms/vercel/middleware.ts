// The answers a Vercel Routing Middleware gives to let a request go on: "next" (on to the project's own routing) or
// "rewrite" to a URL, optionally with the request headers the origin should see instead of the client's.
//
// The wire form is the one @vercel/functions writes (3.9.9, node_modules/@vercel/functions/middleware.js: next() and
// rewrite()): an empty Response carrying
//   x-middleware-next: 1                      continue (docs: vercel.com/docs/routing-middleware/api#next)
//   x-middleware-rewrite: <url>               rewrite (docs: vercel.com/docs/routing-middleware/api#rewrite)
//   x-middleware-request-<name>: <value>      each request header the origin gets, and
//   x-middleware-override-headers: a,b,...    the list of them, which replaces the request's headers.
// Written here rather than imported: the package's CommonJS interop wrapper made up 1.0 KB of a 14.6 KB jwt-only
// engine (docs/benchmarks.md "Bundle bytes"; #14 asks for 10 KB). The package stays as the oracle:
// middleware.test.mjs checks that both write the same response for the same input, so an upgrade of
// @vercel/functions that changes the protocol fails there.

/**
 * The response that sends the request on: to `rewriteTo` when given, else next(). `request` replaces the headers
 * the origin sees; `headers` are added to the response the client gets.
 */
export function goOn(rewriteTo: string | URL | null, headers?: HeadersInit, request?: Headers): Response {
  const h = new Headers(headers);
  if (rewriteTo === null) h.set("x-middleware-next", "1");
  else h.set("x-middleware-rewrite", String(rewriteTo));
  if (request) {
    const names: string[] = [];
    for (const [name, value] of request) {
      h.set(`x-middleware-request-${name}`, value);
      names.push(name);
    }
    h.set("x-middleware-override-headers", names.join(","));
  }
  return new Response(null, { headers: h });
}
