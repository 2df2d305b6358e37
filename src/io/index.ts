// Public API of bnlab's io layer: safetensors in and out, ONNX export, weights-file inspection, and their file edges.
export { WeightsFileError, ExportError } from './errors.js';
export { encodeSafetensors, decodeSafetensors, SAFETENSORS_DTYPES, MAX_HEADER_BYTES } from './safetensors.js';
export type { SafetensorsDtype, DecodedSafetensors } from './safetensors.js';
export { saveSafetensors, loadSafetensors, loadWeights } from './safetensors-file.js';
export { exportOnnx, ONNX_EXPORTABLE } from './onnx.js';
export type { OnnxExportOptions } from './onnx.js';
export { saveOnnx } from './onnx-file.js';
export { inspectSafetensors, inspectOnnx, bnSummary, GAMMA_NEAR_ZERO, VAR_NEAR_ZERO } from './inspect.js';
export type { Inspection, BnSummary, TensorSummary } from './inspect.js';
