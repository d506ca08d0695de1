/**
 * sharp, loaded the first time a picture is cleaned. Loading libvips puts ~26 MiB into the intake's
 * resident memory for good, and notes and videos, most tips, never use it: loaded at start, it took
 * that much of the headroom under the 256 MiB the intake must stay below during twenty concurrent
 * uploads (BENCHMARKS.md, round 11).
 */
import type sharpType from 'sharp';

type Sharp = typeof sharpType;
let loading: Promise<Sharp> | undefined;

export function loadSharp(): Promise<Sharp> {
  loading ??= import('sharp').then((m) => m.default);
  return loading;
}
