/**
 * The libraries only profiles use (a YAML parser that keeps line and column, and zod with its JSON
 * Schema export), bundled into a file of their own (dist/profile-libraries.js, see esbuild.js) and
 * loaded when a profile is first read: a window without a profile never parses them.
 */
export { z } from 'zod';
export { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, stringify } from 'yaml';
export type { Document, Node as YamlNode, Pair } from 'yaml';
