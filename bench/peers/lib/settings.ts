// What the peers are configured with: the same issuer, audience and public keys the edgeport stacks declare
// (bench/stacks/Pulumi.peers-*.yaml). bench/run.py inlines them at build time (esbuild `define`,
// https://esbuild.github.io/api/#define), as a Hono user would write them into the app's source or import them
// from a JSON file; the RS256/ES256 key pairs are new every run. The HS256 secret is not here: each runtime reads it where that platform keeps secrets (Workers
// binding, process.env on Vercel) - except Lambda@Edge, which has no environment variables: there it is another
// build-time constant, `__JWT_SECRET__` (lambda.ts).

export interface PeerSettings {
  issuer: string;
  audience: string;
  leeway: number;
  jwks: { RS256: JsonWebKey & { kid: string }; ES256: JsonWebKey & { kid: string } };
  /** geo-route: country -> origin host (the chain stack's rules, expanded), and the origin of everyone else */
  countries: Record<string, string>;
  fallbackOrigin: string;
  /** ab-test: the chain stack's experiment */
  experiment: { cookie: string; header: string; maxAge: number; variants: { name: string; weight: number; path?: string }[] };
}

declare const __PEER_SETTINGS__: PeerSettings;

export const SETTINGS: PeerSettings = __PEER_SETTINGS__;

/** Claims the origin gets, under the header names the edgeport stacks forward them with. */
export function identityHeaders(payload: Record<string, unknown>): [string, string][] {
  return [
    ["x-user-id", String(payload.sub)],
    ["x-edgeport-claims", base64url(JSON.stringify(payload))],
  ];
}

function base64url(text: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
