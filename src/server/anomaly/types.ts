import type { AuditActor, AuditRecord } from './audit-types.js';

/** The seed's five detectors (SECURITY.md, Advanced Security Features §1). */
export const DETECTORS = [
  'brute_force',
  'unusual_access',
  'privilege_escalation',
  'data_exfiltration',
  'velocity',
] as const;
export type DetectorName = (typeof DETECTORS)[number];

/** The seed's RecommendedAction, weakest first (the order is used to tell an escalation). */
export const RECOMMENDED_ACTIONS = ['Monitor', 'Alert', 'RequireMFA', 'Block', 'RevokeAccess'] as const;
export type RecommendedAction = (typeof RECOMMENDED_ACTIONS)[number];

export const actionRank = (action: RecommendedAction): number => RECOMMENDED_ACTIONS.indexOf(action);

/**
 * What a detector reports about one record. `subject` names what the finding is about inside
 * the tenant (an address, an account, an actor): repeated findings on one subject are folded.
 * Evidence holds counts, windows and baselines only: never a credential, a payload or a password.
 */
export interface Detection {
  detector: DetectorName;
  subject: string;
  /** 0..1. */
  score: number;
  action: RecommendedAction;
  evidence: Record<string, unknown>;
}

/**
 * A detector: a function of the record stream and its own learned state. No I/O: its state is
 * in memory, bounded, and (for the learned baselines) handed to a BaselineStore to persist.
 */
export interface Detector {
  readonly name: DetectorName;
  observe(record: AuditRecord, at: number): Detection[];
}

/** A stored finding, as GET /api/v1/security/anomalies shows it. */
export interface Anomaly {
  id: string;
  tenant_id: string;
  detector: DetectorName;
  score: number;
  recommended_action: RecommendedAction;
  actor: AuditActor;
  evidence: Record<string, unknown>;
  /** The audit record that tipped the detector over. */
  record_id: string | null;
  created_at: string;
  status: 'open' | 'resolved';
  resolved_at: string | null;
  resolved_by: string | null;
  /** What enforcement did about it (only when enforcement is on and the action is Block or RevokeAccess). */
  enforcement: EnforcementOutcome | null;
}

export type EnforcementKind = 'block_ip' | 'revoke_api_key' | 'revoke_sessions';

export type EnforcementOutcome =
  | { status: 'applied'; action_id: string; kind: EnforcementKind; target: string; expires_at: string | null }
  | { status: 'skipped'; reason: string };

/** An enforcement step as the API lists it; reversing it is DELETE .../actions/:id. */
export interface EnforcementAction {
  id: string;
  tenant_id: string;
  anomaly_id: string;
  kind: EnforcementKind;
  target: string;
  created_at: string;
  expires_at: string | null;
  reversed_at: string | null;
  reversed_by: string | null;
  active: boolean;
}

/** Scores are kept to three decimals, so that 0.14 × 5 is the 0.7 it means and not 0.7000000000000001. */
export const roundScore = (score: number): number => Math.round(Math.min(1, Math.max(0, score)) * 1000) / 1000;
