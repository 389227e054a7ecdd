/**
 * @cnx/device-models: Modbus register maps as data (maps/<id>.json, one per device model) and the
 * pure codec that reads and writes them. Adding a vendor's probe = adding a JSON file; see
 * docs/modbus.md.
 *
 *   const map = loadRegisterMap('cnx-canal-probe-v1');
 *   for (const block of planReads(map)) {
 *     const words = await client.readHoldingRegisters(block.address, block.length); // fn 3 or 4 per block.fn
 *     Object.assign(values, decodeBlock(block, words.data));
 *   }
 */
export {
  decodeBlock,
  decodeRaw,
  decodeStatus,
  decodeValue,
  effectiveWordOrder,
  encodeRaw,
  encodeStatus,
  encodeValue,
  registerWidth,
  scaleRaw,
  unscaleValue,
} from './codec';
export { loadRegisterMap, MAPS_DIR, RegisterMapError, registerMapIds, registerMaps } from './load';
export { MAX_READ_REGISTERS, planReads } from './plan';
export { MAP_ID_PATTERN, REGISTER_NAME_PATTERN, RegisterDefSchema, RegisterMapSchema } from './schema';
export {
  REGISTER_TYPES,
  type ReadBlock,
  type ReadFunction,
  type RegisterDef,
  type RegisterMap,
  type RegisterMapIssue,
  type RegisterType,
  WORD_ORDERS,
  type WordOrder,
} from './types';
export { formatRegisterMapIssue, parseRegisterMap } from './validate';
