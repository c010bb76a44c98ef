import type { QuotaValues } from '../model/quotas.js';
import type { ArnScope } from '../model/ids.js';
import type { Store, StoreReader, StoreTransaction, TargetHealthRecord } from '../store/store.js';
import type { UsageAccess } from './usage.js';

/** Who is calling: the authenticated principal of a control-plane request. */
export interface Caller {
  accountId: string;
  /** ARN of the principal (user, root, or assumed-role session). */
  principalArn: string;
  accessKeyId: string;
}

/** What every manager operation needs besides its input. */
export interface ManagerContext {
  readonly partition: string;
  readonly region: string;
  readonly quotas: QuotaValues;
  /** The default account of this installation; its root may manage other accounts. */
  readonly operatorAccountId: string;
  /** Current time as an ISO-8601 string (injectable for tests). */
  now(): string;
  /** Target health the data plane reports (ListTargets); absent → statuses are derived only. */
  readonly targetHealth?: TargetHealthAccess;
  /** Metered usage and the price list (GetUsage); absent → GetUsage answers that it is off. */
  readonly usage?: UsageAccess;
}

/**
 * The store's target-health side table as managers see it (spec §1.5 Targets). `forget` must not
 * wait for the write: it is queued behind the running transaction and applied after it ends.
 */
export interface TargetHealthAccess {
  get(targetGroupId: string): Promise<TargetHealthRecord[]>;
  forget(targetGroupId: string, targetId?: string, port?: number): void;
}

/** One operation call: the caller, and the store view it runs on. */
export interface OperationScope {
  readonly ctx: ManagerContext;
  readonly caller: Caller;
  /** Reads see the transaction's own writes for write operations. */
  readonly reader: StoreReader;
}

/** A write operation runs inside one store transaction. */
export interface WriteScope extends OperationScope {
  readonly tx: StoreTransaction;
}

/** The ARN scope resources created by this caller get. */
export function arnScope(scope: OperationScope): ArnScope {
  return {
    partition: scope.ctx.partition,
    region: scope.ctx.region,
    accountId: scope.caller.accountId,
  };
}

/**
 * The part of the store the API edge may use: transactions and reads. The API reaches the store
 * only through the manager room (DESIGN.md arrows), so it names the store by this type.
 */
export type ControlPlaneStore = Pick<Store, 'transact' | 'reader' | 'currentRevision' | 'watch'>;
export type { StoreReader };
