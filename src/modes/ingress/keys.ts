// Annotation keys, prefix-aware. The bookkeeping keys (types.ts) never take the prefix.

export function actionKey(prefix: string, name: string): string {
  return `${prefix}/actions.${name}`;
}

export function conditionKey(prefix: string, name: string): string {
  return `${prefix}/conditions.${name}`;
}

/** `actions` or `conditions` plus the name after the dot, for any prefix; undefined for other keys. */
export function splitRouteKey(key: string): { kind: 'actions' | 'conditions'; name: string } | undefined {
  const m = /\/(actions|conditions)\.(.+)$/.exec(key);
  return m ? { kind: m[1] as 'actions' | 'conditions', name: m[2]! } : undefined;
}
