// Lambda@Edge adapter: one handler per CloudFront trigger. All CloudFront
// knowledge lives here: event records <-> Web Request/Response, header maps, the
// split of a chain over triggers, origin switching in origin-request, and secrets
// (Secrets Manager, read from the nearest Region holding a replica) and live settings
// (SSM Parameter Store, us-east-1, read in the background) — Lambda@Edge has no
// environment variables — cached per container.
//
// The AWS SDK v3 is part of the nodejs22.x runtime, so the build keeps it
// external: the package stays a few KB. It is loaded only by bundles that read a
// store (~55 ms of cold start otherwise spent for nothing).
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { type EdgeOutcome, internalError } from "../../src/core/engine";
import { runPatterns, type EdgeConfig } from "../../src/patterns";
import { dropsOnEntry, knownText } from "../../src/core/http";
import { originUrl } from "../../src/core/origin";
import type { Platform } from "../../src/core/platform";
import { nearestRegion, PRIMARY } from "./aws-regions";
import {
  type CfHeaders, type CfOrigin, type CfRequest, forwardedHeaders, forwardedQuery, forwardedUri, type Inbound, isOrigin, toRequest,
} from "./cloudfront-records";

export type { CfCustomOrigin, CfHeader, CfHeaders, CfRequest } from "./cloudfront-records";

declare const __EDGEPORT_CONFIG__: EdgeConfig;
declare const process: { env: Record<string, string | undefined> };
const CFG: EdgeConfig = __EDGEPORT_CONFIG__;
const REGION = PRIMARY; // replicas run everywhere; the SSM parameters live here
const GENERATED_LIMIT = 1024 * 1024; // origin-request generated responses (headers + body)

export interface CfResponse {
  status: string;
  statusDescription?: string;
  headers?: CfHeaders;
  body?: string;
  bodyEncoding?: "text" | "base64";
}
export interface CfEvent {
  Records: { cf: { config: { distributionDomainName: string; eventType: string }; request: CfRequest; response?: CfResponse } }[];
}

// ---- stores, cached per container ---------------------------------------------------
// Every store read is ONE attempt with a deadline that fits the viewer-request budget: 5 s for the whole function
// (CloudFront Developer Guide, "Quotas on Lambda@Edge"), cold start included. Across an ocean a Secrets Manager call
// costs 0.6-1 s (DNS, TCP, TLS and the request: ~4 round trips of up to ~200 ms), to a nearby replica ~0.1 s. So:
// - connect within 1 s: DNS and the TCP handshake are one round trip to the endpoint, ~0.2 s at worst;
// - finish within 2.5 s, connect included: 2.5x the far case. A read that slow has failed, and a retry could not
//   finish in time either; the request is answered (503 without a secret) with >= 2 s left for loading the bundle
//   and the SDK (a cold start) and the pattern's own work, rather than overrunning into CloudFront's own 503.
// The deadline is an AbortSignal on send() rather than the handler's requestTimeout, whose meaning depends on the SDK
// version the runtime ships: it was a socket idle timeout for a long time, and now only warns unless
// throwOnRequestTimeout is set (@smithy/types, NodeHttpHandlerOptions.requestTimeout / throwOnRequestTimeout).
const STORE_CONNECT_TIMEOUT_MS = 1000;
const STORE_DEADLINE_MS = 2500;
const requestHandler = { connectionTimeout: STORE_CONNECT_TIMEOUT_MS };
const storeCall = () => ({ abortSignal: AbortSignal.timeout(STORE_DEADLINE_MS) });
const smClients = new Map<string, SecretsManagerClient>();
let ssm: SSMClient | undefined;
const SECRET_TTL_MS = (CFG.secretTtl ?? 300) * 1000;
const RETRY_AFTER_FAILURE_MS = 30_000;
interface SecretEntry {
  value?: string;
  at: number;
  pending?: Promise<string>;
}
const secrets = new Map<string, SecretEntry>();

/** One read of a secret from the nearest Region holding it (aws-regions.ts). */
async function fetchSecret(secretId: string, regions: string[], nearest?: Record<string, string>): Promise<string> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  const region = nearestRegion(process.env.AWS_REGION, regions, nearest);
  let sm = smClients.get(region);
  if (!sm) smClients.set(region, (sm = new SecretsManagerClient({ region, maxAttempts: 1, requestHandler })));
  const out = await sm.send(new GetSecretValueCommand({ SecretId: secretId }), storeCall());
  if (typeof out.SecretString !== "string" || out.SecretString === "") throw new Error(`secret ${secretId} has no string value`);
  return out.SecretString;
}

/** Read a secret into its cache entry; on failure keep the last good value and try again after a while. */
function refreshSecret(secretId: string, regions: string[], nearest: Record<string, string> | undefined, entry: SecretEntry): Promise<string> {
  return fetchSecret(secretId, regions, nearest).then(
    (v) => {
      entry.value = v;
      entry.at = Date.now();
      entry.pending = undefined;
      return v;
    },
    (err) => {
      entry.pending = undefined;
      // Keep serving the last good value for a while rather than failing every request.
      if (entry.value !== undefined) {
        console.warn(`edgeport: secret ${secretId} not refreshed: ${(err as Error)?.message ?? err}`);
        entry.at = Date.now() - SECRET_TTL_MS + RETRY_AFTER_FAILURE_MS;
        return entry.value;
      }
      throw err;
    },
  );
}

/**
 * A secret, cached per container for secretTtl. A warm container never waits on the store: once a value is known,
 * a stale one is returned at once while one refresh runs. Only a container without any value waits (and answers
 * 503 when the read fails).
 */
function secret(name: string): Promise<string> {
  const ref = CFG.secrets[name];
  if (!ref?.awsSecretId) return Promise.reject(new Error(`secret ${name} is not declared for lambda-edge`));
  const entry = secrets.get(name) ?? { at: 0 };
  secrets.set(name, entry);
  if (entry.value !== undefined && Date.now() - entry.at < SECRET_TTL_MS) return Promise.resolve(entry.value);
  entry.pending ??= refreshSecret(ref.awsSecretId, ref.awsRegions ?? [PRIMARY], ref.awsNearest, entry);
  return entry.value !== undefined ? Promise.resolve(entry.value) : entry.pending;
}

/** A live setting from SSM in us-east-1 (core/live.ts calls this in the background: timeoutMs is 0 here). */
async function live(key: string): Promise<string | null> {
  // Loading the SSM client is tens of ms of CPU (more at 128 MB): start in a later task, so that the request whose
  // A/B assignment asked for the read is answered first instead of paying for it.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const { SSMClient, GetParameterCommand, ParameterNotFound } = await import("@aws-sdk/client-ssm");
  ssm ??= new SSMClient({ region: REGION, maxAttempts: 1, requestHandler });
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: key }), storeCall());
    return out.Parameter?.Value ?? null;
  } catch (e) {
    if (e instanceof ParameterNotFound) return null;
    throw e;
  }
}

const platform: Platform = { secret, live, now: () => Date.now() };

// Cold start: start reading every declared secret while the container initialises. (Live settings are read on
// first use: loading the SSM client here would cost every cold start, A/B or not, tens of ms of CPU.)
// "Declared" means used by this bundle: the spec layer puts in CFG.secrets only the secrets of the patterns this
// trigger's bundle runs (edgeport.spec.runtime.runtime_config), and a jwt-auth pattern has one only with an HS*
// algorithm (validation refuses a secret without one). So a stack checking RS256/ES256 tokens against inline keys
// has none here and never loads the SDK (cold-start.test.mjs); a bundle that serves an HS256 route too loads it
// for every cold start, whichever route the first request takes: deferring it to the first HS256 request would
// leave that request, on a warm container, waiting on the store (a frozen container does not read in between).
for (const name of Object.keys(CFG.secrets)) secret(name).catch(() => undefined);

// ---- CloudFront records <-> Web objects (cloudfront-records.ts) ----------------------
function headerMap(h: Headers): CfHeaders {
  const out: CfHeaders = {};
  h.forEach((value, name) => {
    if (name !== "set-cookie") out[name] = [{ key: name, value }];
  });
  const cookies = h.getSetCookie();
  if (cookies.length) out["set-cookie"] = cookies.map((value) => ({ key: "Set-Cookie", value }));
  return out;
}

export async function toCfResponse(res: Response): Promise<CfResponse> {
  return { status: String(res.status), headers: headerMap(res.headers), body: knownText(res) ?? (await res.text()), bodyEncoding: "text" };
}

function cfSize(r: CfResponse): number {
  let n = new TextEncoder().encode(r.body ?? "").length;
  for (const [k, vs] of Object.entries(r.headers ?? {})) for (const v of vs) n += k.length + v.value.length + 4;
  return n;
}

const dropped = dropsOnEntry(CFG.entry);

/**
 * Write what the engine forwards back into the record CloudFront gave, touching only what changed: headers the
 * engine left alone keep their entries (and values `Headers` cannot hold never went through it), the uri and
 * querystring stay as sent unless the path was canonicalised or rewritten (cloudfront-records.ts).
 */
function applyForward(cf: CfRequest, inbound: Inbound, out: Extract<EdgeOutcome, { kind: "forward" }>): void {
  cf.headers = forwardedHeaders(cf.headers, inbound.request.headers, out.headers, inbound.aside, dropped);
  cf.uri = forwardedUri(cf.uri, out.url.pathname);
  cf.querystring = forwardedQuery(cf.querystring, new URL(inbound.request.url).search, out.url.search);
}

/**
 * Send the request to the origin a pattern chose. When the event already targets that origin - a geo fallback
 * or an A/B control choosing `default`, which every behaviour edgeport creates targets (targets/lambda_edge.py)
 * - the origin object stays as CloudFront gave it: it may carry settings the adapter cannot know (customHeaders
 * such as an origin-verification secret, timeouts, TLS protocols, an S3 origin's OAI). Only a switch to another
 * origin replaces it, with the settings the distribution gives every declared origin, and sets Host to match:
 * CloudFront sends the Host header it is given (the origin request policy forwards no viewer Host), and the new
 * origin must not get the old one. CloudFront lets origin-request replace the origin object, custom or S3
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html, "Dynamic
 * origin selection").
 */
function chooseOrigin(cf: CfRequest, name: string): void {
  let u = originRoots.get(name);
  if (!u) originRoots.set(name, (u = originUrl(CFG, name, "/")));
  if (isOrigin(cf.origin, u)) return;
  const declared = CFG.cfOrigins?.[name] as CfOrigin | undefined;
  if (!declared) throw new Error(`origin ${name} has no event origin in this bundle's config`);
  // A copy per request (CloudFront may hand the record on; the config's object must stay as declared). The declared
  // origin is JSON from the build, so a JSON round trip copies it whole, at a fraction of structuredClone's cost.
  cf.origin = JSON.parse(JSON.stringify(declared)) as CfOrigin;
  cf.headers.host = [{ key: "Host", value: u.host }];
}

/** Each declared origin's root URL, worked out once per container (the config does not change while it runs). */
const originRoots = new Map<string, URL>();

async function viewerRequest(cf: CfRequest, domain: string): Promise<CfRequest | CfResponse> {
  const inbound = toRequest(cf, domain);
  const out = await runPatterns(inbound.request, CFG, platform, { phase: "viewer-request" });
  if (out.kind === "respond") return toCfResponse(out.response);
  applyForward(cf, inbound, out);
  return cf;
}

async function originRequest(cf: CfRequest, domain: string): Promise<CfRequest | CfResponse> {
  const country = cf.headers["cloudfront-viewer-country"]?.[0]?.value ?? null;
  const inbound = toRequest(cf, domain);
  const out = await runPatterns(inbound.request, CFG, platform, { phase: "origin-request", country });
  if (out.kind === "respond") {
    let generated: CfResponse;
    try {
      generated = await toCfResponse(out.response);
    } catch (e) {
      // A composed page whose shell broke off mid-body (the origin reset it): nothing has been sent yet, so the
      // origin serves the page, as for a shell that is unavailable (esi.ts). Any other failure stays an error.
      if (!out.response.headers.has("x-edgeport-esi")) throw e;
      console.warn(`edgeport: composed page failed mid-body (${(e as Error)?.message ?? e}); passing to the origin`);
      return cf;
    }
    if (cfSize(generated) <= GENERATED_LIMIT) return generated;
    // CloudFront would answer 502: let the origin serve the request instead.
    console.warn(`edgeport: generated response of ${cfSize(generated)} B exceeds CloudFront's 1 MB; passing to the origin`);
    return cf;
  }
  applyForward(cf, inbound, out);
  if (out.origin !== undefined) chooseOrigin(cf, out.origin);
  return cf;
}

/** origin-response: the origin's answer (any status) gets the response headers the patterns set, e.g. Set-Cookie. */
async function originResponse(cf: CfRequest, res: CfResponse, domain: string): Promise<CfResponse> {
  const out = await runPatterns(toRequest(cf, domain).request, CFG, platform, { phase: "origin-response" });
  if (out.kind === "respond") return res; // a response trigger answers nothing of its own
  const cookies = out.responseHeaders.getSetCookie();
  if (cookies.length) {
    res.headers ??= {};
    res.headers["set-cookie"] = [...(res.headers["set-cookie"] ?? []), ...cookies.map((value) => ({ key: "Set-Cookie", value }))];
  }
  return res;
}

export const handler = async (event: CfEvent): Promise<CfRequest | CfResponse> => {
  const { config, request, response } = event.Records[0].cf;
  try {
    // A bundle associated with the wrong trigger would skip its checks (auth on origin-request runs only on
    // cache misses): refuse to serve rather than guess.
    if (config.eventType !== CFG.event) throw new Error(`built for ${CFG.event}, invoked for ${config.eventType}`);
    switch (CFG.event) {
      case "viewer-request":
        return await viewerRequest(request, config.distributionDomainName);
      case "origin-request":
        return await originRequest(request, config.distributionDomainName);
      case "origin-response":
        return await originResponse(request, response!, config.distributionDomainName);
      default:
        throw new Error(`bundle built for an unknown trigger ${CFG.event}`);
    }
  } catch (e) {
    // The stack goes to the platform's logs (and, mapped to the sources, to `edgeport dev`'s output).
    console.error(`edgeport: internal error: ${(e as Error)?.stack ?? e}`);
    // A response trigger fails open to the origin's own answer: the status stays, only a cookie may be missing.
    if (CFG.event === "origin-response") return response!;
    return toCfResponse(internalError());
  }
};
