// The file edge of ONNX export (Node only): write a model's inference graph to a .onnx file.
import { writeFileSync } from 'node:fs';
import type { Module } from '../nn/module.js';
import { WeightsFileError } from './errors.js';
import { exportOnnx, type OnnxExportOptions } from './onnx.js';

/** exportOnnx(model, opts) written to `path`; returns the number of bytes written. */
export function saveOnnx(model: Module, path: string, opts: OnnxExportOptions): number {
  const bytes = exportOnnx(model, opts);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new WeightsFileError(path, `cannot be written (${(e as Error).message})`);
  }
  return bytes.length;
}
