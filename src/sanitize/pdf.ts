/** Placeholder until this kind has a cleaner: refuse rather than pass it on uncleaned. */
import { UnsupportedType } from '../errors.ts';
import type { Cleaner } from './types.ts';

export const cleanPdf: Cleaner = async (_input, sniffed) => {
  throw new UnsupportedType({ type: sniffed.ext });
};
