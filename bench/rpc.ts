// RPC overhead: the same Go client (Argo's RPC client, bench/go/rpcbench) calling SetWeight and
// VerifyWeight with a realistic ~50 KB Rollout on (a) our sidecar through the handshake binary and (b) a
// Go plugin built with go-plugin, both with the traffic-router work stubbed to a no-op.
import { startFakeKube } from './fake-kube.js';
import { runJson, type BenchContext } from './harness.js';
import { startSidecarProcess } from './sidecar-process.js';

interface RpcBenchOut {
  name: string;
  calls: number;
  argsGobBytes: number;
  setWeightP50Ms: number;
  setWeightP99Ms: number;
  verifyWeightP50Ms: number;
  verifyWeightP99Ms: number;
}

export interface RpcResult {
  argsGobBytes: number;
  calls: number;
  ours: RpcBenchOut;
  go: RpcBenchOut;
  /** ours / Go; the goal is at most 2. */
  setWeightP50Ratio: number;
  setWeightP99Ratio: number;
  verifyWeightP50Ratio: number;
  verifyWeightP99Ratio: number;
}

export async function benchRpc(ctx: BenchContext): Promise<RpcResult> {
  const calls = String(ctx.quick ? 100 : 1000);
  const go = (await runJson(ctx.bin('rpcbench'), ['-name', 'go-plugin no-op', '-calls', calls, '--', ctx.bin('noopplugin')])) as RpcBenchOut;
  const kube = await startFakeKube();
  const sidecar = await startSidecarProcess({ root: ctx.root, tmp: ctx.tmp, kubeUrl: kube.url, extraArgs: ['--bench-noop-router'] });
  try {
    const ours = (await runJson(ctx.bin('rpcbench'), [
      '-name', 'sidecar no-op (via handshake)', '-calls', calls, '--',
      `${ctx.root}/bin/handshake`, '-sidecar', sidecar.pluginAddress,
    ])) as RpcBenchOut;
    return {
      argsGobBytes: go.argsGobBytes,
      calls: Number(calls),
      ours,
      go,
      setWeightP50Ratio: ours.setWeightP50Ms / go.setWeightP50Ms,
      setWeightP99Ratio: ours.setWeightP99Ms / go.setWeightP99Ms,
      verifyWeightP50Ratio: ours.verifyWeightP50Ms / go.verifyWeightP50Ms,
      verifyWeightP99Ratio: ours.verifyWeightP99Ms / go.verifyWeightP99Ms,
    };
  } finally {
    await sidecar.stop();
    await kube.stop();
  }
}
