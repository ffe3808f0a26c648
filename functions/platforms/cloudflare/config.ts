// The stack's config, declared in front of the engine by the build (components/edgeport/build/engine.py), and
// the names the handler and the room object share. Not in adapter.ts: workerd accepts only handlers and classes
// as a Worker module's exports ("Incorrect type for map entry ...: not of type 'function or ExportedHandler'").
import type { EdgeConfig } from "../../src/patterns";

declare const __EDGEPORT_CONFIG__: EdgeConfig;
export const CFG: EdgeConfig = __EDGEPORT_CONFIG__;

/** The header the handler uses to tell a room object which pattern a connection is for. */
export const ROOM_HEADER = "x-edgeport-room";
