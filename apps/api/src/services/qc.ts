import { QC_POLICY } from '@cnx/domain';
import { type QcFilter, type QcMode, USABLE_QC } from '@cnx/store';

/**
 * The API's `qc` parameter: the store's modes plus `usable`, the quality policy of @cnx/domain
 * (qc/policy.ts, docs/qc.md): readings with an excluding flag are left out, `humidity` stays in.
 */
export type ApiQcMode = QcMode | 'usable';

export function qcFilter(mode: ApiQcMode): QcFilter {
  const excluding = QC_POLICY.series.exclude;
  // The same filter the rollups are built with (@cnx/store rollup.ts).
  if (mode === 'usable') return USABLE_QC;
  // Every reading, with `flagged` counting the ones the policy would leave out (not humidity).
  if (mode === 'include') return { mode, flags: excluding };
  return { mode };
}
