import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { canonicalRecord, chainHash, checkpointMessage, GENESIS_HASH } from './chain.js';
import { toCheckpoint } from './checkpoints.js';
import { hashText, toRecord } from './rows.js';
import type { CheckpointSigner } from './signer.js';
import type { AuditStatements } from './statements.js';
import type { TenantNumbers } from './tenant-numbers.js';
import type { Checkpoint, VerifyResult } from './types.js';

const PAGE = 2000;

export interface VerifyDependencies {
  statements: AuditStatements;
  tenantNumbers: TenantNumbers;
  signer: CheckpointSigner;
  checkpointFile: string;
}

/** The tenant's checkpoints from the file beside the database, read line by line. */
async function fileCheckpoints(file: string, tenantId: string): Promise<Checkpoint[]> {
  if (!existsSync(file)) return [];
  const found: Checkpoint[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as Checkpoint;
      if (value.tenant_id === tenantId) found.push(value);
    } catch {
      // A torn last line (a crash mid-append) proves nothing either way.
    }
  }
  return found;
}

/**
 * Walks the tenant's chain from its first record: each must have the next sequence number and
 * a hash that matches its content chained onto the previous record's hash. Every signed checkpoint (database
 * and file) must carry a good signature and name a head the chain really had: that is what
 * catches a chain recomputed after an edit, and a tail cut off after the last checkpoint was signed.
 * Records newer than the last checkpoint are protected by the chain alone.
 */
export async function verifyTenant(deps: VerifyDependencies, tenantId: string): Promise<VerifyResult> {
  const checkpoints = [
    ...deps.statements.checkpointsOf.all(tenantId).map(toCheckpoint),
    ...(await fileCheckpoints(deps.checkpointFile, tenantId)),
  ];
  const bySeq = new Map<number, Checkpoint[]>();
  for (const checkpoint of checkpoints) {
    if (!deps.signer.verify(checkpoint.key_id, checkpointMessage(checkpoint), checkpoint.signature)) {
      return {
        valid: false,
        checked: 0,
        checkpoints_checked: checkpoints.length,
        first_bad: Number(checkpoint.seq) || 0,
        reason: `the checkpoint at record ${checkpoint.seq} does not carry a valid signature`,
      };
    }
    bySeq.set(checkpoint.seq, [...(bySeq.get(checkpoint.seq) ?? []), checkpoint]);
  }

  let expected = 1;
  let prevHash = GENESIS_HASH;
  let lastGoodCheckpoint = 0;
  let checked = 0;
  const fail = (firstBad: number, reason: string): VerifyResult => ({
    valid: false,
    checked,
    checkpoints_checked: checkpoints.length,
    first_bad: firstBad,
    reason,
  });
  // A tenant without a number has no records (checkpoints that claim some still fail below).
  const tenantNo = deps.tenantNumbers.find(tenantId);
  for (;;) {
    if (tenantNo === undefined) break;
    const rows = deps.statements.chainPage.all(tenantNo, expected - 1, tenantNo, PAGE);
    for (const row of rows) {
      checked += 1;
      if (row.seq !== expected) {
        return row.seq > expected
          ? fail(expected, `record ${expected} is missing`)
          : fail(row.seq, `record ${row.seq} does not belong in the chain`);
      }
      if (row.tenant_id !== tenantId) return fail(row.seq, `record ${row.seq} names another tenant`);
      // Chained onto the hash stored in the record before it: an edit there shows here too.
      const stored = hashText(row.hash);
      if (chainHash(prevHash, canonicalRecord(toRecord(row), row.metadata)) !== stored) {
        return fail(
          row.seq,
          `record ${row.seq} was changed after it was written, or does not follow record ${row.seq - 1}`,
        );
      }
      for (const checkpoint of bySeq.get(row.seq) ?? []) {
        if (checkpoint.head_hash !== stored) {
          return fail(
            lastGoodCheckpoint + 1,
            `the records after ${lastGoodCheckpoint} do not match the signed checkpoint at record ${row.seq}`,
          );
        }
        lastGoodCheckpoint = row.seq;
      }
      prevHash = stored;
      expected += 1;
    }
    if (rows.length < PAGE) break;
    // Long chains: let requests in between pages (new records only extend the chain).
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const newest = checkpoints.reduce((max, checkpoint) => Math.max(max, checkpoint.seq), 0);
  if (newest >= expected) {
    return fail(expected, `records ${expected} to ${newest} are missing, though a signed checkpoint covers them`);
  }
  return { valid: true, checked, checkpoints_checked: checkpoints.length };
}
