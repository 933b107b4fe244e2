/** The scale benchmark's targets (issue 12), apart so that the report and charts load no benchmark code. */

/** Wall time of N terminals / one terminal, at most, at `terminals` (issue 12). */
export interface ScaleTarget {
  terminals: number;
  ratio: number;
  /** Peak RSS of the daemon at that size, MiB, at most. */
  peakRssMiB?: number;
}

export const SCALE_TARGETS: Record<'pty' | 'tcp', ScaleTarget> = {
  pty: { terminals: 64, ratio: 1.1 },
  tcp: { terminals: 256, ratio: 1.25, peakRssMiB: 150 },
};
