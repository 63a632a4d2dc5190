/**
 * @ovs/trace: the call path of one operation through the stack, recorded
 * as it runs (span / traceRecord), shown as an indented tree
 * (formatTraceTree) or a sequence diagram page (renderTraceHtml).
 */
export {
  TRACE_LAYERS,
  type Trace,
  type TraceLayer,
  type TraceNode,
  type TraceNodeKind,
  TraceFormatError,
  currentLayer,
  errorText,
  parseTrace,
  span,
  spanSync,
  traceAdd,
  traceNote,
  traceRecord,
  tracing,
} from './trace.js';
export { type TreeOptions, formatTraceTree, nodeLabel } from './tree.js';
export { renderTraceHtml } from './html.js';
