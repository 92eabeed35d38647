// encoding/gob for the go-plugin netrpc layer: a generic streaming decoder and a fixed-shape encoder.
// One GobDecoder and one GobEncoder per yamux stream (type tables live as long as the stream):
//
//   const dec = new GobDecoder();               // stream.on('data', (c) => { dec.feed(c); drain(); })
//   for (let v = dec.next(); v !== undefined; v = dec.next()) { ...header, then body, then header... }
//   const enc = new GobEncoder();
//   write(Buffer.concat([enc.encodeResponse({ ServiceMethod, Seq, Error }), enc.encodeRpcError('')]));
//
// A GobError from either means the stream's gob state is unknown: close the whole session.
export { GobDecoder, DEFAULT_MAX_DEPTH, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_TYPES } from './decoder.js';
export type { GobDecoderOptions } from './decoder.js';
export {
  GobEncoder,
  EMPTY_STRUCT_TYPE,
  MEASUREMENT_TYPE,
  REQUEST_TYPE,
  RESPONSE_TYPE,
  RPC_ERROR_TYPE,
  STRING_MAP_TYPE,
  VERIFY_WEIGHT_RESPONSE_TYPE,
} from './encoder.js';
export type { GobEncType, GobEncValue, GobEncoderOptions, GobMapType, GobScalarKind, GobStructType, GoMeasurement, RpcHeader } from './encoder.js';
export { GobError } from './errors.js';
export { GobTime, goTimeBinary, parseGoTime } from './time.js';
export { GOB_TYPE_NAME, GobComplex, GobInterface, GobOpaque, gobTypeName, isGobStruct } from './values.js';
export type { GobStruct, GobValue } from './values.js';
