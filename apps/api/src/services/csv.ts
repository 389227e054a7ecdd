import { METRICS, type MetricId } from '@cnx/domain';
import { stringify } from 'csv-stringify/sync';

/**
 * The exports' CSV (issue 14; docs/api.md, Exports): RFC 4180 written by csv-stringify, CRLF line
 * ends, fields quoted only when they hold a comma, quote or line end. No comment lines: the first line
 * is the header and every other line a record, so the file opens as it is in any spreadsheet or CSV
 * reader; the licence travels in the HTTP headers (Link rel=license, X-Data-Licence,
 * X-Data-Attribution), the other formats' meta and GET /v1/meta.
 */
const CSV_OPTIONS = { record_delimiter: 'windows', eof: true } as const;

/** A field of a CSV line: empty when there is no value. */
export type CsvField = string | number;

/** One CSV line (the header or a record), CRLF-terminated. */
export function csvLine(fields: readonly CsvField[]): string {
  return stringify([fields], CSV_OPTIONS);
}

/** A number or an empty field. */
export const csvNumber = (v: number | undefined): number | '' => (v === undefined ? '' : v);

/**
 * CSV column names carry the unit (issue 14: `pm25_ugm3`), from the registry's canonical unit, so a
 * spreadsheet or pandas user reads the unit where the number is. One entry per unit of the registry.
 */
const UNIT_SLUGS: Record<string, string> = {
  'ug/m3': 'ugm3',
  Cel: 'degc',
  '%RH': 'pct',
  m: 'm',
  'mg/L': 'mgl',
  pH: '',
  NTU: 'ntu',
  'uS/cm': 'uscm',
  '%EL': 'pct',
};

/** `pm25_ugm3`, `temperature_degc`, `ph` (pH has no unit); `pm25_corrected_ugm3` for corrected. */
export function csvColumn(metric: MetricId, suffix = ''): string {
  const slug = UNIT_SLUGS[METRICS[metric].unit];
  return `${metric}${suffix}${slug ? `_${slug}` : ''}`;
}
