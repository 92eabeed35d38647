// The `actions.<name>` annotation value: a forward action in the JSON Argo writes (PascalCase keys, struct
// order, ServicePort as a string). Names follow the LBC's config_types.go.

import { SOLE_WEIGHT } from '../../core/limits.js';
import { goArray, goInt, goObject, goString } from './gojson.js';

export interface TargetGroupTuple {
  serviceName: string;
  /** Written as a decimal string ("443"); the LBC turns digit strings back into numbers. */
  servicePort: number | string;
  /** 0..999 on ALB; 0 keeps the target group attached but sends it nothing. */
  weight: number;
}

export interface TargetGroupStickiness {
  enabled: boolean;
  /** 1..604800 seconds when enabled. */
  durationSeconds: number;
}

export interface ForwardAction {
  targetGroups: TargetGroupTuple[];
  stickiness?: TargetGroupStickiness;
}

function encodeTuple(tg: TargetGroupTuple): string {
  const port = String(tg.servicePort);
  return goObject([
    ['ServiceName', tg.serviceName === '' ? undefined : goString(tg.serviceName)],
    ['ServicePort', port === '' ? undefined : goString(port)],
    ['Weight', goInt(tg.weight)],
  ]);
}

/** Byte-identical to Argo's `getForwardActionString` output for the same tuples. */
export function encodeForwardAction(action: ForwardAction): string {
  const sticky = action.stickiness?.enabled
    ? goObject([
        ['Enabled', 'true'],
        ['DurationSeconds', goInt(action.stickiness.durationSeconds)],
      ])
    : undefined;
  return goObject([
    ['Type', goString('forward')],
    [
      'ForwardConfig',
      goObject([
        ['TargetGroups', goArray(action.targetGroups.map(encodeTuple))],
        ['TargetGroupStickinessConfig', sticky],
      ]),
    ],
  ]);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Go's json decoding matches keys case-insensitively, and the LBC relies on it; so do we. */
function field(obj: Json | undefined, name: string): Json | undefined {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/**
 * Reads an action annotation into its meaning, or `undefined` when it is not a forward action we can
 * compare (broken JSON, another action type, target groups given by ARN).
 */
export function parseForwardAction(value: string | undefined): ForwardAction | undefined {
  if (value === undefined) return undefined;
  let json: Json;
  try {
    json = JSON.parse(value) as Json;
  } catch {
    return undefined;
  }
  const type = field(json, 'type');
  if (typeof type !== 'string' || type.toLowerCase() !== 'forward') return undefined;
  const config = field(json, 'forwardConfig');
  const groups = field(config, 'targetGroups');
  if (!Array.isArray(groups)) return undefined;
  const targetGroups: TargetGroupTuple[] = [];
  for (const g of groups) {
    const serviceName = field(g, 'serviceName');
    const servicePort = field(g, 'servicePort');
    const weight = field(g, 'weight');
    if (typeof serviceName !== 'string') return undefined;
    if (typeof servicePort !== 'string' && typeof servicePort !== 'number') return undefined;
    targetGroups.push({
      serviceName,
      servicePort,
      // A single tuple may leave the weight out; ALB then sends it everything.
      weight: typeof weight === 'number' ? weight : groups.length === 1 ? SOLE_WEIGHT : NaN,
    });
  }
  const action: ForwardAction = { targetGroups };
  const sticky = field(config, 'targetGroupStickinessConfig');
  const enabled = field(sticky, 'enabled');
  const duration = field(sticky, 'durationSeconds');
  if (enabled === true) action.stickiness = { enabled: true, durationSeconds: typeof duration === 'number' ? duration : 0 };
  return action;
}

function portText(port: number | string): string {
  return String(port).trim();
}

/** Same meaning: same tuples in the same order (order decides nothing on ALB, but Argo's format is fixed). */
export function sameForwardAction(a: ForwardAction | undefined, b: ForwardAction | undefined): boolean {
  if (!a || !b) return false;
  if (a.targetGroups.length !== b.targetGroups.length) return false;
  const tuplesMatch = a.targetGroups.every((tg, i) => {
    const other = b.targetGroups[i]!;
    return (
      tg.serviceName === other.serviceName &&
      portText(tg.servicePort) === portText(other.servicePort) &&
      tg.weight === other.weight
    );
  });
  const sa = a.stickiness?.enabled ? a.stickiness.durationSeconds : undefined;
  const sb = b.stickiness?.enabled ? b.stickiness.durationSeconds : undefined;
  return tuplesMatch && sa === sb;
}
