// Public surface of the yamux server: import from here.
export { YamuxSession, resolveYamuxOptions, type YamuxSessionOptions, type YamuxSessionEvents, type YamuxLogger } from './session.js';
export { YamuxStream, StreamState } from './stream.js';
export { FrameDecoder, type FrameHandler } from './decoder.js';
export * from './errors.js';
export * from './frame.js';
