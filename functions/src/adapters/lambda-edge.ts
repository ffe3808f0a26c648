// Lambda@Edge adapter: one handler per CloudFront event type. All CloudFront
// knowledge lives here: event records <-> Web Request/Response, header maps, and
// secrets fetched from Secrets Manager in us-east-1 (Lambda@Edge has no
// environment variables), cached per container with a TTL.
//
// The AWS SDK v3 is part of the nodejs22.x runtime, so the build keeps it
// external: the package stays a few KB and nothing is downloaded at cold start.
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { RuntimeConfig } from "../core/config";
import { internalError, runEdge } from "../core/engine";
import type { Platform } from "../core/platform";

declare const __EDGEPORT_CONFIG__: RuntimeConfig;
const CFG: RuntimeConfig = __EDGEPORT_CONFIG__;

export interface CfHeader {
  key?: string;
  value: string;
}
export type CfHeaders = Record<string, CfHeader[]>;
export interface CfRequest {
  clientIp: string;
  method: string;
  uri: string;
  querystring: string;
  headers: CfHeaders;
  origin?: unknown;
  body?: unknown;
}
export interface CfEvent {
  Records: { cf: { config: { distributionDomainName: string; eventType: string }; request: CfRequest } }[];
}
export interface CfResponse {
  status: string;
  statusDescription?: string;
  headers?: CfHeaders;
  body?: string;
  bodyEncoding?: "text" | "base64";
}

// ---- secrets: Secrets Manager in us-east-1, cached per container ----------------
const SECRET_TTL_MS = (CFG.secretTtl ?? 300) * 1000;
const RETRY_AFTER_FAILURE_MS = 30_000;
let client: SecretsManagerClient | undefined;
const secrets = new Map<string, { value?: string; at: number; pending?: Promise<string> }>();

function sm(): SecretsManagerClient {
  // Replicas run in many regions; the secret lives in us-east-1 only.
  client ??= new SecretsManagerClient({
    region: "us-east-1",
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 1500 },
  });
  return client;
}

async function fetchSecret(secretId: string): Promise<string> {
  const out = await sm().send(new GetSecretValueCommand({ SecretId: secretId }));
  if (typeof out.SecretString !== "string" || out.SecretString === "") throw new Error(`secret ${secretId} has no string value`);
  return out.SecretString;
}

function secret(name: string): Promise<string> {
  const ref = CFG.secrets[name];
  if (!ref?.awsSecretId) return Promise.reject(new Error(`secret ${name} is not declared for lambda-edge`));
  const entry = secrets.get(name) ?? { at: 0 };
  secrets.set(name, entry);
  const now = Date.now();
  if (entry.value !== undefined && now - entry.at < SECRET_TTL_MS) return Promise.resolve(entry.value);
  entry.pending ??= fetchSecret(ref.awsSecretId).then(
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
        entry.at = Date.now() - SECRET_TTL_MS + RETRY_AFTER_FAILURE_MS;
        return entry.value;
      }
      throw err;
    },
  );
  return entry.pending;
}

// Cold start: start fetching every declared secret while the container initialises.
for (const name of Object.keys(CFG.secrets)) secret(name).catch(() => undefined);

const platform: Platform = { secret, now: () => Date.now() };

// ---- CloudFront records <-> Web objects --------------------------------------------
export function toRequest(cf: CfRequest, distributionDomainName: string): Request {
  const headers = new Headers();
  for (const entries of Object.values(cf.headers)) for (const h of entries) headers.append(h.key ?? "", h.value);
  const host = cf.headers.host?.[0]?.value ?? distributionDomainName;
  const qs = cf.querystring ? `?${cf.querystring}` : "";
  return new Request(`https://${host}${cf.uri}${qs}`, { method: cf.method, headers });
}

/** Write changed headers back, keeping untouched entries (and their key spelling) as they were. */
function applyHeaders(cf: CfRequest, headers: Headers): void {
  const out: CfHeaders = {};
  for (const [name, entries] of Object.entries(cf.headers)) {
    const now = headers.get(name);
    if (now === null) continue;
    out[name] = now === entries.map((e) => e.value).join(", ") ? entries : [{ key: name, value: now }];
  }
  headers.forEach((value, name) => {
    if (!(name in out) && !(name in cf.headers)) out[name] = [{ key: name, value }];
  });
  cf.headers = out;
}

export async function toCfResponse(res: Response): Promise<CfResponse> {
  const headers: CfHeaders = {};
  res.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = [{ key: name, value }];
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies.map((value) => ({ key: "Set-Cookie", value }));
  return { status: String(res.status), headers, body: await res.text(), bodyEncoding: "text" };
}

export const handler = async (event: CfEvent): Promise<CfRequest | CfResponse> => {
  const { config, request: cfReq } = event.Records[0].cf;
  try {
    const out = await runEdge(toRequest(cfReq, config.distributionDomainName), CFG, platform);
    if (out.kind === "respond") return await toCfResponse(out.response);
    if (out.kind === "forward") {
      applyHeaders(cfReq, out.headers);
      // What the edge checked is what the origin gets: the normalised path.
      cfReq.uri = out.url.pathname;
      cfReq.querystring = out.url.search.replace(/^\?/, "");
    }
    return cfReq;
  } catch (e) {
    console.error(`edgeport: internal error: ${(e as Error)?.message ?? e}`);
    return toCfResponse(internalError());
  }
};
