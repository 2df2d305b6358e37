// The digits asset's byte format: a few thousand MNIST digits as uint8 pixels and labels, written at build time.

/** Digits as stored: n images of 28 x 28 uint8 pixels (0..255), row-major, and their labels 0..9. */
export interface DigitsAsset {
  n: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** 8 ASCII bytes that open the file, then uint32 LE n, uint32 LE pixels per image (784). */
const MAGIC = 'BNLDIG01';
const HEADER = 16;
export const DIGIT_PIXELS = 784;

/** Layout: MAGIC, n, 784, then n labels, then n * 784 pixels. 785 bytes a digit: 3,000 digits are 2.36 MB. */
export function encodeDigits(d: DigitsAsset): Uint8Array {
  if (d.labels.length !== d.n || d.pixels.length !== d.n * DIGIT_PIXELS) {
    throw new Error(`encodeDigits: ${d.n} digits need ${d.n} labels and ${d.n * DIGIT_PIXELS} pixels, got ${d.labels.length} and ${d.pixels.length}`);
  }
  const out = new Uint8Array(HEADER + d.n * (1 + DIGIT_PIXELS));
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, d.n, true);
  view.setUint32(12, DIGIT_PIXELS, true);
  out.set(d.labels, HEADER);
  out.set(d.pixels, HEADER + d.n);
  return out;
}

/** Reads what encodeDigits wrote; a file that is not one (an HTML error page, a truncated download) says so. */
export function decodeDigits(buf: ArrayBuffer): DigitsAsset {
  const bytes = new Uint8Array(buf);
  const magic = String.fromCharCode(...bytes.subarray(0, MAGIC.length));
  if (bytes.length < HEADER || magic !== MAGIC) {
    throw new Error(`the digits asset is not a bnlab digits file (${bytes.length} bytes, starts with ${JSON.stringify(magic)}, expected ` +
      `${MAGIC}); rebuild with npm run build:web`);
  }
  const view = new DataView(buf);
  const n = view.getUint32(8, true);
  const px = view.getUint32(12, true);
  if (px !== DIGIT_PIXELS || bytes.length !== HEADER + n * (1 + px)) {
    throw new Error(`the digits asset is truncated or corrupt: ${bytes.length} bytes for ${n} digits of ${px} pixels (expected ` +
      `${HEADER + n * (1 + DIGIT_PIXELS)})`);
  }
  return { n, labels: bytes.slice(HEADER, HEADER + n), pixels: bytes.slice(HEADER + n) };
}
