// The Worker's entry when the stack declares rooms: the fetch handler and the Durable Object class its
// EDGEPORT_ROOMS binding names (a Worker must export the class a binding refers to:
// developers.cloudflare.com/durable-objects/api/base/).
export { default } from "./adapter";
export { EdgeportRoom } from "./room-object";
