#!/usr/bin/env node
// The structural rules ARCHITECTURE.md states (`npm run structure`, and part of `npm run lint`):
//   1. each layer (a top-level folder of src/, subfolders included) imports only the layers below it;
//   2. no import cycle, between files or between layers;
//   3. no function body longer than MAX_FUNCTION_LINES.
// Uses the TypeScript compiler's parser, so it sees what tsc sees. Prints its verdict, like the other
// scripts here; it is a developer's tool, not part of the product's output.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const MAX_FUNCTION_LINES = 80;
const ROOTS = ["src", "packages/client/src"];

// Which layers each layer may import (a layer is a top-level folder of src/, with its subfolders;
// src/index.ts is the package's entry, above them all). Anything else is a layering fault.
const ALLOWED = {
  src: ["src/shared", "src/airtable", "src/tokens", "src/store", "src/client", "packages/client/src"],
  "src/shared": ["packages/client/src"],
  "src/airtable": ["src/shared", "packages/client/src"],
  "src/store": ["src/shared", "src/airtable", "packages/client/src"],
  "src/tokens": ["src/shared", "src/airtable", "src/store", "packages/client/src"],
  "src/emulator": ["src/shared", "src/airtable", "packages/client/src"],
  "src/server": [
    "src/shared",
    "src/airtable",
    "src/tokens",
    "src/store",
    "src/emulator",
    "packages/client/src",
  ],
  "src/cli": [
    "src/shared",
    "src/airtable",
    "src/tokens",
    "src/store",
    "src/server",
    "src/emulator",
    "packages/client/src",
  ],
  "src/client": ["src/shared", "packages/client/src"],
  // The browser module: runs in the app's page, so it imports nothing at all.
  "src/connect": [],
  "packages/client/src": [],
};

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) && !entry.name.endsWith(".d.ts")
      ? [path]
      : [];
  });
}

function layerOf(file) {
  const folder = relative(process.cwd(), dirname(file));
  if (folder.startsWith("packages/client/src")) return "packages/client/src";
  return folder.split("/").slice(0, 2).join("/");
}

function importedFile(fromFile, specifier) {
  if (specifier.startsWith("."))
    return relative(process.cwd(), resolve(dirname(fromFile), specifier)).replace(/\.js$/, ".ts");
  if (specifier === "@airlock/client") return "packages/client/src/index.ts";
  return null;
}

function longFunctions(file, source) {
  const found = [];
  const visit = (node) => {
    const isFunction =
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isArrowFunction(node) ||
      ts.isFunctionExpression(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessor(node);
    if (isFunction && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.body.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.body.getEnd()).line;
      const lines = end - start + 1;
      if (lines > MAX_FUNCTION_LINES) {
        const name = node.name?.getText(source) ?? nameFromParent(node, source);
        found.push(`${file}:${start + 1} ${name} is ${lines} lines (at most ${MAX_FUNCTION_LINES})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function nameFromParent(node, source) {
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)))
    return parent.name.getText(source);
  if (parent && ts.isCallExpression(parent)) return `callback of ${parent.expression.getText(source)}`;
  return "anonymous function";
}

const problems = [];
const layerEdges = new Map();
const fileEdges = new Map();
const addEdge = (graph, from, to, via) => {
  if (!graph.has(from)) graph.set(from, new Map());
  if (!graph.get(from).has(to)) graph.get(from).set(to, via);
};
for (const file of ROOTS.flatMap(sourceFiles)) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  problems.push(...longFunctions(file, source));
  const from = layerOf(file);
  for (const statement of source.statements) {
    const isImport = ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement);
    if (!isImport || !statement.moduleSpecifier) continue;
    const specifier = statement.moduleSpecifier.text;
    const target = importedFile(file, specifier);
    if (!target) continue;
    // Type-only imports vanish at run time, but a cycle through them is still a design cycle.
    addEdge(fileEdges, file, target, file);
    const to = layerOf(target);
    if (to === from) continue;
    addEdge(layerEdges, from, to, file);
    const allowed = ALLOWED[from];
    if (!allowed) problems.push(`${file}: layer ${from} has no entry in this script's layer table`);
    else if (!allowed.includes(to))
      problems.push(`${file} imports ${specifier}: ${from} may not import ${to}`);
  }
}

/** Every cycle a depth-first search meets, each reported once by its first back edge. */
function cycles(graph, label) {
  const state = new Map();
  const stack = [];
  const found = [];
  const visit = (node) => {
    state.set(node, "open");
    stack.push(node);
    for (const [next, via] of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        found.push(
          `${label}: ${stack.slice(stack.indexOf(next)).concat(next).join(" -> ")} (edge in ${via})`,
        );
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}
problems.push(...cycles(layerEdges, "import cycle between layers"), ...cycles(fileEdges, "import cycle"));

if (problems.length > 0) {
  console.error(
    `check-structure: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join("\n")}`,
  );
  process.exit(1);
}
console.log(
  `check-structure: layers import downwards, no import cycles, no function over ${MAX_FUNCTION_LINES} lines`,
);
