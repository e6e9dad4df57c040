/**
 * The paper's own figures (Li, Pefkianakis, Lu et al., UBICOMM 2011, section VI: Table I and
 * Figures 4 and 5), for the side-by-side table. `null` where the number has not been transcribed:
 * the PDF was not at hand when the bench was written, and a made-up number is worse than none.
 * Fill these in from the paper; the report and plots pick them up.
 */
export const PAPER_TABLE1_TOTAL_S: Record<string, number | null> = {
  'WLAN only': null,
  '3G only': null,
  'WLAN→WLAN': null,
  'WLAN→3G': null,
  '3G→WLAN': null,
};

/** Migration delay (ms) per scenario, as the paper reports it. */
export const PAPER_MIGRATION_DELAY_MS: Record<string, number | null> = {
  'WLAN→WLAN': null,
  'WLAN→3G': null,
  '3G→WLAN': null,
};

/** Figure 4: device bandwidth (kbit/s) → migration delay (ms), 100 background connections. */
export const PAPER_FIG4: [number, number][] = [];
/** Figure 5: concurrent connections → migration delay (ms). */
export const PAPER_FIG5: [number, number][] = [];
