// Issue #12 item 3, against a real kube-apiserver as the sidecar's ServiceAccount: a plugin call that runs past
// its RPC deadline is answered, and the work behind it must then stop before writing, or its old weight lands
// after the newer call Argo sends next. One Rollout's calls to one Ingress also apply in the order they came.
import { describe, expect, it } from 'vitest';
import { NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { pino } from 'pino';
import { serveNetRpc } from '../../../src/goplugin/netrpc/server.js';
import { createIngressClient, type IngressClient } from '../../../src/k8s/ingress-client.js';
import { createIngressRouter } from '../../../src/modes/ingress/router.js';
import { skipKubeTests } from '../../support/kube/assets.js';
import { duplexPair, TestRpcClient } from '../../goplugin/fixtures.js';
import { useCluster } from '../../support/kube/cluster.js';
import { action, ingress, PLUGIN, PREFIX, rollout } from '../../support/kube/fixtures.js';

const ACTION = `${PREFIX}/actions.stable-svc`;

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves when the signal fires; never without one (a request nobody can cancel). */
function fired(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
}

describe.skipIf(skipKubeTests())('a plugin call past its deadline writes nothing (kube-apiserver)', () => {
  const cluster = useCluster();

  it('SetWeight 20 runs out of time in its 409 retry, the abort\'s SetWeight 0 lands, and the old call does not write 20 again', async () => {
    const c = cluster();
    const ns = await c.createNamespace('stale-call');
    await c.create(ingress({ namespace: ns }));
    const sidecar = createIngressClient(c.sidecarConfig());
    const adminNet = c.admin.makeApiClient(NetworkingV1Api);
    const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

    // Another writer changes the Ingress between SetWeight 20's read and its patch (a real 409), and the API
    // server is then slow to answer the re-read: it answers when `slowAnswer` resolves, or fails at once when
    // the request is cancelled, as an HTTP request does.
    const slowAnswer = deferred();
    let interfere = true;
    let slowNextRead = false;
    const ingresses: IngressClient = {
      async get(n, name, opts) {
        if (slowNextRead) {
          slowNextRead = false;
          await Promise.race([slowAnswer.promise, fired(opts?.signal)]);
        }
        return sidecar.get(n, name, opts);
      },
      async patch(n, name, rv, edit, opts) {
        if (interfere) {
          interfere = false;
          await adminNet.patchNamespacedIngress(
            { namespace: n, name, body: { metadata: { annotations: { 'example.com/other-writer': '1' } } } },
            mergePatch,
          );
          slowNextRead = true;
        }
        return sidecar.patch(n, name, rv, edit, opts);
      },
    };
    const router = createIngressRouter({ ingresses, pluginName: PLUGIN, albIngressClasses: ['alb'] });
    const ro = rollout({ namespace: ns });

    // The real net/rpc server with its deadline; the method body is the one line dispatch.ts runs for SetWeight.
    const staleCallEnded = deferred();
    const logger = pino({ level: 'info' }, {
      write: (line: string) => {
        if (line.includes('result of a timed-out call dropped')) staleCallEnded.resolve();
      },
    });
    const [controllerSide, pluginSide] = duplexPair();
    serveNetRpc(pluginSide, {
      methods: new Map([
        [
          'Plugin.SetWeight',
          {
            handle: async (body, call) => {
              try {
                await router.setWeight(ro, Number(body), [], call);
                return { kind: 'rpcError', errorString: '' } as const;
              } catch (err) {
                return { kind: 'rpcError', errorString: (err as Error).message } as const;
              }
            },
            onTimeout: (msg: string) => ({ kind: 'rpcError', errorString: msg }) as const,
          },
        ],
      ]),
      callTimeoutMs: 1500,
      logger,
      onStop: () => {},
    });
    const argo = new TestRpcClient(controllerSide);

    argo.send('Plugin.SetWeight', 1, { kind: 'string', value: '20' });
    const [timedOut] = await argo.waitForReplies(1);
    expect((timedOut!.body as { ErrorString?: string }).ErrorString).toMatch(/Plugin.SetWeight did not finish within 1.5s/);

    argo.send('Plugin.SetWeight', 2, { kind: 'string', value: '0' });
    const replies = await argo.waitForReplies(2);
    expect(replies[1]!.header.Error ?? '').toBe('');
    expect((replies[1]!.body as { ErrorString?: string }).ErrorString ?? '').toBe('');
    expect((await c.readIngress(ns, 'ingress')).metadata.annotations?.[ACTION]).toBe(action('canary-svc', 'stable-svc', 80, 0));

    // The slow answer finally arrives; whatever the old call does with it, it ends, and 0 stays.
    slowAnswer.resolve();
    await staleCallEnded.promise;
    const after = await c.readIngress(ns, 'ingress');
    expect(after.metadata.annotations?.[ACTION]).toBe(action('canary-svc', 'stable-svc', 80, 0));
    expect(after.metadata.annotations?.['example.com/other-writer']).toBe('1');
    controllerSide.end();
  });

  it('one Rollout\'s calls to one Ingress apply in order: a later SetWeight waits for the earlier one', async () => {
    const c = cluster();
    const ns = await c.createNamespace('in-order');
    await c.create(ingress({ namespace: ns }));
    const sidecar = createIngressClient(c.sidecarConfig());
    // The first read is slow (the API server is busy); the call after it must still land last.
    const firstAnswer = deferred();
    let reads = 0;
    const written: string[] = [];
    const ingresses: IngressClient = {
      async get(n, name, opts) {
        if (reads++ === 0) await firstAnswer.promise;
        return sidecar.get(n, name, opts);
      },
      async patch(n, name, rv, edit, opts) {
        written.push(edit.annotations[ACTION] ?? '');
        return sidecar.patch(n, name, rv, edit, opts);
      },
    };
    const router = createIngressRouter({ ingresses, pluginName: PLUGIN, albIngressClasses: ['alb'] });
    const ro = rollout({ namespace: ns });

    const earlier = router.setWeight(ro, 20, []);
    await new Promise((r) => setTimeout(r, 50));
    const later = router.setWeight(ro, 0, []);
    await new Promise((r) => setTimeout(r, 200));
    // The later call has not read (let alone written) while the earlier one is still running.
    expect(reads).toBe(1);
    firstAnswer.resolve();
    await Promise.all([earlier, later]);
    expect(written).toEqual([action('canary-svc', 'stable-svc', 80, 20), action('canary-svc', 'stable-svc', 80, 0)]);
    expect((await c.readIngress(ns, 'ingress')).metadata.annotations?.[ACTION]).toBe(action('canary-svc', 'stable-svc', 80, 0));

    // Other Rollouts and other Ingresses do not wait for each other.
    const other = rollout({ namespace: ns, name: 'other', stable: 'other-stable', canary: 'other-canary', ingresses: ['elsewhere'] });
    await c.create(ingress({ namespace: ns, name: 'elsewhere', actionServices: ['other-stable'] }));
    const blocked = deferred();
    reads = 0;
    const slowFirst: IngressClient = {
      async get(n, name, opts) {
        if (reads++ === 0) await blocked.promise;
        return sidecar.get(n, name, opts);
      },
      patch: (n, name, rv, edit, opts) => sidecar.patch(n, name, rv, edit, opts),
    };
    const router2 = createIngressRouter({ ingresses: slowFirst, pluginName: PLUGIN, albIngressClasses: ['alb'] });
    const stuck = router2.setWeight(ro, 30, []);
    await router2.setWeight(other, 40, []);
    blocked.resolve();
    await stuck;
  });
});
