// The two services go-plugin serves on the control stream (rpc_server.go): Control (Ping, Quit) and
// Dispenser (Dispense). Ping must never wait for anything: Argo calls it under its global plugin mutex.

import type { BrokerIds } from './broker.js';
import { EMPTY_REPLY } from './netrpc/reply.js';
import type { MethodTable, RpcMethod } from './netrpc/server.js';

/** The plugin name Argo dispenses for a traffic router (rollout/trafficrouting/plugin/client/client.go). */
export const DISPENSE_NAME = 'RpcTrafficRouterPlugin';

/** The plugin name Argo dispenses for a metric provider (metricproviders/plugin/client/client.go). */
export const METRIC_PROVIDER_DISPENSE_NAME = 'RpcMetricProviderPlugin';

export interface ControlDeps {
  brokerIds: BrokerIds;
  /** The plugin names Dispense hands out; default: the traffic router's only. */
  plugins?: ReadonlySet<string>;
  /** Ends the session after the Quit reply has been written (the handshake child then exits). */
  quit(): void;
}

export function controlMethods(deps: ControlDeps): MethodTable {
  const methods = new Map<string, RpcMethod>();
  const plugins = deps.plugins ?? new Set([DISPENSE_NAME]);
  methods.set('Control.Ping', { handle: () => EMPTY_REPLY });
  methods.set('Control.Quit', { handle: () => EMPTY_REPLY, afterReply: () => deps.quit() });
  methods.set('Dispenser.Dispense', {
    handle: (body) => {
      if (typeof body !== 'string' || !plugins.has(body)) {
        // go-plugin's message (rpc_server.go); Argo asks for RpcTrafficRouterPlugin or RpcMetricProviderPlugin.
        throw new Error(`unknown plugin type: ${typeof body === 'string' ? body : JSON.stringify(String(body))}`);
      }
      return { kind: 'uint', value: deps.brokerIds.next(body) };
    },
  });
  return methods;
}
