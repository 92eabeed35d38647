/**
 * Every failure to decode or encode gob. A stream that produced one cannot be trusted any more (its type
 * table may be half-updated), so callers tear the whole session down instead of skipping the message.
 */
export class GobError extends Error {
  override readonly name = 'GobError';

  constructor(
    message: string,
    /** Byte offset in the stream (counted from the first byte fed) where the problem was found. */
    readonly offset?: number,
    options?: { cause?: unknown },
  ) {
    super(offset === undefined ? `gob: ${message}` : `gob: ${message} (at stream byte ${offset})`, options);
  }
}
