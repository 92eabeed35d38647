// The Kubernetes side of the cleanup: a list+watch of argoproj.io/v1alpha1 Rollouts in every namespace feeding
// the CleanupController, restarted after errors, and a periodic cleanup sweep (every mode) once the first list
// has completed (sweeping before that would take every Rollout for deleted). No promise here is left without
// a rejection handler: an unhandled rejection ends the process, and with it the plugin Argo is talking to.

import {
  CustomObjectsApi,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import type { Rollout } from '../core/rollout.js';
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

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Calls `fn`, turning a synchronous throw or a rejected promise into a call of `onFailure`. */
function guarded(fn: () => unknown, onFailure: (err: unknown) => void): void {
  try {
    const out = fn();
    if (out instanceof Promise) out.catch(onFailure);
  } catch (err) {
    onFailure(err);
  }
}

/**
 * client-node's ListWatch hands Watch two async functions and never looks at their promises: its done
 * handler lists and watches again, and when that fails (a credential plugin that cannot give a token, say)
 * the rejection is unhandled and the informer silently stops. This Watch catches both.
 */
class GuardedWatch extends Watch {
  constructor(
    kc: KubeConfig,
    private readonly onEventFailure: (err: unknown) => void,
    private readonly onRestartFailure: (err: unknown) => void,
  ) {
    super(kc);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, apiObj, watchObj) => guarded(() => callback(phase, apiObj, watchObj), this.onEventFailure),
      (err) => guarded(() => done(err), this.onRestartFailure),
    );
  }
}

export function startRolloutWatch(opts: RolloutWatchOptions): RolloutWatch {
  const custom = opts.kc.makeApiClient(CustomObjectsApi);
  const listFn = async (): Promise<KubernetesListObject<RolloutObject>> =>
    (await custom.listClusterCustomObject({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL })) as KubernetesListObject<RolloutObject>;
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
    void p.then(
      () => inflight.delete(p),
      () => inflight.delete(p),
    );
  };

  /** One pending retry at a time: several failures in a row start one new list+watch, not several. */
  function retry(what: string, err: unknown): void {
    if (stopped) return;
    log?.warn({ err: message(err) }, `${what}; listing again shortly`);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void begin(), retryDelayMs);
  }

  const informer = new ListWatch<RolloutObject>(
    ROLLOUTS_PATH,
    new GuardedWatch(
      opts.kc,
      // One event the informer could not take in (a malformed object): the stream goes on, the sweep catches up.
      (err) => log?.warn({ err: message(err) }, 'Rollout watch event could not be handled'),
      // The informer failed to watch again after a stream ended: nothing is watching any more.
      (err) => retry('Rollout watch could not be restarted', err),
    ),
    listFn,
    false,
  );

  /** A failed handler is logged; the periodic sweep catches up on what it did not release. */
  function handle(event: string, r: RolloutObject, fn: (rollout: Rollout) => Promise<unknown>): void {
    const id = `${r.metadata?.namespace ?? ''}/${r.metadata?.name ?? ''}`;
    let p: Promise<unknown>;
    try {
      p = fn(plain(r));
    } catch (err) {
      p = Promise.reject(err);
    }
    track(
      p.catch((err: unknown) => {
        log?.warn({ rollout: id, event, err: message(err) }, 'Rollout handler failed; the next sweep catches up');
      }),
    );
  }

  informer.on('add', (r) => handle('add', r, (x) => opts.controller.upsert(x)));
  informer.on('update', (r) => handle('update', r, (x) => opts.controller.upsert(x)));
  informer.on('delete', (r) => handle('delete', r, (x) => opts.controller.remove(x)));
  informer.on('error', (err: unknown) => retry('Rollout watch failed', err));

  async function sweep(): Promise<void> {
    if (!synced || stopped) return;
    try {
      await opts.controller.sweep();
    } catch (err) {
      log?.warn({ err: message(err) }, 'cleanup sweep failed; trying again at the next interval');
    }
  }

  async function begin(): Promise<void> {
    if (stopped) return;
    try {
      await informer.start();
    } catch (err) {
      // client-node reports list and watch failures through 'error'; anything thrown here is retried the same way.
      retry('Rollout watch failed to start', err);
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
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}
