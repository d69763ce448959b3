// fal's endpoint types (TypeScript) → JSON Schema, through the TypeScript compiler API.
//
// Reads the `EndpointTypeMap` of an endpoint-types file (fal's published
// `src/types/endpoints.ts`, or the `endpoints.d.ts` inside the `@fal-ai/client` package)
// and writes one JSON document on stdout:
//
//   {"types": {Name: schema}, "endpoints": {id: {"input": Name, "output": Name|null}}}
//
// where every schema is JSON Schema (2020-12) whose references point at
// `#/components/schemas/Name`. Enums come from literal unions, `default` from the
// "Default value: `…`" text fal writes into each comment, `required` from optionality.
// The output depends only on the input file: keys are sorted, nothing is timestamped.
//
// Usage: node convert.mjs ENDPOINT_TYPES_FILE > catalogue.json

import fs from "node:fs";
import { createRequire } from "node:module";

// Required, not imported: as an ESM import, Node first scans the compiler's 9 MB CommonJS
// file for module syntax and for its exports (a third of a conversion here).
const ts = createRequire(import.meta.url)("typescript");

const MAP_NAME = "EndpointTypeMap";
const DEFAULT_TEXT = /\s*Default value: `([^`]*)`\s*/;
// fal writes Pydantic's `None` default as the string "null": no default, in JSON Schema.
const NO_DEFAULT = new Set(['"null"', "null"]);
// fal's types give openrouter's OpenAI-compatible endpoints (and two realtime apps'
// outputs) `Record<string, never>`, an object with no field at all, which a chat
// completion's `model` and `messages` cannot be: likely a quirk of fal's type generator.
// Taken as an open object, any field accepted, and marked as the guess it is.
const NEVER_GUESS =
  "fal's types say Record<string, never> (no field at all), likely a quirk of their " +
  "generator: taken as an open object, any field accepted (a guess of provider-emulator's)";
const OPEN_OBJECT = {
  type: "object",
  additionalProperties: true,
  description: NEVER_GUESS,
  "x-emulator-guess": NEVER_GUESS,
};

function comment(node, text) {
  const ranges = ts.getLeadingCommentRanges(text, node.pos) || [];
  const docs = ranges
    .map((r) => text.slice(r.pos, r.end))
    .filter((c) => c.startsWith("/**"));
  if (docs.length === 0) return "";
  return docs[docs.length - 1]
    .replace(/^\/\*\*|\*\/$/g, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, ""))
    .join("\n")
    .trim();
}

// fal writes a default as JSON, but a string's inner quotes unescaped
// (`"Turn this into "Living oil painting""`) and a bare word unquoted: those are taken as
// the text between the outer quotes, and the word, as fal's OpenAPI documents give them.
function parseDefault(text) {
  try {
    return JSON.parse(text);
  } catch {
    const quoted = text.length >= 2 && text.startsWith('"') && text.endsWith('"');
    return quoted ? text.slice(1, -1) : text;
  }
}

// fal quotes some numbers (`"48000"` for an `8000 | … | 48000` sample rate) and booleans:
// a default is taken as its field's type where its text reads as one. One that still fails
// its type or enum is left out: a default the schema refuses is worse than none (a client
// that fills it in sends an input the endpoint refuses).
function typedDefault(schema, value) {
  const types = [schema.type ?? []].flat();
  const fits = (v) =>
    types.length === 0 ||
    types.includes(jsonType(v)) ||
    (types.includes("number") && typeof v === "number");
  let typed = value;
  if (!fits(value) && typeof value === "string") {
    const number = value.trim() === "" ? NaN : Number(value);
    const boolean = { true: true, false: false }[value];
    typed = Number.isFinite(number) && fits(number) ? number : (boolean ?? value);
  }
  const allowed = !schema.enum || schema.enum.includes(typed);
  return fits(typed) && allowed ? { value: typed } : null;
}

function withDoc(schema, doc) {
  if (!doc) return schema;
  const match = doc.match(DEFAULT_TEXT);
  const description = doc.replace(DEFAULT_TEXT, " ").trim();
  const result = { ...schema };
  if (description) result.description = description;
  const typed = match && !NO_DEFAULT.has(match[1]) && typedDefault(schema, parseDefault(match[1]));
  if (typed) result.default = typed.value;
  return result;
}

function literalValue(node) {
  const literal = node.literal;
  if (literal.kind === ts.SyntaxKind.StringLiteral) return literal.text;
  if (literal.kind === ts.SyntaxKind.NumericLiteral) return Number(literal.text);
  if (literal.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (literal.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (literal.kind === ts.SyntaxKind.NullKeyword) return null;
  if (literal.kind === ts.SyntaxKind.PrefixUnaryExpression) {
    return -Number(literal.operand.text);
  }
  throw new Error(`unsupported literal ${ts.SyntaxKind[literal.kind]}`);
}

function jsonType(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

class Converter {
  constructor(text, declared) {
    this.text = text;
    this.declared = declared;
  }

  schema(node) {
    const K = ts.SyntaxKind;
    switch (node.kind) {
      case K.StringKeyword:
        return { type: "string" };
      case K.NumberKeyword:
        return { type: "number" };
      case K.BooleanKeyword:
        return { type: "boolean" };
      case K.NullKeyword:
        return { type: "null" };
      case K.AnyKeyword:
      case K.UnknownKeyword:
      case K.VoidKeyword:
      case K.ObjectKeyword:
        return {};
      case K.ParenthesizedType:
        return this.schema(node.type);
      case K.LiteralType: {
        const value = literalValue(node);
        return { type: jsonType(value), const: value };
      }
      case K.ArrayType:
        return { type: "array", items: this.schema(node.elementType) };
      case K.TupleType:
        return {
          type: "array",
          prefixItems: node.elements.map((e) => this.schema(e)),
          minItems: node.elements.length,
          maxItems: node.elements.length,
        };
      case K.UnionType:
        return this.union(node.types);
      case K.IntersectionType:
        return { allOf: node.types.map((t) => this.schema(t)) };
      case K.TypeLiteral:
        return this.object(node.members);
      case K.TypeReference:
        return this.reference(node);
      default:
        throw new Error(`unsupported type ${K[node.kind]} at ${node.pos}`);
    }
  }

  reference(node) {
    const name = node.typeName.getText();
    const args = node.typeArguments || [];
    if (name === "Array" && args.length === 1) {
      return { type: "array", items: this.schema(args[0]) };
    }
    if (name === "Record" && args.length === 2) {
      if (args[1].kind === ts.SyntaxKind.NeverKeyword) return { ...OPEN_OBJECT };
      return { type: "object", additionalProperties: this.schema(args[1]) };
    }
    if (this.declared.has(name)) return { $ref: `#/components/schemas/${name}` };
    return {}; // a platform type (Blob…): nothing JSON can check
  }

  union(members) {
    // `string | Blob | File` is how fal types a media URL the client may upload first.
    const isUpload = (t) =>
      t.kind === ts.SyntaxKind.TypeReference && ["Blob", "File"].includes(t.typeName.getText());
    const hasString = members.some((t) => t.kind === ts.SyntaxKind.StringKeyword);
    const kept = hasString && members.some(isUpload) ? members.filter((t) => !isUpload(t)) : members;
    const schemas = kept.map((t) => this.schema(t));
    if (schemas.length === 1) return schemas[0];
    if (schemas.every((s) => "const" in s)) {
      const values = schemas.map((s) => s.const);
      const types = [...new Set(schemas.map((s) => s.type))];
      return { type: types.length === 1 ? types[0] : types, enum: values };
    }
    return { anyOf: schemas };
  }

  object(members) {
    const properties = {};
    const required = [];
    let additional;
    for (const member of members) {
      if (member.kind === ts.SyntaxKind.PropertySignature) {
        const name = member.name.text ?? member.name.getText();
        const type = member.type ? this.schema(member.type) : {};
        properties[name] = withDoc(type, comment(member, this.text));
        if (!member.questionToken) required.push(name);
      } else if (member.kind === ts.SyntaxKind.IndexSignature) {
        additional = this.schema(member.type);
      } else {
        throw new Error(`unsupported member ${ts.SyntaxKind[member.kind]} at ${member.pos}`);
      }
    }
    const schema = { type: "object", properties };
    if (required.length) schema.required = required;
    if (additional !== undefined) schema.additionalProperties = additional;
    return schema;
  }
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

function convert(path) {
  const text = fs.readFileSync(path, "utf8");
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const aliases = new Map();
  for (const statement of source.statements) {
    if (ts.isTypeAliasDeclaration(statement)) aliases.set(statement.name.text, statement);
    else if (ts.isInterfaceDeclaration(statement)) aliases.set(statement.name.text, statement);
  }
  const map = aliases.get(MAP_NAME);
  if (!map) throw new Error(`${path}: no ${MAP_NAME}`);
  aliases.delete(MAP_NAME);
  const converter = new Converter(text, aliases);
  const types = {};
  for (const [name, declaration] of aliases) {
    const schema = ts.isInterfaceDeclaration(declaration)
      ? converter.object(declaration.members)
      : converter.schema(declaration.type);
    types[name] = withDoc(schema, comment(declaration, text));
  }
  const endpoints = {};
  const members = ts.isInterfaceDeclaration(map) ? map.members : map.type.members;
  for (const member of members) {
    const slots = {};
    for (const slot of member.type.members) {
      slots[slot.name.text] = slot.type.typeName.getText();
    }
    endpoints[member.name.text] = { input: slots.input ?? null, output: slots.output ?? null };
  }
  return sortKeys({ types, endpoints });
}

const [, , path] = process.argv;
if (!path) {
  process.stderr.write("usage: node convert.mjs ENDPOINT_TYPES_FILE\n");
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(convert(path)));
} catch (error) {
  process.stderr.write(`convert.mjs: ${error.message}\n`);
  process.exit(1);
}
