// Go-style durations ("5m", "90s", "1m30s", "1.5h"), as Argo's own fields (`interval`, `initialDelay`) are
// written, so an AnalysisTemplate reads the same everywhere. The grammar is Go's time.ParseDuration without the
// sign: a sequence of decimal numbers, each with a unit (ns, us, µs, ms, s, m, h); "0" alone is allowed.

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  'µs': 1e-6,
  'μs': 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Seconds in `text`, or undefined when it is not a non-negative Go duration. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  let seconds = 0;
  PART.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const m = PART.exec(text);
    if (!m) return undefined;
    seconds += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    at = PART.lastIndex;
  }
  // Rounded to the millisecond: "0.1s" * 3 must not become 0.30000000000000004 s in a message.
  return Number.isFinite(seconds) ? Math.round(seconds * 1000) / 1000 : undefined;
}

/** A duration as a message shows it: "5m", "2m30s", "45s", "1h". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round((seconds % 60) * 1000) / 1000;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}
