// The floor on Cloudflare Workers: a Worker (module syntax, https://developers.cloudflare.com/workers/runtime-apis/handlers/fetch/)
// that does no work - it forwards every request unchanged (fetch), or
// answers 401 at once when the harness marks the request as one the case expects refused (x-bench-floor-401,
// sent to this implementation only). What a request costs here is the runtime's own share; the other
// implementations are reported as microseconds above it. Written for the benchmark (no sample to adapt).
export default {
  fetch(request: Request): Response | Promise<Response> {
    return request.headers.has("x-bench-floor-401") ? new Response(null, { status: 401 }) : fetch(request);
  },
};
