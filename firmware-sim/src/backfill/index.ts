export { backfillProgressLine, backfillSummaryLine } from './format';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  type HistoryFormat,
  type HistoryMessage,
  type HistorySelection,
  type HistorySource,
  historyMessages,
  historySources,
  loadHistorySources,
  readingTimes,
  SENML_MAX_RECORDS,
} from './history';
export {
  type BackfillDeviceSummary,
  type BackfillOptions,
  type BackfillProgress,
  type BackfillResult,
  connectBackfillClient,
  countBackfillReadings,
  publishBackfill,
} from './publish';
