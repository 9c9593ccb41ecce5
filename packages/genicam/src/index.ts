export { CHUNK_TAG_SIZE, type Chunk, decodeChunks, encodeChunks, encodedLengthChunks, MAX_CHUNKS } from './chunk.js';
export * from './errors.js';
export {
  type CompiledFormula,
  compileAst,
  compileFormula,
  type FormulaMode,
  type FormulaValue,
} from './formula/compile.js';
export {
  BINARY_OPERATORS,
  type BinaryOperator,
  type FormulaNode,
  FUNCTIONS,
  type FunctionName,
  formulaIdentifiers,
  MAX_FORMULA_DEPTH,
  MAX_FORMULA_LENGTH,
  parseFormula,
  printFormula,
  UNARY_OPERATORS,
  type UnaryOperator,
} from './formula/parse.js';
export {
  type CacheStats,
  type DanglingReference,
  type EnumEntryDescription,
  type FeatureDescription,
  type FeatureEntry,
  type FeatureInput,
  type FeatureReading,
  type FeatureValue,
  NodeMap,
  type NodeMapOptions,
  type SchemaVersion,
} from './nodemap.js';
export {
  type Cachable,
  type Endianness,
  NODE_TYPES,
  type NodeInterface,
  type NodeType,
  type Sign,
  type Visibility,
} from './nodes/index.js';
export {
  MemoryPort,
  type Port,
  type PortAccess,
  type PortAccessOptions,
  portFromRegisterAccess,
  type RegisterMemoryAccess,
} from './port.js';
export { MAX_XML_ELEMENTS, MAX_XML_LENGTH, parseXml, type XmlElement } from './xml/tree.js';
