// The `Plugin` service of Argo's traffic-router RPC (rollout/trafficrouting/plugin/rpc/rpc.go), dispatched to
// a TrafficRouter. Arguments arrive as a gob interface holding Argo's registered argument struct; the Rollout
// inside is converted to the Kubernetes JSON shape once, here, so the router only ever sees that shape.
//
// Router failures are answered the way a Go plugin answers them: a normal reply whose ErrorString carries
// the message (Argo shows it as "failed to set weight via plugin: <message>"). Only malformed arguments get
// a net/rpc error, as Argo's Go server stub does ("invalid args ...").

import { RpcVerified, type TrafficRouter } from '../plugin/router.js';
import { args, InvalidArgsError, type ArgConverters } from './args.js';
import type { GobValue } from './gob/values.js';
import type { Reply } from './netrpc/reply.js';
import type { MethodTable, RpcCall, RpcMethod } from './netrpc/server.js';

/** The names Argo registers its argument structs under (`gob.RegisterName`). */
export const ArgNames = {
  updateHash: 'UpdateHashArgs',
  setWeight: 'SetWeightAndVerifyWeightArgs',
  setHeader: 'SetHeaderArgs',
  setMirror: 'SetMirrorArgs',
  removeManagedRoutes: 'RemoveManagedRoutesArgs',
  getWeightUpdateDeadline: 'GetWeightUpdateDeadlineArgs',
  clearWeightUpdateDeadline: 'ClearWeightUpdateDeadlineArgs',
} as const;

function int32(v: GobValue | undefined): number {
  // gob omits zero values, so an absent DesiredWeight is 0.
  return typeof v === 'number' ? v : 0;
}

function str(v: GobValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // An empty ErrorString means success to Argo; never let a failure look like one.
  return text === '' ? 'plugin call failed without a message' : text;
}

const ok: Reply = { kind: 'rpcError', errorString: '' };

/** A method answering RpcError: "" on success, the router's message on failure or timeout. */
function rpcErrorMethod(run: (body: GobValue, call: RpcCall | undefined) => Promise<void>): RpcMethod {
  return {
    handle: async (body, call) => {
      try {
        await run(body, call);
        return ok;
      } catch (err) {
        // Arguments of the wrong type stay net/rpc errors, as with Argo's Go stub.
        if (err instanceof InvalidArgsError) throw err;
        return { kind: 'rpcError', errorString: message(err) };
      }
    },
    onTimeout: (msg) => ({ kind: 'rpcError', errorString: msg }),
  };
}

export function pluginMethods(router: TrafficRouter, conv: ArgConverters): MethodTable {
  const methods = new Map<string, RpcMethod>();

  methods.set('Plugin.InitPlugin', rpcErrorMethod((_body, call) => router.initPlugin(call)));

  methods.set('Plugin.Type', { handle: () => ({ kind: 'string', value: router.type() }) });

  methods.set(
    'Plugin.UpdateHash',
    rpcErrorMethod(async (body, call) => {
      const a = args(body, ArgNames.updateHash);
      const rollout = conv.rollout(a.Rollout ?? null);
      await router.updateHash(rollout, str(a.CanaryHash), str(a.StableHash), conv.weightDestinations(a.AdditionalDestinations), call);
    }),
  );

  methods.set(
    'Plugin.SetWeight',
    rpcErrorMethod(async (body, call) => {
      const a = args(body, ArgNames.setWeight);
      const rollout = conv.rollout(a.Rollout ?? null);
      await router.setWeight(rollout, int32(a.DesiredWeight), conv.weightDestinations(a.AdditionalDestinations), call);
    }),
  );

  methods.set('Plugin.VerifyWeight', {
    handle: async (body, call) => {
      const a = args(body, ArgNames.setWeight);
      const rollout = conv.rollout(a.Rollout ?? null);
      const destinations = conv.weightDestinations(a.AdditionalDestinations);
      try {
        const res = await router.verifyWeight(rollout, int32(a.DesiredWeight), destinations, call);
        return { kind: 'verifyWeight', verified: res.verified, errorString: res.err ?? '' };
      } catch (err) {
        return { kind: 'verifyWeight', verified: RpcVerified.NotVerified, errorString: message(err) };
      }
    },
    onTimeout: (msg) => ({ kind: 'verifyWeight', verified: RpcVerified.NotVerified, errorString: msg }),
  });

  methods.set(
    'Plugin.SetHeaderRoute',
    rpcErrorMethod(async (body, call) => {
      const a = args(body, ArgNames.setHeader);
      await router.setHeaderRoute(conv.rollout(a.Rollout ?? null), conv.setHeaderRoute(a.SetHeaderRoute), call);
    }),
  );

  methods.set(
    'Plugin.SetMirrorRoute',
    rpcErrorMethod(async (body, call) => {
      const a = args(body, ArgNames.setMirror);
      await router.setMirrorRoute(conv.rollout(a.Rollout ?? null), conv.setMirrorRoute(a.SetMirrorRoute), call);
    }),
  );

  methods.set(
    'Plugin.RemoveManagedRoutes',
    rpcErrorMethod(async (body, call) => {
      const a = args(body, ArgNames.removeManagedRoutes);
      await router.removeManagedRoutes(conv.rollout(a.Rollout ?? null), call);
    }),
  );

  // Argo master (after v1.10) asks for the end of a pending weight-update delay on every reconcile, and
  // clears it. This plugin never delays a weight update, so there is no deadline to report (nil with an
  // empty Err means "no delay pending") and nothing to clear. The Rollout is not needed, so it is not
  // converted; the argument type is still checked, as Argo's Go stub does.
  methods.set('Plugin.GetWeightUpdateDeadline', {
    handle: (body) => {
      args(body, ArgNames.getWeightUpdateDeadline);
      return { kind: 'weightUpdateDeadline', errorString: '' };
    },
    onTimeout: (msg) => ({ kind: 'weightUpdateDeadline', errorString: msg }),
  });

  methods.set(
    'Plugin.ClearWeightUpdateDeadline',
    rpcErrorMethod(async (body) => {
      args(body, ArgNames.clearWeightUpdateDeadline);
    }),
  );

  return methods;
}
