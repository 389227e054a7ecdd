import { QC_POLICY } from '@cnx/domain';
import type { QcFilter, QcMode } from '@cnx/store';

/**
 * The API's `qc` parameter: the store's modes plus `usable`, the quality policy of @cnx/domain
 * (qc/policy.ts, docs/qc.md): readings with an excluding flag are left out, `humidity` stays in.
 */
export type ApiQcMode = QcMode | 'usable';

export function qcFilter(mode: ApiQcMode): QcFilter {
  return mode === 'usable' ? { mode: 'exclude-flagged', flags: QC_POLICY.series.exclude } : { mode };
}
