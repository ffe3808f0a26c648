// CloudFront's own routing, applied by the local emulation before any function runs, from the data edgeport
// emits for the distribution (edgeport.targets.lambda_edge.routing: the ordered cache behaviours and the
// default behaviour's triggers). Sources: CloudFront Developer Guide, "Cache behavior settings > Path pattern"
// (case-sensitive; "*" any run of characters, "?" exactly one; the query string is not part of the match;
// behaviours are evaluated in order and the first match wins; everything else uses the default behaviour) and
// "Values that you specify when you create or update a distribution > Alternate domain names (CNAMEs)" (a
// request whose Host is not the distribution's domain nor one of its alternate domain names is refused).

/** Whether a CloudFront path pattern matches a request URI (path only). */
export function pathPatternMatches(pattern, uri) {
  const p = pattern.startsWith("/") ? pattern : `/${pattern}`;
  const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[\\s\\S]*").replace(/\?/g, "[\\s\\S]")}$`);
  return re.test(uri);
}

/**
 * The behaviour CloudFront picks for a URI: the first whose path pattern matches, else the default. `events`: the
 * triggers it runs; `country`: whether its cache key holds CloudFront-Viewer-Country (then CloudFront adds the
 * header for origin-facing triggers).
 */
export function behaviourFor(routing, uri) {
  const b = (routing.behaviours ?? []).find((x) => pathPatternMatches(x.pathPattern, uri));
  const picked = b ?? routing.default ?? {};
  return { pathPattern: b ? b.pathPattern : "*", events: picked.events ?? [], country: Boolean(picked.country) };
}

// A host name or IP literal with an optional port; anything else in Host (a path, "?", "#", "@", spaces) is malformed.
const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * CloudFront's answer to the viewer's Host header: null when it serves the request, else the status it answers
 * with (400 for a missing or malformed Host, 403 for a host the distribution does not serve).
 * `served`: the distribution's domain, its alternate domain names, and locally the emulation's own address.
 */
export function hostRefusal(host, served) {
  if (typeof host !== "string" || !HOST_RE.test(host)) return 400;
  const name = host.toLowerCase().replace(/:\d+$/, "");
  const ok = served.some((s) => {
    const want = s.toLowerCase();
    return want.includes(":") ? host.toLowerCase() === want : name === want;
  });
  return ok ? null : 403;
}
