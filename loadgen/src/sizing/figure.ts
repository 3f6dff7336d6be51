/**
 * A number the sizing prints, and where it came from: a report's field (with the report), a flag, a named parameter,
 * or a formula over such numbers. Nothing in the sizing is a number without one.
 */
export interface Figure {
  value: number;
  from: string;
}

export const figure = (value: number, from: string): Figure => ({ value, from });

/** A report the sizing read: which one, the file, when it was measured, and the command that writes it again. */
export interface ReportSource {
  report: string;
  file: string;
  measuredAt: string;
  command: string;
}

/**
 * The sizing cannot go on from what it was given: a report missing or without a figure it needs, a figure that
 * makes no sense (a bench that confirmed no booking), a bad flag. The message says what to do; the command line
 * exits 2 with it.
 */
export class SizingInputError extends Error {}

/** A ratio of two measured figures, refused when the denominator is not there: never a silent zero or Infinity. */
export function ratio(numerator: Figure, denominator: Figure, from: string): Figure {
  if (!(denominator.value > 0) || !Number.isFinite(numerator.value))
    throw new SizingInputError(
      `cannot work out ${from}: ${denominator.from} is ${denominator.value} (and ${numerator.from} is ${numerator.value})`,
    );
  return figure(numerator.value / denominator.value, from);
}
