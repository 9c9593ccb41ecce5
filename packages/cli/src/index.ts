export { main } from './main.js';
export {
  ExitCode,
  jsonReplacer,
  type OutputOptions,
  parseNumber,
  printJson,
  reportError,
  UsageError,
} from './output.js';
export { createProgram } from './program.js';
