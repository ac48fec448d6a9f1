/** The one stylesheet, served from /static/app.css so the CSP needs no inline styles. */
export const stylesheet = `
:root { --ink: #1d2330; --muted: #4f5869; --accent: #0b5fff; --accent-ink: #fff; --bg: #f6f7f9; --card: #fff; --err: #b3261e; --ok: #1b6e3a; --line: #d5d9e0; }
* { box-sizing: border-box; }
body { margin: 0; font: 1.0625rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem 1rem; }
.skip:focus { left: 1rem; }
header.site { background: var(--ink); color: #fff; }
header.site .bar { max-width: 46rem; margin: 0 auto; padding: .75rem 1rem; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; justify-content: space-between; }
header.site a { color: #fff; }
header.site .brand { font-weight: 700; font-size: 1.25rem; text-decoration: none; }
header.site ul { list-style: none; margin: 0; padding: 0; display: flex; gap: 1rem; flex-wrap: wrap; }
header.site a[aria-current] { font-weight: 700; }
main { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1.5rem; margin-bottom: 1.25rem; }
h1 { font-size: 1.75rem; line-height: 1.25; margin-top: 0; }
h2 { font-size: 1.25rem; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
.hint { color: var(--muted); font-size: .95rem; margin: 0 0 .25rem; }
input[type=text], input[type=email], input[type=password], input[type=tel] { width: 100%; font: inherit; padding: .6rem .7rem; border: 2px solid #6b7385; border-radius: 6px; background: #fff; }
input.code { display: block; letter-spacing: .35em; font-size: 1.5rem; max-width: 12rem; }
button, .button { display: inline-block; margin-top: 1.25rem; font: inherit; font-weight: 600; padding: .65rem 1.25rem; border-radius: 6px; border: 0; background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; }
.alert { border-left: 5px solid var(--err); background: #fdecea; padding: .75rem 1rem; margin: 1rem 0; }
.notice { border-left: 5px solid var(--ok); background: #e8f5ec; padding: .75rem 1rem; margin: 1rem 0; }
.ref { font: 700 1.5rem/1.2 ui-monospace, monospace; letter-spacing: .08em; }
.secondary { margin-top: 1.5rem; }
footer { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: var(--muted); font-size: .9rem; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; font-size: .95rem; }
textarea, select { width: 100%; font: inherit; padding: .6rem .7rem; border: 2px solid #6b7385; border-radius: 6px; background: #fff; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0 0; }
.choice { display: inline-block; font-weight: 400; margin-right: 1rem; }
.check { font-weight: 400; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
@media (max-width: 40rem) { dl { display: block; } dt { margin-top: .5rem; } }
ul.timeline, ul.queue { list-style: none; padding: 0; }
ul.timeline li, ul.queue li { border-bottom: 1px solid var(--line); padding: .6rem 0; }
.message { white-space: pre-wrap; word-break: break-word; margin: .25rem 0 0; }
.late { color: var(--err); font-weight: 700; }
.meta { color: var(--muted); font-size: .95rem; }
.actions form { margin-bottom: 1rem; }
`;
