// The `conditions.<route>` annotation of a header route: one http-header condition per header name (values
// of one name merged, ORed by ALB), conditions ANDed. Lower camelCase keys, as Argo's ALBCondition writes them.

import { isDeepStrictEqual } from 'node:util';
import { headerMatchValue } from './config.js';
import { goArray, goObject, goString } from './gojson.js';
import type { HeaderRoutingMatch } from './rollout.js';

/** AWS quota: condition values per listener rule. */
export const MAX_CONDITION_VALUES = 5;

export class HeaderRouteError extends Error {
  override name = 'HeaderRouteError';
}

export interface HeaderCondition {
  headerName: string;
  values: string[];
}

export function headerConditions(match: HeaderRoutingMatch[], path: string): HeaderCondition[] {
  const byName = new Map<string, string[]>();
  match.forEach((m, j) => {
    if (!m.headerName) throw new HeaderRouteError(`${path}.match[${j}].headerName: missing; name the HTTP header to match`);
    const value = headerMatchValue(m.headerValue, `${path}.match[${j}]`);
    const values = byName.get(m.headerName) ?? [];
    values.push(value);
    byName.set(m.headerName, values);
  });
  const total = [...byName.values()].reduce((n, v) => n + v.length, 0);
  if (total > MAX_CONDITION_VALUES) {
    throw new HeaderRouteError(
      `${path}.match: ${total} header values; an ALB rule takes at most ${MAX_CONDITION_VALUES} condition values, use wildcards (* ?) to combine them`,
    );
  }
  return [...byName].map(([headerName, values]) => ({ headerName, values }));
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
