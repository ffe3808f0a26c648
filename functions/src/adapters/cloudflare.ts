// Cloudflare Workers adapter (ES module worker). All Cloudflare runtime knowledge
// lives here: config arrives as the EDGEPORT_CONFIG JSON binding, secrets as
// secret_text bindings, and "continue to origin" is fetch() on the zone route.
import type { RuntimeConfig } from "../core/config";
import { internalError, runEdge } from "../core/engine";
import type { Platform } from "../core/platform";

export interface Env {
  EDGEPORT_CONFIG?: RuntimeConfig;
  [binding: string]: unknown;
}

function platformFor(env: Env, cfg: RuntimeConfig): Platform {
  return {
    async secret(name) {
      const ref = cfg.secrets[name];
      const v = ref ? env[ref.env] : undefined;
      if (typeof v !== "string" || v === "") throw new Error(`binding for secret ${name} is missing`);
      return v;
    },
    now: () => Date.now(),
  };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const cfg = env.EDGEPORT_CONFIG;
    if (!cfg || cfg.version !== 1) {
      console.error("edgeport: EDGEPORT_CONFIG binding missing or of an unknown version");
      return internalError();
    }
    const out = await runEdge(request, cfg, platformFor(env, cfg));
    if (out.kind === "respond") return out.response;
    if (out.kind === "pass") return fetch(request);
    return fetch(
      new Request(out.url, { method: request.method, headers: out.headers, body: request.body, redirect: "manual" }),
    );
  },
};
