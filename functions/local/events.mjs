// What a local host tells the process that started it, one JSON line per event on stdout (after the ready line):
//   {"event":"request","method","path","status","ms","origins":[{"name","path"}]}  one per request served
//   {"event":"console","level":"log"|"info"|"debug"|"warn"|"error","text"}         console output of edge code
//   {"event":"sourcemap","frame","bundle","map"}   stack frames named `frame` are in code made from `bundle` by `map`
//   {"event":"sourcemap","frame","bundle","firstLineShift"}   ... or in the bundle, its first line shifted right
// `edgeport dev` prints them labelled per target (edgeport.local.dev); nothing else may write to stdout.
import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";

export function emit(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

/** A console for edge code whose output becomes console events (the real platforms collect it per request). */
export function edgeConsole() {
  const out = (level) => (...args) => emit({ event: "console", level, text: format(...args) });
  return { log: out("log"), info: out("info"), debug: out("debug"), warn: out("warn"), error: out("error"), trace: out("debug") };
}

/** Lines of a byte stream, each handed to `onLine` (a partial last line waits for its newline). */
export function eachLine(stream, onLine) {
  let buf = "";
  stream.setEncoding?.("utf8");
  stream.on("data", (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on("end", () => buf && onLine(buf));
}

const current = new AsyncLocalStorage();

/** Record an origin fetch (a declared origin's URL) against the request being served, if any. */
export function noteOrigin(declaredUrl) {
  current.getStore()?.push(declaredUrl);
}

/** Name and path of a declared origin URL, from the manifest's {name: url}. */
export function originNamer(declared) {
  const byOrigin = Object.entries(declared).map(([name, url]) => [name, new URL(url)]);
  return (raw) => {
    const u = new URL(raw);
    const hit = byOrigin.find(([, d]) => d.origin === u.origin && u.pathname.startsWith(d.pathname.replace(/\/$/, "")));
    return { name: hit ? hit[0] : u.origin, path: u.pathname + u.search };
  };
}

/**
 * Wrap a Node request handler (req -> Response) so that each request emits a request event with the origin
 * fetches made while it was served (noteOrigin calls in its async context).
 */
export function logged(handler, name) {
  return (req) => {
    const t0 = performance.now();
    const origins = [];
    const done = (status) =>
      emit({ event: "request", method: req.method, path: req.url, status, ms: Math.round(performance.now() - t0), origins: origins.map(name) });
    return current.run(origins, async () => {
      try {
        const res = await handler(req);
        done(res.status);
        return res;
      } catch (e) {
        done(502);
        throw e;
      }
    });
  };
}
