// The two services go-plugin serves on the control stream (rpc_server.go): Control (Ping, Quit) and
// Dispenser (Dispense). Ping must never wait for anything: Argo calls it under its global plugin mutex.

import type { BrokerIds } from './broker.js';
import { EMPTY_REPLY } from './netrpc/reply.js';
import type { MethodTable, RpcMethod } from './netrpc/server.js';

/** The one plugin name Argo dispenses (rollout/trafficrouting/plugin/client/client.go). */
export const DISPENSE_NAME = 'RpcTrafficRouterPlugin';

export interface ControlDeps {
  brokerIds: BrokerIds;
  /** Ends the session after the Quit reply has been written (the handshake child then exits). */
  quit(): void;
}

export function controlMethods(deps: ControlDeps): MethodTable {
  const methods = new Map<string, RpcMethod>();
  methods.set('Control.Ping', { handle: () => EMPTY_REPLY });
  methods.set('Control.Quit', { handle: () => EMPTY_REPLY, afterReply: () => deps.quit() });
  methods.set('Dispenser.Dispense', {
    handle: (body) => {
      if (body !== DISPENSE_NAME) {
        // go-plugin's message; Argo only ever asks for RpcTrafficRouterPlugin.
        throw new Error(`unknown plugin type: ${typeof body === 'string' ? body : JSON.stringify(String(body))}`);
      }
      return { kind: 'uint', value: deps.brokerIds.next() };
    },
  });
  return methods;
}
