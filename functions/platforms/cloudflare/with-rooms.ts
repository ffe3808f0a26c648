// The Worker's entry: the fetch handler and the Durable Object class the EDGEPORT_ROOMS binding names (a Worker must
// export the class a binding refers to: developers.cloudflare.com/durable-objects/api/base/).
//
// Every Cloudflare engine exports EdgeportRoom, rooms declared or not: once a migration has created the class, an
// upload of a script that no longer exports it is refused, and deleting it (deleted_classes) would delete every
// room's storage (developers.cloudflare.com/durable-objects/reference/durable-objects-migrations/). A stack without
// rooms has no EDGEPORT_ROOMS binding, so nothing can reach the class; it gets a stub of a few bytes instead of the
// room object (1.6 KB minified, docs/benchmarks.md "Bundle bytes"), and its rooms' storage is kept for the day they
// come back, with no migration (tests/test_lifecycle.py, test 6).
import { DurableObject } from "cloudflare:workers";
import type { Env } from "./adapter";
import { EdgeportRoom as Room } from "./room-object";

export { default } from "./adapter";

// Set by build.mjs from the bundle's pattern types, like the step table's flags (src/patterns/index.ts).
declare const EDGEPORT_WITH_REALTIME_ROOM: boolean;

/** The class of a stack without rooms: unreachable (no binding), and it says so if it ever is reached. */
class RoomsNotDeclared extends DurableObject<Env> {
  fetch(): Response {
    return new Response(null, { status: 404 });
  }
}

export const EdgeportRoom = EDGEPORT_WITH_REALTIME_ROOM ? Room : RoomsNotDeclared;
