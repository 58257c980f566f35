/**
 * The formula grammar, by precedence climbing over the lexer's tokens. Lowest to highest, all
 * left-associative: comparisons (= != < > <= >=), then &, then + -, then * /, then unary minus.
 *
 *   expression := unary (binaryOp unary)*
 *   unary      := "-" unary | primary
 *   primary    := number | string | {field} | name "(" [expression ("," expression)*] ")" | name
 *               | "(" expression ")"
 */
import { type Operator, type Token, tokenize } from "./lexer.js";
import { invalidFormula } from "./types.js";

export type Expr =
  | { kind: "literal"; value: string | number }
  | { kind: "field"; name: string }
  | { kind: "call"; name: string; args: Expr[] }
  | { kind: "negate"; operand: Expr }
  | { kind: "binary"; op: Operator; left: Expr; right: Expr };

const PRECEDENCE: Readonly<Record<Operator, number>> = {
  "=": 1,
  "!=": 1,
  "<": 1,
  ">": 1,
  "<=": 1,
  ">=": 1,
  "&": 2,
  "+": 3,
  "-": 3,
  "*": 4,
  "/": 4,
};

/** Deep enough for any formula a person writes; stops runaway nesting before the stack does. */
const MAX_DEPTH = 256;

class Parser {
  #tokens: Token[];
  #position = 0;
  #depth = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  parseFormula(): Expr {
    const expr = this.#expression(0);
    const next = this.#peek();
    if (next.kind !== "end") throw invalidFormula(`unexpected token at ${next.at}`);
    return expr;
  }

  #peek(): Token {
    return this.#tokens[this.#position]!;
  }

  #advance(): Token {
    const token = this.#peek();
    if (token.kind !== "end") this.#position++;
    return token;
  }

  #isPunct(char: "(" | ")" | ","): boolean {
    const token = this.#peek();
    return token.kind === "punct" && token.char === char;
  }

  #expect(char: "(" | ")" | ","): void {
    if (!this.#isPunct(char)) throw invalidFormula(`expected "${char}" at ${this.#peek().at}`);
    this.#advance();
  }

  /** Operators binding tighter than `minPrecedence`, folded left. */
  #expression(minPrecedence: number): Expr {
    if (++this.#depth > MAX_DEPTH) throw invalidFormula("formula nested too deeply");
    let left = this.#unary();
    for (;;) {
      const token = this.#peek();
      if (token.kind !== "operator" || PRECEDENCE[token.op] <= minPrecedence) break;
      this.#advance();
      left = { kind: "binary", op: token.op, left, right: this.#expression(PRECEDENCE[token.op]) };
    }
    this.#depth--;
    return left;
  }

  #unary(): Expr {
    const token = this.#peek();
    if (token.kind === "operator" && token.op === "-") {
      this.#advance();
      if (++this.#depth > MAX_DEPTH) throw invalidFormula("formula nested too deeply");
      const operand = this.#unary();
      this.#depth--;
      return { kind: "negate", operand };
    }
    return this.#primary();
  }

  #primary(): Expr {
    const token = this.#advance();
    switch (token.kind) {
      case "number":
      case "string":
        return { kind: "literal", value: token.value };
      case "field":
        return { kind: "field", name: token.name };
      case "identifier":
        return this.#isPunct("(") ? this.#call(token.name) : { kind: "field", name: token.name };
      case "punct":
        if (token.char === "(") {
          const inner = this.#expression(0);
          this.#expect(")");
          return inner;
        }
        break;
    }
    throw invalidFormula(`unexpected token at ${token.at}`);
  }

  #call(name: string): Expr {
    this.#expect("(");
    const args: Expr[] = [];
    if (!this.#isPunct(")")) {
      for (;;) {
        args.push(this.#expression(0));
        if (!this.#isPunct(",")) break;
        this.#advance();
      }
    }
    this.#expect(")");
    return { kind: "call", name, args };
  }
}

/** The syntax tree of `source`; throws FormulaError for text that is not a formula. */
export function parseFormula(source: string): Expr {
  return new Parser(tokenize(source)).parseFormula();
}
