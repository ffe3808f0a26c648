// Vercel Routing Middleware adapter. Config is inlined at build time (deployments
// are immutable), secrets come from sensitive environment variables, and
// "continue to origin" is next() with the rewritten request headers. The
// `config.matcher` export is appended by the build as a literal so Vercel can
// read it statically.
import { next, rewrite } from "@vercel/functions/middleware";
import type { RuntimeConfig } from "../core/config";
import { runEdge } from "../core/engine";
import type { Platform } from "../core/platform";

declare const __EDGEPORT_CONFIG__: RuntimeConfig;
declare const process: { env: Record<string, string | undefined> };

const CFG: RuntimeConfig = __EDGEPORT_CONFIG__;

const platform: Platform = {
  async secret(name) {
    const ref = CFG.secrets[name];
    const v = ref ? process.env[ref.env] : undefined;
    if (!v) throw new Error(`environment variable for secret ${name} is missing`);
    return v;
  },
  now: () => Date.now(),
};

export default async function middleware(request: Request): Promise<Response> {
  const out = await runEdge(request, CFG, platform);
  if (out.kind === "respond") return out.response;
  if (out.kind === "pass") return next();
  const init = { request: { headers: out.headers } };
  const reqUrl = new URL(request.url);
  if (out.url.href !== reqUrl.href) return rewrite(out.url, init);
  return next(init);
}
