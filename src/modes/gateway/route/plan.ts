// What a planner returns and how it builds it. Every patch starts with `test /metadata/resourceVersion` and tests
// the name of each backendRef or rule it touches, so a patch computed from a stale read changes nothing (the API
// server answers 422) and the router re-reads (update.ts). Why a JSON patch and not server-side apply:
// docs/gateway-api-facts.md §9.2 (`rules` and `backendRefs` are atomic lists).

import { applyJsonPatch, type JsonPatchOp } from '../json-patch.js';
import { RoutePlanError, type HTTPRoute } from './model.js';

export interface Plan {
  /** Empty when the route already is as wanted. */
  ops: JsonPatchOp[];
  /** The route as it is after the patch. */
  after: HTTPRoute;
}

/** Builds a patch against a working copy, applying each operation as it is added. */
export class PatchBuilder {
  readonly ops: JsonPatchOp[] = [];
  readonly work: HTTPRoute;
  constructor(readonly route: HTTPRoute) {
    this.work = structuredClone(route);
  }
  push(...ops: JsonPatchOp[]): void {
    applyJsonPatch(this.work, ops);
    this.ops.push(...ops);
  }
  /** The patch, guarded by the resourceVersion; empty when there is nothing to change. */
  finish(): JsonPatchOp[] {
    if (this.ops.length === 0) return [];
    const rv = this.route.metadata.resourceVersion;
    if (!rv) throw new RoutePlanError(`${this.route.kind ?? 'HTTPRoute'} ${this.route.metadata.name} came back without metadata.resourceVersion; refusing an unguarded write`);
    return [{ op: 'test', path: '/metadata/resourceVersion', value: rv }, ...this.ops];
  }
}
