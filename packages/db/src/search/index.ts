export { allOf, type CompareOp, type Expr, type FieldRef, type Literal, type RunColumn } from './ast.js';
export { compileSearch } from './compile.js';
export { SearchSyntaxError } from './errors.js';
export { parseSearch } from './parser.js';
export { MAX_EXPRESSION_LENGTH, tokenize } from './tokens.js';
