// Which request budget an AWS call is charged to. Calls made inside `inBudget(name, work)` (the HTTP API's
// reports) take their tokens from that budget's own bucket (retrying-send.ts), so on-demand checks through the
// API never spend the tokens Argo's VerifyWeight and SetWeight need, however often they are asked for. The lane
// follows the work's async context (AsyncLocalStorage): a shared request started by the API is charged to it; one
// it merely joins costs nothing.
import { AsyncLocalStorage } from 'node:async_hooks';

const lane = new AsyncLocalStorage<string>();

export function inBudget<T>(name: string, work: () => Promise<T>): Promise<T> {
  return lane.run(name, work);
}

/** The budget the current async context charges AWS calls to; undefined: the client's own. */
export function currentBudget(): string | undefined {
  return lane.getStore();
}

/** The budget of the HTTP API's reports. */
export const API_BUDGET = 'api';
