// The floor on Vercel Routing Middleware: middleware that does no work - next() for every request (Vercel's
// documented way to continue, https://vercel.com/docs/routing-middleware/api), or 401 at once when the harness
// marks the request as one the case expects refused (x-bench-floor-401, sent to this implementation only).
import { next } from "@vercel/functions/middleware";

export default function middleware(request: Request): Response {
  return request.headers.has("x-bench-floor-401") ? new Response(null, { status: 401 }) : next();
}
