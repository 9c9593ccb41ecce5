/** GenApi nodes by family; the node map (../nodemap.ts) builds them from the XML. */
export {
  type Cachable,
  type Ctx,
  type Endianness,
  type Engine,
  FLOAT_MAX,
  FloatLike,
  GNode,
  INT64_MAX,
  INT64_MIN,
  MAX_REFERENCE_DEPTH,
  NODE_TYPES,
  type NodeInterface,
  type NodeType,
  type Prop,
  parseFloatLiteral,
  parseIntLiteral,
  publicInt,
  type RegisterRef,
  type Sign,
  type Visibility,
} from './base.js';
export { BooleanNode } from './boolean.js';
export { CategoryNode } from './category.js';
export { CommandNode } from './command.js';
export { ConverterNode, IntConverterNode } from './converter.js';
export { EnumEntryNode, EnumerationNode } from './enumeration.js';
export { FloatNode } from './float.js';
export { IntegerNode } from './integer.js';
export { PortNode } from './port.js';
export {
  FloatRegNode,
  IntRegNode,
  MaskedIntRegNode,
  RawRegisterNode,
  RegisterNode,
  StringRegNode,
} from './register.js';
export { StringNode } from './string.js';
export { IntSwissKnifeNode, SwissKnifeNode } from './swiss-knife.js';
