/**
 * The built-in schema: Open_vSwitch 8.3.1, the vswitch.ovsschema shipped by
 * Debian 12's openvswitch-common/openvswitch-switch 3.1.0 (from
 * /usr/share/openvswitch/vswitch.ovsschema, unchanged), so that the real
 * ovs-vsctl and ovs-vswitchd work against our server and our clients against
 * the real ovsdb-server.
 */
import type { Json } from './json.js';
import { type DatabaseSchema, parseSchema } from './schema.js';
import schemaJson from './schemas/vswitch.ovsschema.json';

/** A fresh copy of the schema's JSON. */
export function vswitchSchema(): Json {
  return structuredClone(schemaJson) as Json;
}

export function vswitchDatabaseSchema(): DatabaseSchema {
  return parseSchema(vswitchSchema());
}
