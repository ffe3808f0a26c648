// Origins come only from the deploy-time allowlist (cfg.origins). Nothing in the
// request can choose one: the path and query are copied onto a URL built from the
// declared origin, and the result must still have that origin.
import type { RuntimeConfig } from "./config";

export function originUrl(cfg: RuntimeConfig, name: string, path: string, search = ""): URL {
  const base = cfg.origins[name];
  if (base === undefined) throw new Error(`origin ${name} is not declared`);
  const declared = new URL(base);
  const url = new URL(declared.href);
  // The declared origin may carry a path prefix; the request path is appended to it.
  url.pathname = declared.pathname.replace(/\/$/, "") + (path.startsWith("/") ? path : `/${path}`);
  url.search = search;
  if (url.origin !== declared.origin) throw new Error(`refusing to leave origin ${name}`);
  return url;
}
