// encoding/gob for the go-plugin netrpc layer: a generic streaming decoder and a fixed-shape encoder.
export { GobDecoder, DEFAULT_MAX_DEPTH, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_TYPES } from './decoder.js';
export type { GobDecoderOptions } from './decoder.js';
export {
  GobEncoder,
  EMPTY_STRUCT_TYPE,
  REQUEST_TYPE,
  RESPONSE_TYPE,
  RPC_ERROR_TYPE,
  VERIFY_WEIGHT_RESPONSE_TYPE,
} from './encoder.js';
export type { GobEncType, GobEncValue, GobEncoderOptions, GobScalarKind, GobStructType, RpcHeader } from './encoder.js';
export { GobError } from './errors.js';
export { GobTime, parseGoTime } from './time.js';
export { GOB_TYPE_NAME, GobComplex, GobInterface, GobOpaque, gobTypeName, isGobStruct } from './values.js';
export type { GobStruct, GobValue } from './values.js';
