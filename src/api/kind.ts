/**
 * What the API server, the store and the CLI need to know about one resource kind.
 * One KindDefinition per kind lives in src/api/kinds/; src/api/registry.ts lists them all.
 */
import type { z } from 'zod';

export interface KindDefinition {
  /** `VirtualService` */
  kind: string;
  /** `networking.istio.io`; `''` for the core group (`v1` Service). */
  group: string;
  /** Served versions, preferred first: `['v1', 'v1beta1', 'v1alpha3']`. All share one schema. */
  versions: readonly string[];
  /** Lower-case plural for REST paths: `virtualservices`. */
  plural: string;
  /** Lower-case singular: `virtualservice`. */
  singular: string;
  /** kubectl short names: `['vs']`. */
  shortNames: readonly string[];
  /** Whether objects of this kind live in a namespace (all of Shoal's kinds do today). */
  namespaced: boolean;
  /** Validates `spec` (shape and semantics). Object schemas are strict: an unknown field is an error. */
  spec: z.ZodType;
  /** Validates `status`, for kinds that have one; written by the control plane, not by users. */
  status?: z.ZodType;
  /** Columns for `shoal get -o wide`/tables beyond NAME and AGE: header and a function of the object. */
  columns?: readonly { header: string; wide?: boolean; value: (obj: { spec?: unknown; status?: unknown }) => string }[];
}

export function apiVersionOf(def: KindDefinition, version = def.versions[0]): string {
  return def.group === '' ? `${version}` : `${def.group}/${version}`;
}
