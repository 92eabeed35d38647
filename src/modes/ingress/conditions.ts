// The `conditions.<route>` annotation of a header route: the Rollout's header matches (src/core/routes.ts,
// validated there) as ALB http-header conditions, one per header name (values ORed, conditions ANDed). Lower
// camelCase keys, as Argo's ALBCondition writes them.

import { isDeepStrictEqual } from 'node:util';
import { albHeaderValue, type HeaderMatch } from '../../core/routes.js';
import { goArray, goObject, goString } from './gojson.js';

/** One http-header condition as the annotation holds it: ALB patterns, in the order matched. */
export interface HeaderCondition {
  headerName: string;
  values: string[];
}

export function albConditions(matches: HeaderMatch[]): HeaderCondition[] {
  return matches.map((m) => ({ headerName: m.headerName, values: m.values.map(albHeaderValue) }));
}

export function encodeConditions(conditions: HeaderCondition[]): string {
  return goArray(
    conditions.map((c) =>
      goObject([
        ['field', goString('http-header')],
        [
          'httpHeaderConfig',
          goObject([
            ['httpHeaderName', goString(c.headerName)],
            ['values', goArray(c.values.map(goString))],
          ]),
        ],
      ]),
    ),
  );
}

/** Same meaning as JSON (key order and spacing ignored); unparseable values never match. */
export function sameJson(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  try {
    return isDeepStrictEqual(JSON.parse(a), JSON.parse(b));
  } catch {
    return false;
  }
}
