// Decides whether an event is news. Argo's built-in router records an event on every check, so a Rollout
// waiting at a step collects hundreds of identical `TargetGroupUnverified` lines (ours: ALBPluginWeightUnverified); here an event is emitted
// only when the state it reports changes. State is kept per Rollout (by uid, so a re-created Rollout starts
// fresh), per topic: a topic is a group of reasons that describe the same thing, plus a subject.

import type { RolloutEvent } from '../plugin/hooks.js';
import {
  REASON_LOAD_BALANCER_NOT_FOUND,
  REASON_TARGETS_VERIFY_ERROR,
  REASON_WEIGHT_UNVERIFIED,
  REASON_WEIGHT_VERIFIED,
  REASON_WEIGHT_VERIFY_ERROR,
} from './reasons.js';

/** An event may name its subject (a Service, an Ingress); otherwise it is read from Argo's message formats. */
export interface SinkEvent extends RolloutEvent {
  subject?: string;
}

/** Reasons that are verdicts of the same weight check: one replaces the other. */
export const VERIFICATION_REASONS: ReadonlySet<string> = new Set([
  REASON_WEIGHT_VERIFIED,
  REASON_WEIGHT_UNVERIFIED,
  REASON_TARGETS_VERIFY_ERROR,
  REASON_WEIGHT_VERIFY_ERROR,
  REASON_LOAD_BALANCER_NOT_FOUND,
]);

/** Subject of verdicts about the whole check (LB missing, API failed) rather than one target group. */
export const WHOLE_CHECK = '*';

export interface Topic {
  group: string;
  subject: string;
}

export function topicOf(event: SinkEvent): Topic {
  const group = VERIFICATION_REASONS.has(event.reason) ? 'verification' : event.reason;
  if (event.subject !== undefined) return { group, subject: event.subject };
  // `Service <svc> (TargetGroup <arn>) ...` (weight verdicts)
  const service = /^(?:Failed to verify )?Service (\S+) /.exec(event.message);
  if (service) return { group, subject: `service/${service[1]}` };
  // ``Updating Ingress `<name>` to desiredWeight '<w>'`` (ALBPluginIngressPatched)
  const ingress = /Ingress `([^`]+)`/.exec(event.message);
  if (ingress) return { group, subject: `ingress/${ingress[1]}` };
  return { group, subject: WHOLE_CHECK };
}

interface Seen {
  type: string;
  reason: string;
  message: string;
}

export interface DeduperOptions {
  /** Rollouts remembered at most; the least recently active is forgotten first. */
  maxRollouts?: number;
}

export class EventDeduper {
  private readonly state = new Map<string, Map<string, Seen>>();
  private readonly maxRollouts: number;

  constructor(opts: DeduperOptions = {}) {
    this.maxRollouts = opts.maxRollouts ?? 10_000;
  }

  /**
   * Records the event as the current state of its topic and says whether it differs from the previous one.
   * A verdict about one target group also ends a whole-check verdict (the check got that far) and a
   * whole-check verdict ends every per-target-group one, so "LB not found → verified → LB not found"
   * yields three events.
   */
  admit(rolloutKey: string, event: SinkEvent): boolean {
    let topics = this.state.get(rolloutKey);
    if (topics) {
      this.state.delete(rolloutKey);
    } else {
      topics = new Map();
    }
    this.state.set(rolloutKey, topics);
    this.trim();

    const { group, subject } = topicOf(event);
    const key = `${group}\u0000${subject}`;
    const prev = topics.get(key);
    const same = prev !== undefined && prev.type === event.type && prev.reason === event.reason && prev.message === event.message;
    if (same) return false;
    if (group === 'verification') {
      for (const k of [...topics.keys()]) {
        if (!k.startsWith(`${group}\u0000`) || k === key) continue;
        const otherIsWhole = k === `${group}\u0000${WHOLE_CHECK}`;
        if (subject === WHOLE_CHECK || otherIsWhole) topics.delete(k);
      }
    }
    topics.set(key, { type: event.type, reason: event.reason, message: event.message });
    return true;
  }

  /** Undoes `admit` when the event could not be delivered, so the next report retries it. */
  retract(rolloutKey: string, event: SinkEvent): void {
    const topics = this.state.get(rolloutKey);
    if (!topics) return;
    const { group, subject } = topicOf(event);
    const key = `${group}\u0000${subject}`;
    const cur = topics.get(key);
    if (cur && cur.reason === event.reason && cur.message === event.message && cur.type === event.type) topics.delete(key);
  }

  /** Drops a Rollout's state (it was deleted). */
  forget(rolloutKey: string): void {
    this.state.delete(rolloutKey);
  }

  get size(): number {
    return this.state.size;
  }

  private trim(): void {
    while (this.state.size > this.maxRollouts) {
      const oldest = this.state.keys().next().value as string;
      this.state.delete(oldest);
    }
  }
}
