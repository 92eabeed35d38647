// The envtest helper itself: a real apiserver with RBAC, CRDs served, tokens that authenticate, and a
// teardown that leaves no process or directory behind.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, CoreV1Api, CustomObjectsApi, VersionApi } from '@kubernetes/client-node';
import { kubeAssets, skipKubeTests } from './assets.js';
import { startEnvtest, type Envtest } from './envtest.js';

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

describe.skipIf(skipKubeTests())('envtest (real kube-apiserver + etcd)', () => {
  let env: Envtest;
  beforeAll(async () => {
    env = await startEnvtest();
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('serves on a loopback port over TLS with the version it was built at', async () => {
    expect(env.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const version = await env.adminConfig().makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(existsSync(env.kubeconfigPath)).toBe(true);
  });

  it.each([
    ['argoproj.io', 'v1alpha1', 'rollouts'],
    ['elbv2.k8s.aws', 'v1beta1', 'targetgroupbindings'],
    ['elbv2.k8s.aws', 'v1alpha1', 'targetgroupbindings'],
    ['eks.amazonaws.com', 'v1', 'targetgroupbindings'],
  ])('serves the CRD %s/%s %s', async (group, version, plural) => {
    const ns = await env.createNamespace('crd');
    const list = (await env.adminConfig().makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural,
    })) as { items: unknown[] };
    expect(list.items).toEqual([]);
  });

  it('rejects an unknown token and refuses a ServiceAccount without any role (RBAC is on)', async () => {
    const bogus = env.configForToken('not-a-token').makeApiClient(CoreV1Api);
    await expect(bogus.listNamespace()).rejects.toMatchObject({ code: 401 });

    const ns = await env.createNamespace('rbac');
    const token = await env.serviceAccountToken(ns, 'nobody');
    const sa = env.configForToken(token).makeApiClient(CoreV1Api);
    const err = await sa.listNamespacedConfigMap({ namespace: ns }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<string>).code).toBe(403);
    expect(String((err as ApiException<string>).body)).toContain(`system:serviceaccount:${ns}:nobody`);
  });

  it('stops every process and removes its directory', async () => {
    const other = await startEnvtest({ crds: false });
    const server = other.server;
    const dir = other.kubeconfigPath.replace(/\/[^/]+$/, '');
    await other.stop();
    expect(existsSync(dir)).toBe(false);
    // A closed port, not a TLS error: the apiserver process is really gone.
    const port = Number(new URL(server).port);
    expect(await portAccepts(port)).toBe(false);
  }, 300_000);

  it('a control plane that cannot start fails with its log and leaves no process or directory', async () => {
    const fake = mkdtempSync(join(tmpdir(), 'fake-kube-'));
    try {
      const apiserver = join(fake, 'kube-apiserver');
      writeFileSync(apiserver, '#!/bin/sh\necho "E0101 flag provided but not defined: --boom" >&2\nexit 1\n');
      chmodSync(apiserver, 0o755);
      const root = join(fake, 'tmp');
      mkdirSync(root);
      await expect(startEnvtest({ assets: { ...kubeAssets(), kubeApiserver: apiserver }, tmpRoot: root })).rejects.toThrow(
        /kube-apiserver-2 exited while waiting for kube-apiserver \/readyz; its log ends with:\n.*--boom/,
      );
      expect(readdirSync(root)).toEqual([]);
      const etcds = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.startsWith(kubeAssets().etcd) && line.includes(root));
      expect(etcds).toEqual([]);
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  }, 120_000);
});
