/**
 * The API reference page at /docs: one self-contained HTML file that reads /openapi.json and lists
 * every operation with its parameters, responses and named schemas. Self-hosted on purpose:
 * @scalar/fastify-api-reference needs Node >= 22 and its page loads its bundle at run time, which
 * neither `npm start` on Node 20 nor an offline deployment can rely on.
 */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>cnx-sense API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2327;background:#fafafa}
header{background:#12343b;color:#fff;padding:1rem 2rem}header a{color:#9fe3f0}
main{max-width:980px;margin:0 auto;padding:1rem 2rem}
h2{border-bottom:2px solid #12343b;margin-top:2rem}
.op{background:#fff;border:1px solid #ddd;border-radius:6px;margin:.8rem 0;padding:.6rem 1rem}
.op summary{cursor:pointer;font-weight:600}
.m{display:inline-block;min-width:3.5rem;font-family:monospace;color:#fff;border-radius:3px;text-align:center;margin-right:.5rem}
.GET{background:#1f7a4d}.POST{background:#8a5a00}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f3f3f3;padding:.5rem;overflow:auto;max-height:24rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}td,th{border-bottom:1px solid #eee;padding:.25rem .4rem;text-align:left;vertical-align:top}
.muted{color:#666}
</style></head>
<body><header><h1>cnx-sense open data API</h1><p id="info" class="muted"></p>
<p><a href="/openapi.json">openapi.json</a> · reads need no key · <span id="lic"></span></p></header>
<main id="main"><p>Loading /openapi.json…</p></main>
<script>
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const refName = (r) => r.split('/').pop();
function typeOf(s) {
  if (!s) return '';
  if (s.$ref) return '<a href="#schema-' + refName(s.$ref) + '">' + refName(s.$ref) + '</a>';
  if (s.enum) return s.enum.map((v) => '<code>' + esc(v) + '</code>').join(' | ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' | ');
  if (s.type === 'array') return typeOf(s.items) + '[]';
  let t = esc(s.type || 'any');
  if (s.minimum !== undefined || s.maximum !== undefined) t += ' ' + esc((s.minimum ?? '') + '..' + (s.maximum ?? ''));
  return t;
}
function params(list) {
  if (!list || !list.length) return '';
  return '<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>' + list.map((p) =>
    '<tr><td><code>' + esc(p.name) + '</code>' + (p.required ? ' *' : '') + '</td><td>' + esc(p.in) + '</td><td>' + typeOf(p.schema) +
    (p.schema && p.schema.default !== undefined ? '<br><span class="muted">default ' + esc(p.schema.default) + '</span>' : '') +
    '</td><td>' + esc(p.description || (p.schema && p.schema.description)) + '</td></tr>').join('') + '</table>';
}
function responses(r) {
  return '<table><tr><th>status</th><th>description</th><th>body</th></tr>' + Object.entries(r || {}).map(([code, x]) =>
    '<tr><td>' + esc(code) + '</td><td>' + esc(x.description) + '</td><td>' + Object.entries(x.content || {}).map(([type, c]) =>
      '<code>' + esc(type) + '</code> ' + typeOf(c.schema)).join('<br>') + '</td></tr>').join('') + '</table>';
}
fetch('/openapi.json').then((r) => r.json()).then((doc) => {
  document.getElementById('info').textContent = doc.info.title + ' · version ' + doc.info.version;
  document.getElementById('lic').innerHTML = 'data licence <a href="' + esc(doc.info.license.url) + '">' + esc(doc.info.license.name) + '</a>';
  const byTag = new Map();
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const tag = (op.tags && op.tags[0]) || 'other';
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag).push({ path, method: method.toUpperCase(), op });
  }
  let html = '<p>' + esc(doc.info.description) + '</p>';
  for (const t of doc.tags || []) {
    const ops = byTag.get(t.name) || [];
    if (!ops.length) continue;
    html += '<h2 id="tag-' + esc(t.name) + '">' + esc(t.name) + '</h2><p class="muted">' + esc(t.description) + '</p>';
    for (const { path, method, op } of ops) {
      html += '<details class="op"><summary><span class="m ' + method + '">' + method + '</span><code>' + esc(path) + '</code> — ' +
        esc(op.summary) + '</summary><p>' + esc(op.description) + '</p>' + params(op.parameters) + responses(op.responses) +
        (method === 'GET' && !path.includes('{') ? '<p><a href="' + esc(path) + '">try it</a></p>' : '') + '</details>';
    }
  }
  html += '<h2>Schemas</h2>';
  for (const [name, s] of Object.entries((doc.components && doc.components.schemas) || {})) {
    html += '<details class="op" id="schema-' + esc(name) + '"><summary>' + esc(name) + '</summary><pre>' + esc(JSON.stringify(s, null, 2)) + '</pre></details>';
  }
  document.getElementById('main').innerHTML = html;
}).catch((e) => { document.getElementById('main').textContent = 'Could not load /openapi.json: ' + e; });
</script></body></html>
`;
