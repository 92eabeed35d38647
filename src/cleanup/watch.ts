// The Kubernetes side of the cleanup: a list+watch of argoproj.io/v1alpha1 Rollouts in every namespace feeding
// the CleanupController, restarted after errors, and a periodic sweep of all Ingresses once the first list
// has completed (sweeping before that would take every Rollout for deleted).

import {
  CustomObjectsApi,
  ListWatch,
  NetworkingV1Api,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import type { Ingress } from '../k8s/ingress.js';
import type { Rollout } from '../trafficrouter/rollout.js';
import type { CleanupController } from './controller.js';

export const ROLLOUT_GROUP = 'argoproj.io';
export const ROLLOUT_VERSION = 'v1alpha1';
export const ROLLOUT_PLURAL = 'rollouts';
export const ROLLOUTS_PATH = `/apis/${ROLLOUT_GROUP}/${ROLLOUT_VERSION}/${ROLLOUT_PLURAL}`;

export interface RolloutWatchOptions {
  kc: KubeConfig;
  controller: CleanupController;
  logger?: Logger;
  sweepEveryMs: number;
  /** Wait before re-listing after the watch failed. */
  retryDelayMs?: number;
  listIngresses?: () => Promise<Ingress[]>;
}

export interface RolloutWatch {
  /** Resolves once every Rollout has been listed. */
  synced(): Promise<void>;
  isSynced(): boolean;
  /** Runs one sweep now (also run on a timer). */
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

type RolloutObject = Rollout & KubernetesObject;

function plain<T>(obj: unknown): T {
  return JSON.parse(JSON.stringify(obj)) as T;
}

export function listAllIngresses(kc: KubeConfig): () => Promise<Ingress[]> {
  const api = kc.makeApiClient(NetworkingV1Api);
  return async () => plain<{ items: Ingress[] }>(await api.listIngressForAllNamespaces()).items;
}

export function startRolloutWatch(opts: RolloutWatchOptions): RolloutWatch {
  const custom = opts.kc.makeApiClient(CustomObjectsApi);
  const listFn = async (): Promise<KubernetesListObject<RolloutObject>> =>
    (await custom.listClusterCustomObject({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL })) as KubernetesListObject<RolloutObject>;
  const informer = new ListWatch<RolloutObject>(ROLLOUTS_PATH, new Watch(opts.kc), listFn, false);
  const listIngresses = opts.listIngresses ?? listAllIngresses(opts.kc);
  const retryDelayMs = opts.retryDelayMs ?? 5_000;
  const log = opts.logger;
  let stopped = false;
  let synced = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let markSynced: () => void = () => {};
  const syncedPromise = new Promise<void>((resolve) => {
    markSynced = resolve;
  });
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  informer.on('add', (r) => track(opts.controller.upsert(plain(r))));
  informer.on('update', (r) => track(opts.controller.upsert(plain(r))));
  informer.on('delete', (r) => track(opts.controller.remove(plain(r))));
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'Rollout watch failed; listing again shortly');
    retryTimer = setTimeout(() => void begin(), retryDelayMs);
  });

  async function sweep(): Promise<void> {
    if (!synced || stopped) return;
    try {
      await opts.controller.sweep(await listIngresses());
    } catch (err) {
      log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'Ingress sweep failed; trying again at the next interval');
    }
  }

  async function begin(): Promise<void> {
    if (stopped) return;
    try {
      await informer.start();
    } catch (err) {
      // client-node reports list and watch failures through 'error'; anything thrown here is retried the same way.
      log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'Rollout watch failed to start; trying again shortly');
      retryTimer = setTimeout(() => void begin(), retryDelayMs);
      return;
    }
    if (!synced && informer.latestResourceVersion() !== '') {
      synced = true;
      markSynced();
      track(sweep());
      sweepTimer = setInterval(() => track(sweep()), opts.sweepEveryMs);
      sweepTimer.unref();
    }
  }

  void begin();

  return {
    synced: () => syncedPromise,
    isSynced: () => synced,
    sweep,
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(sweepTimer);
      await informer.stop();
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
  };
}
