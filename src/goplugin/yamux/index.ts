// Public surface of the yamux server (hashicorp/yamux v0.1.2 wire format, server side). Import from here.
//
//   const session = new YamuxSession(socket, { keepaliveIntervalMs: 30_000, logger });
//   session.on('stream', (stream) => { ... });   // every stream the client opens, already ACKed
//   session.on('close', (error) => { ... });     // once; undefined error = clean end
//   session.close(error?);                       // GoAway(0 | error's code | 2) and close the socket
//
// A YamuxStream is a Node Duplex: read what the peer sends (window credit is returned as you consume,
// so a paused reader stops the peer after one window), write replies (cut to the peer's window; the
// write callback waits for the socket), `end()` sends FIN, `reset()` sends RST. The peer's FIN ends the
// Readable; answer it with `end()` to finish the stream. A reset by the peer or the end of the session
// destroys the stream with a StreamResetError / SessionClosedError: delivered to 'error' listeners if
// there are any, always kept in `stream.terminationReason`, never an uncaught exception.
//
// Protocol violations (bad header, wrong-parity, duplicate, reused or never-opened stream ids, data
// beyond the granted window, FIN twice, data after FIN) close the whole session with GoAway(1).
// Frames for streams that were open once and are finished now are discarded, as Go does.

export { YamuxSession, resolveYamuxOptions, type YamuxSessionOptions, type YamuxSessionEvents, type YamuxLogger } from './session.js';
export { YamuxStream, StreamState } from './stream.js';
export { FrameDecoder, type FrameHandler } from './decoder.js';
export * from './errors.js';
export * from './frame.js';
