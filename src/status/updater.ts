// Fills `status.alb` / `status.albs` (alb-status.ts) the way Argo's built-in router does in VerifyWeight, so that
// AnalysisTemplates reading them keep working under the plugin. After a VerifyWeight that checked the load
// balancer (verification on), the Rollout's mode says which load balancers and target groups carry its traffic
// (Mode.albTargets) and the status is patched when it differs. What was written is remembered per Rollout with
// the roles it was written for (ping-pong swaps them), so a Rollout whose roles did not change costs nothing more;
// a discovery that found nothing yet is tried again after a pause. Argo's controller copies both fields into
// every status it writes (rollout/controller.go), so they survive its reconciles.

import { pluginBlock } from '../core/plugin-block.js';
import { rolloutId, type Rollout } from '../core/rollout.js';
import { serviceRoles } from '../core/services.js';
import { guardedUpdate } from '../k8s/guarded-update.js';
import { KubernetesApiError } from '../k8s/ingress-client.js';
import type { RolloutStatusClient } from '../k8s/rollout-status.js';
import type { Logger } from '../logger.js';
import type { ModeTable } from '../plugin/mode-table.js';
import { stepBudgetMs } from '../plugin/call.js';
import { RpcVerified, type TrafficRouter } from '../plugin/router.js';
import { SerialQueue } from '../plugin/serial-queue.js';
import { albStatusFields, sameAlbStatus } from './alb-status.js';

export interface AlbStatusUpdaterDeps {
  modes: ModeTable;
  client: RolloutStatusClient;
  logger?: Logger;
  /** Deadline of one discovery and write (default 20 s). */
  timeoutMs?: number;
  /** Pause before a discovery that found nothing (or failed) is tried again (default 30 s). */
  retryAfterMs?: number;
  /** Rollouts remembered (default 5000, oldest first out). */
  maxRemembered?: number;
  now?: () => number;
}

export interface AlbStatusUpdater {
  /**
   * A VerifyWeight checked the load balancer for this Rollout (as sent by Argo): fill the status if it is due.
   * `verified`: the weights are on the load balancer, so it exists; a pause after an earlier empty discovery does
   * not hold it back.
   */
  afterVerification(rollout: Rollout, verified?: boolean): Promise<void>;
}

interface Memo {
  key: string;
  state: 'written' | 'retry';
  at: number;
}

/** What the status is written for: the Rollout, its plugin block and its roles now. */
function rolesKey(rollout: Rollout, pluginName: string): string | undefined {
  try {
    const roles = serviceRoles(rollout);
    return JSON.stringify([rollout.metadata.uid ?? '', pluginBlock(rollout, pluginName) ?? null, roles.stable, roles.canary]);
  } catch {
    return undefined;
  }
}

export function createAlbStatusUpdater(deps: AlbStatusUpdaterDeps): AlbStatusUpdater {
  const memo = new Map<string, Memo>();
  const queue = new SerialQueue();
  const now = deps.now ?? Date.now;
  const retryAfterMs = deps.retryAfterMs ?? 30_000;
  const max = deps.maxRemembered ?? 5000;
  const pluginName = deps.modes.pluginName;

  function remember(id: string, m: Memo): void {
    memo.delete(id);
    memo.set(id, m);
    while (memo.size > max) memo.delete(memo.keys().next().value as string);
  }

  function due(id: string, key: string, rollout: Rollout, verified: boolean): boolean {
    const m = memo.get(id);
    if (!m || m.key !== key) return true;
    if (m.state === 'retry') return verified || now() - m.at >= retryAfterMs;
    // Written for these roles; only a status that lost the field (a restored object, say) is written again.
    return !rollout.status?.alb;
  }

  async function update(rollout: Rollout, id: string, key: string): Promise<void> {
    const mode = deps.modes.of(rollout);
    if (!mode) return;
    const ns = rollout.metadata.namespace || 'default';
    const name = rollout.metadata.name;
    const signal = AbortSignal.timeout(deps.timeoutMs ?? 20_000);
    const fields = albStatusFields(await mode.albTargets(rollout, signal));
    // Nothing found yet, or a role without its target group (the LBC still building): an AnalysisTemplate would
    // get empty names, so nothing is written and the next check looks again.
    const incomplete = fields?.albs.some((a) => a.canaryTargetGroup.arn === '' || a.stableTargetGroup.arn === '');
    if (!fields || incomplete) {
      remember(id, { key, state: 'retry', at: now() });
      return;
    }
    const out = await guardedUpdate<Rollout, Record<string, unknown>>(
      {
        label: `Rollout ${ns}/${name} status`,
        get: (opts) => deps.client.get(ns, name, opts),
        patch: (current, edit, opts) => deps.client.patchStatus(ns, name, current.metadata.resourceVersion!, edit, opts),
        isEmpty: (edit) => Object.keys(edit).length === 0,
        isConflict: (err): err is KubernetesApiError => err instanceof KubernetesApiError && err.status === 409,
      },
      // Roles that changed since the check (a promotion swapped ping and pong) are the next check's to write.
      (current) => (rolesKey(current, pluginName) !== key || sameAlbStatus((current.status ?? undefined) as { alb?: unknown; albs?: unknown } | undefined, fields) ? {} : { alb: fields.alb, albs: fields.albs }),
    );
    remember(id, { key, state: 'written', at: now() });
    if (out.changed) {
      deps.logger?.info(
        { rollout: id, loadBalancer: fields.alb.loadBalancer.name, canaryTargetGroup: fields.alb.canaryTargetGroup.name, stableTargetGroup: fields.alb.stableTargetGroup.name, albs: fields.albs.length },
        'status.alb written',
      );
    }
  }

  return {
    async afterVerification(rollout, verified = false) {
      const id = rolloutId(rollout.metadata.namespace, rollout.metadata.name);
      const key = rolesKey(rollout, pluginName);
      if (key === undefined || !due(id, key, rollout, verified)) return;
      await queue.run(id, async () => {
        // A call queued behind one that just wrote for the same roles has nothing left to do.
        if (memo.get(id)?.key === key && memo.get(id)?.state === 'written' && !due(id, key, rollout, verified)) return;
        try {
          await update(rollout, id, key);
        } catch (err) {
          remember(id, { key, state: 'retry', at: now() });
          deps.logger?.warn({ rollout: id, err: err instanceof Error ? err.message : String(err) }, 'could not fill status.alb; trying again at a later verification');
        }
      });
    },
  };
}

/** How long a Verified answer waits for the status write (the first for a set of roles) before answering anyway. */
export const VERIFIED_WRITE_WAIT_MS = 5_000;

/**
 * The router as Argo calls it, filling the status after every VerifyWeight that looked at the load balancer. A
 * Verified answer waits (at most VERIFIED_WRITE_WAIT_MS, and never past the call's budget) for the write: Argo
 * moves to the next step on it, and an analysis step there resolves `status.alb.*` when it creates its
 * AnalysisRun; a status written after that only makes Argo retry ("invalid path") until it lands. Other answers
 * do not wait.
 */
export function withAlbStatus(inner: TrafficRouter, updater: AlbStatusUpdater): TrafficRouter {
  return {
    ...inner,
    async verifyWeight(rollout, desiredWeight, extra, call) {
      const res = await inner.verifyWeight(rollout, desiredWeight, extra, call);
      if (res.verified === RpcVerified.NotImplemented) return res;
      const write = updater.afterVerification(rollout, res.verified === RpcVerified.Verified);
      if (res.verified === RpcVerified.Verified) {
        const ms = Math.min(VERIFIED_WRITE_WAIT_MS, call ? stepBudgetMs(call, VERIFIED_WRITE_WAIT_MS) : VERIFIED_WRITE_WAIT_MS);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([write, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
        clearTimeout(timer);
      }
      return res;
    },
  };
}
