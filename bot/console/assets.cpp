#include "bot/console/assets.hpp"

namespace signoff::console {
namespace {

// Plain CSS, system fonts only (font-src is 'none'). Colours for the chart
// series are classes s0..s7 and o-<outcome>, because CSP forbids inline
// style attributes and the charts are drawn without script.
constexpr std::string_view css = R"css(:root {
  --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #ffffff; --band: #f6f8fa;
  --accent: #0a58ca; --bad: #b42318; --good: #1a7f37;
}
* { box-sizing: border-box; }
html { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
body { margin: 0; }
main { padding: 1rem 1.5rem 3rem; max-width: 90rem; }
a { color: var(--accent); }
h1 { font-size: 1.5rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 0.5rem; }
h3 { font-size: 1rem; margin: 1.25rem 0 0.4rem; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.85rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--band); border: 1px solid var(--line); padding: 0.6rem 0.8rem; margin: 0.4rem 0; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: 0.6rem 1.5rem; background: var(--fg); color: #fff; }
header.top .brand { font-weight: 600; }
header.top nav { display: flex; gap: 0.9rem; flex-wrap: wrap; }
header.top nav a { color: #fff; text-decoration: none; padding: 0.15rem 0.2rem; }
header.top nav a[aria-current="page"] { border-bottom: 2px solid #fff; }
header.top .who { margin-left: auto; display: flex; gap: 0.6rem; align-items: center; }
header.top form { margin: 0; }
button { font: inherit; padding: 0.25rem 0.8rem; border: 1px solid var(--line); background: var(--band); border-radius: 4px; cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; padding: 0.45rem 1.4rem; }
input[type="text"] { font: inherit; padding: 0.2rem 0.4rem; border: 1px solid var(--line); border-radius: 3px; width: 11rem; }
form.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: flex-end; margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: 0.8rem; color: var(--muted); }
form.export { display: flex; gap: 0.5rem; align-items: center; margin: 1rem 0; }
table { border-collapse: collapse; width: 100%; margin: 0.4rem 0 1rem; }
th, td { text-align: left; vertical-align: top; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); }
th { background: var(--band); font-weight: 600; font-size: 0.85rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.detail { max-width: 36rem; overflow-wrap: anywhere; }
tr.refused td { background: #fff4f2; }
.outcome-ok { color: var(--good); }
.outcome-denied, .outcome-invalid, .outcome-error { color: var(--bad); font-weight: 600; }
.error { color: var(--bad); border: 1px solid var(--bad); padding: 0.5rem 0.8rem; background: #fff4f2; }
.muted, .empty { color: var(--muted); }
.pager { display: flex; gap: 1.5rem; margin: 0.5rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
section.card { border: 1px solid var(--line); border-radius: 6px; padding: 0.4rem 1rem 0.6rem; margin: 1rem 0; }
del { background: #ffebe9; color: #82071e; }
ins { background: #dafbe1; color: #044f1e; text-decoration: none; }
.verify-ok { color: var(--good); font-weight: 600; }
.verify-bad { color: var(--bad); font-weight: 600; }
figure.chart { margin: 1rem 0 2rem; }
figure.chart figcaption { font-weight: 600; margin-bottom: 0.4rem; }
svg.chart { display: block; max-width: 100%; height: auto; background: #fff; }
svg.chart text { font-size: 10px; fill: var(--muted); }
svg.chart text.nodata { font-size: 14px; }
svg.chart .axis { stroke: var(--fg); stroke-width: 1; fill: none; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; fill: none; }
svg.chart .p90 { stroke: var(--fg); stroke-width: 1.5; fill: none; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; padding: 0; margin: 0.4rem 0; font-size: 0.85rem; }
ul.legend .swatch { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.35rem; vertical-align: -0.1rem; border-radius: 2px; }
.s0 { fill: #4e79a7; background: #4e79a7; } .s1 { fill: #f28e2b; background: #f28e2b; }
.s2 { fill: #59a14f; background: #59a14f; } .s3 { fill: #e15759; background: #e15759; }
.s4 { fill: #76b7b2; background: #76b7b2; } .s5 { fill: #edc948; background: #edc948; }
.s6 { fill: #b07aa1; background: #b07aa1; } .s7 { fill: #9c755f; background: #9c755f; }
.o-ok { fill: #59a14f; background: #59a14f; } .o-denied { fill: #f28e2b; background: #f28e2b; }
.o-invalid { fill: #edc948; background: #edc948; } .o-error { fill: #e15759; background: #e15759; }
.whisker { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.35rem; border-left: 2px solid var(--fg); vertical-align: -0.1rem; }
details { margin: 0.3rem 0; }
.signin { max-width: 34rem; margin: 3rem auto; }
)css";

}  // namespace

std::string_view stylesheet() { return css; }

}  // namespace signoff::console
