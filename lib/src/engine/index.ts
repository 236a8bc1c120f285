/**
 * Inference engines: the tfjs forward pass and the same network exported to ONNX and run in
 * onnxruntime-node (an optional dependency). See engine.ts for how one is chosen.
 *
 * | file           | job                                                        |
 * |----------------|------------------------------------------------------------|
 * | trace.ts       | record the tfjs kernels of one forward pass                |
 * | onnxExport.ts  | write that trace as an ONNX model (onnx-proto)             |
 * | onnxRuntime.ts | load onnxruntime-node if installed; a synchronous session  |
 * | specs.ts       | the named inputs and forward pass of each exportable net   |
 * | engine.ts      | the Engine interface, the tfjs and onnx engines, the choice |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export { traceKernels } from "./trace";
export type { KernelTrace, TracedKernel, TracedValue } from "./trace";
export { traceToOnnx, ONNX_OPSET } from "./onnxExport";
export { OrtSession, loadOrt, ortUnavailableReason, liveOrtSessions, ORT_THREADS_ENV } from "./onnxRuntime";
export { netSpec } from "./specs";
export type { NetSpec, InputSpec, ExportableNet } from "./specs";
export {
  tfjsEngine, onnxEngine, exportOnnx, netForward, unetApply, mlpApply, forcedEngine, describeEngine, releaseEngineSessions, lastEngineChoice,
  ENGINE_ENV, TRACE_BATCH, MAX_CACHED_SESSIONS,
} from "./engine";
export type { EngineName, Engine, CompiledNet } from "./engine";
