// A self-contained page: no script or style from elsewhere, so it works offline. It asks for a
// token, fetches /openapi.json with it and lists every operation with its parameters and bodies.
/** The HTML of `/docs`. */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Switchyard gateway API</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
code, pre { font: 13px ui-monospace, monospace; background: #f4f4f4; }
pre { padding: .5rem; overflow: auto; }
.op { border-top: 1px solid #ddd; padding: .5rem 0; }
.method { font-weight: bold; text-transform: uppercase; display: inline-block; width: 4rem; }
</style>
</head>
<body>
<h1>Switchyard gateway API</h1>
<p>Every route but <code>/health</code> needs a bearer token. Paste one to load the API description
(<code>/openapi.json</code>); it stays in this page only.</p>
<form id="f"><input id="t" size="60" placeholder="token" autocomplete="off">
<button>Load</button></form>
<p id="msg"></p>
<div id="ops"></div>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
document.getElementById('f').addEventListener('submit', async (e) => {
  e.preventDefault()
  const msg = document.getElementById('msg')
  const out = document.getElementById('ops')
  out.innerHTML = ''
  const res = await fetch('openapi.json', { headers: { authorization: 'Bearer ' + document.getElementById('t').value.trim() } })
  const body = await res.json()
  if (!res.ok) { msg.textContent = body.detail || res.statusText; return }
  msg.textContent = body.info.title + ' ' + body.info.version
  for (const [path, item] of Object.entries(body.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const div = document.createElement('div')
      div.className = 'op'
      div.innerHTML = '<span class="method">' + esc(method) + '</span><code>' + esc(path) + '</code> ' +
        esc(op.summary || '') + '<pre>' + esc(JSON.stringify({ parameters: op.parameters, requestBody: op.requestBody, responses: Object.keys(op.responses || {}) }, null, 2)) + '</pre>'
      out.appendChild(div)
    }
  }
})
</script>
</body>
</html>
`
