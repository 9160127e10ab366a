// `$template`: PocketBase's html/template registry (`loadFiles`/`loadString` + `render`)
// with a subset of Go's template language, written for the sandbox:
//   {{.}} {{.a.b}} {{$}}  {{if X}}..{{else if Y}}..{{else}}..{{end}}  {{range X}}..{{else}}..{{end}}
//   {{define "n"}}..{{end}} {{template "n" X}} {{block "n" X}}..{{end}}  {{/* comment */}}
//   {{- trims -}}, string/number literals, functions: raw len not eq ne lt le gt ge and or index print
// Output is HTML-escaped like html/template in a text context (`raw` skips that).
// Files come from pb_hooks (the host passes .html/.tmpl/.txt files next to the modules).
(function (global) {
  "use strict";

  const HOOKS_DIR = "/pb_hooks";
  const sources = global.__pbModules || {};

  function escapeHtml(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&#34;").replace(/'/g, "&#39;");
  }

  class Raw { constructor(s) { this.s = String(s); } }

  function truthy(v) {
    if (Array.isArray(v)) return v.length > 0;
    if (v && typeof v === "object") return Object.keys(v).length > 0;
    return !!v;
  }

  function display(v) {
    if (v === undefined || v === null) return "";
    if (v instanceof Raw) return v.s;
    if (typeof v === "object") return escapeHtml(JSON.stringify(v));
    return escapeHtml(v);
  }

  const FUNCS = {
    raw: (s) => new Raw(s == null ? "" : s),
    len: (v) => (v == null ? 0 : Array.isArray(v) || typeof v === "string" ? v.length : Object.keys(v).length),
    not: (v) => !truthy(v),
    eq: (a, ...b) => b.some((x) => x === a),
    ne: (a, b) => a !== b,
    lt: (a, b) => a < b,
    le: (a, b) => a <= b,
    gt: (a, b) => a > b,
    ge: (a, b) => a >= b,
    and: (...a) => a.reduce((acc, v) => (truthy(acc) ? v : acc)),
    or: (...a) => a.reduce((acc, v) => (truthy(acc) ? acc : v)),
    index: (v, ...keys) => keys.reduce((acc, k) => (acc == null ? undefined : acc[k]), v),
    print: (...a) => a.map((x) => (x == null ? "" : String(x))).join(""),
  };

  // ---------------------------------------------------------------- parsing

  // Splits into text and action tokens, applying the {{- -}} trim markers.
  function tokenize(src) {
    const out = [];
    let i = 0;
    while (i < src.length) {
      const open = src.indexOf("{{", i);
      if (open < 0) { out.push({ text: src.slice(i) }); break; }
      let text = src.slice(i, open);
      let start = open + 2;
      if (src[start] === "-" && /\s/.test(src[start + 1] || "")) { text = text.replace(/\s+$/, ""); start += 1; }
      const close = src.indexOf("}}", start);
      if (close < 0) throw new Error("template: unclosed action");
      let end = close;
      let trimNext = false;
      if (src[close - 1] === "-" && /\s/.test(src[close - 2] || "")) { end = close - 1; trimNext = true; }
      if (text) out.push({ text });
      const action = src.slice(start, end).trim();
      if (!action.startsWith("/*")) out.push({ action });
      i = close + 2;
      if (trimNext) while (i < src.length && /\s/.test(src[i])) i++;
    }
    return out;
  }

  // words of an action: "strings", numbers, .fields, $, (no nested pipelines)
  function words(action) {
    const re = /"((?:[^"\\]|\\.)*)"|`([^`]*)`|(\S+)/g;
    const out = [];
    let m;
    while ((m = re.exec(action))) {
      if (m[1] !== undefined) out.push({ lit: JSON.parse('"' + m[1] + '"') });
      else if (m[2] !== undefined) out.push({ lit: m[2] });
      else out.push({ word: m[3] });
    }
    return out;
  }

  function parse(tokens, defines) {
    let pos = 0;
    const isAction = (t, head) => t && t.action !== undefined && t.action.split(/\s+/)[0] === head;

    // nodes until an action whose first word is in `stops` (left unconsumed)
    function block(stops) {
      const nodes = [];
      while (pos < tokens.length) {
        const t = tokens[pos];
        if (t.text !== undefined) { nodes.push({ text: t.text }); pos++; continue; }
        if (stops.includes(t.action.split(/\s+/)[0])) return nodes;
        const node = action();
        if (node) nodes.push(node);
      }
      if (stops.length) throw new Error("template: unexpected end of input (missing {{end}})");
      return nodes;
    }

    function expectEnd(head) {
      if (!isAction(tokens[pos], "end")) throw new Error("template: missing {{end}} for {{" + head + "}}");
      pos++;
    }

    // the action at `pos` (and, for blocks, everything up to its {{end}})
    function action() {
      const t = tokens[pos++];
      const head = t.action.split(/\s+/)[0];
      const rest = t.action.slice(head.length).trim();
      if (head === "if" || head === "range" || head === "with") {
        const node = { kind: head, cond: words(rest), body: block(["else", "end"]), alt: [] };
        if (isAction(tokens[pos], "else")) {
          const elseRest = tokens[pos].action.slice(4).trim();
          if (/^(if|with)\s/.test(elseRest)) {
            // {{else if X}}: a nested if in the else branch that owns the shared {{end}}
            tokens[pos] = { action: elseRest };
            node.alt = [action()];
            return node;
          }
          pos++;
          node.alt = block(["end"]);
        }
        expectEnd(head);
        return node;
      }
      if (head === "define" || head === "block") {
        const ws = words(rest);
        const name = ws[0] && ws[0].lit;
        defines[name] = block(["end"]);
        expectEnd(head);
        return head === "block" ? { kind: "template", name, arg: ws.slice(1) } : null;
      }
      if (head === "template") {
        const ws = words(rest);
        return { kind: "template", name: ws[0] && ws[0].lit, arg: ws.slice(1) };
      }
      if (head === "else" || head === "end") throw new Error("template: unexpected {{" + head + "}}");
      return { kind: "out", expr: words(t.action) };
    }

    return block([]);
  }

  // ---------------------------------------------------------------- evaluation

  function value(w, dot, root) {
    if (w.lit !== undefined) return w.lit;
    const s = w.word;
    if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
    if (s === "true") return true;
    if (s === "false") return false;
    if (s === "nil") return null;
    let base;
    let path;
    if (s === "." ) return dot;
    if (s.startsWith("$")) { base = root; path = s.slice(1).split(".").filter(Boolean); }
    else if (s.startsWith(".")) { base = dot; path = s.slice(1).split("."); }
    else throw new Error("template: function " + JSON.stringify(s) + " not defined");
    return path.reduce((acc, k) => {
      if (acc == null) return undefined;
      const v = acc[k];
      return typeof v === "function" ? v.call(acc) : v;
    }, base);
  }

  function evalExpr(ws, dot, root) {
    if (!ws.length) return dot;
    const first = ws[0];
    if (first.word && FUNCS[first.word]) return FUNCS[first.word](...ws.slice(1).map((w) => value(w, dot, root)));
    if (ws.length > 1) throw new Error("template: cannot call a non-function with arguments");
    return value(first, dot, root);
  }

  function run(nodes, dot, root, defines, out, depth) {
    if (depth > 100) throw new Error("template: exceeded maximum template depth");
    for (const n of nodes) {
      if (n.text !== undefined) out.push(n.text);
      else if (n.kind === "out") out.push(display(evalExpr(n.expr, dot, root)));
      else if (n.kind === "if") run(truthy(evalExpr(n.cond, dot, root)) ? n.body : n.alt, dot, root, defines, out, depth);
      else if (n.kind === "with") {
        const v = evalExpr(n.cond, dot, root);
        if (truthy(v)) run(n.body, v, root, defines, out, depth);
        else run(n.alt, dot, root, defines, out, depth);
      } else if (n.kind === "range") {
        const v = evalExpr(n.cond, dot, root);
        const items = Array.isArray(v) ? v : v && typeof v === "object" ? Object.keys(v).sort().map((k) => v[k]) : [];
        if (!items.length) run(n.alt, dot, root, defines, out, depth);
        for (const item of items) run(n.body, item, root, defines, out, depth);
      } else if (n.kind === "template") {
        const body = defines[n.name];
        if (!body) throw new Error("template: no such template " + JSON.stringify(n.name));
        run(body, n.arg.length ? evalExpr(n.arg, dot, root) : null, root, defines, out, depth + 1);
      }
    }
  }

  function compile(texts) {
    const defines = {};
    let main = [];
    for (const text of texts) {
      const nodes = parse(tokenize(String(text)), defines);
      if (!main.length) main = nodes;
    }
    return {
      render(data) {
        const out = [];
        run(main, data, data, defines, out, 0);
        return out.join("");
      },
    };
  }

  function readFile(path) {
    const p = String(path);
    const rel = p.startsWith(HOOKS_DIR + "/") ? p.slice(HOOKS_DIR.length + 1) : p.replace(/^\.\//, "");
    if (!Object.prototype.hasOwnProperty.call(sources, rel)) {
      throw new Error("template: cannot read " + JSON.stringify(p) + " (templates are loaded from pb_hooks only)");
    }
    return sources[rel];
  }

  function registry() {
    return {
      loadFiles: (...paths) => compile(paths.map(readFile)),
      loadString: (...texts) => compile(texts),
      loadFS() { throw new Error("$template.loadFS is not available in the PocketBun sandbox"); },
      addFuncs(funcs) { Object.assign(FUNCS, funcs || {}); return this; },
    };
  }

  Object.assign(global, { $template: registry() });
})(globalThis);
