// The file edge of safetensors (Node only): save a state dict or a model's weights to disk, load them back.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { WeightsFileError } from './errors.js';
import { decodeSafetensors, encodeSafetensors, type DecodedSafetensors } from './safetensors.js';

/**
 * Writes a state dict (or a module's stateDict()) as a .safetensors file that PyTorch loads with
 * `load_state_dict(safetensors.torch.load_file(path), strict=True)`. See encodeSafetensors for the layout.
 */
export function saveSafetensors(stateDict: Record<string, Tensor> | Module, path: string, metadata?: Record<string, string>): void {
  const sd = stateDict instanceof Module ? stateDict.stateDict() : stateDict;
  const bytes = encodeSafetensors(sd, metadata);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new WeightsFileError(path, `cannot be written (${(e as Error).message})`);
  }
}

/** Reads a .safetensors file into float32 tensors; any problem is one WeightsFileError naming the file. */
export function loadSafetensors(path: string): DecodedSafetensors {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new WeightsFileError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}

/**
 * Loads a .safetensors file into a model's parameters and buffers (all or nothing; see Module.loadStateDict).
 * Returns the keys skipped with `{ strict: false }`.
 */
export function loadWeights(model: Module, path: string, opts: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
  return model.loadStateDict(loadSafetensors(path).tensors, opts);
}
