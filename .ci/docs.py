"""Build recipe's docs site offline, without Quarto.

    python .ci/docs.py           # the static site in _docs/ (index.html, core.html, ...)
    python .ci/docs.py readme    # README.md from nbs/index.ipynb, links absolute

nbdev's own processors do what `nbdev_proc_nbs` does (run the show_doc cells, apply the `#|` directives, hide
`#| hide` cells, make front matter from the H1 and `>` summary) into `_proc/`. A small conversion then hands the
processed notebooks to Sphinx and myst-nb, which execute nothing: the notebooks carry their outputs. Pages get
nbdev's names (00_core.ipynb -> core.html) and the navigation follows nbs/sidebar.yml. The Quarto files are left
as they are, so `nbdev_docs` still builds the Quarto site where Quarto is installed."""
import argparse, base64, json, os, posixpath, re, shutil, subprocess, sys, tempfile, time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from docutils.nodes import make_id

ROOT, CONF = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent/'docs'
os.chdir(ROOT)  # nbdev reads settings.ini from the working directory
from nbdev.config import get_config
from nbdev.doclinks import _nbpath2html, nbglob
from nbdev.processors import FilterDefaults
from nbdev.serve import proc_nbs
import nbdev.serve_drv

cfg = get_config()
SITE = (cfg.doc_host + cfg.doc_baseurl).rstrip('/')  # where the published site lives: README links point there
CALLOUTS = ('note', 'tip', 'warning', 'important', 'caution')

def html_name(nb): return _nbpath2html(Path(nb)).as_posix()  # nbdev's page name: '00_core.ipynb' -> 'core.html'
def _src(o): return ''.join(o) if isinstance(o, list) else (o or '')

## Markdown: Quarto/Pandoc forms to MyST (site) or GitHub markdown (README)

_re_fence = re.compile(r'^\s*(`{3,}|~{3,})')
def _outside_fences(md, f):
    "Apply `f` to each line of `md` that is not inside a code fence"
    out, fence = [], None
    for l in md.split('\n'):
        m = _re_fence.match(l)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence): fence = None
            out.append(l)
        elif m: fence = m.group(1); out.append(l)
        else: out.append(f(l))
    return '\n'.join(out)

_re_link = re.compile(r'(\]\()([^)\s]+)((?:\s+"[^"]*")?\))(\{[^}\n]*\})?')  # [text](url "title"){pandoc attrs}
def fix_links(md, fix):
    "Rewrite markdown link and href targets with `fix` and drop Pandoc's `{...}` link attributes"
    md = _re_link.sub(lambda m: m.group(1) + fix(m.group(2)) + m.group(3), md)
    return re.sub(r'(href=")([^"]+)(")', lambda m: m.group(1) + fix(m.group(2)) + m.group(3), md)

def _split_url(u):
    if re.match(r'^[a-zA-Z][\w+.-]*:|^#|^/', u): return None
    path, _, frag = u.partition('#')
    if path.endswith(('.ipynb', '.qmd')): path = html_name(path)
    return path + ('#' + frag if frag else '')

def site_url(page_dir):
    "Links as the offline site needs them: the published site's own pages relative, notebooks as their pages"
    def fix(u):
        if u.startswith(SITE + '/'): return posixpath.relpath(u[len(SITE) + 1:] or 'index.html', page_dir or '.')
        return _split_url(u) or u
    return fix

def readme_url(u):
    "Links as README.md needs them: absolute, to the published site"
    rel = _split_url(u)
    return u if rel is None or u.startswith('#') else f'{SITE}/{rel}'

@dataclass
class Div:
    attrs: str
    body: list = field(default_factory=list)
    def height(self): return max([1 + o.height() for o in self.body if isinstance(o, Div)], default=0)
    def classes(self): return re.findall(r'\.([\w-]+)', self.attrs)
    def callout(self): return next((c[8:] for c in self.classes() if c[8:] in CALLOUTS and c.startswith('callout-')), None)
    def title(self, body):
        "A callout's title: its `title` attribute, or a heading on its first line (popped from `body`)"
        m = re.search(r'title="([^"]*)"', self.attrs)
        if m: return m.group(1)
        while body and not body[0].strip(): body.pop(0)
        if body and body[0].startswith('#'):
            t = body.pop(0).lstrip('#').strip()
            while body and not body[0].strip(): body.pop(0)
            return t

def parse_divs(md):
    "Pandoc fenced divs (`::: {.callout-note}` ... `:::`) as a tree of lines and `Div`s"
    root, fence = [], None
    stack = [root]
    for l in md.split('\n'):
        m = _re_fence.match(l)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence): fence = None
        elif m: fence = m.group(1)
        elif d := re.match(r'^:{3,}\s*(?:\{([^}]*)\}|([\w-]+))\s*$', l):
            div = Div(d.group(1) or '.' + d.group(2)); stack[-1].append(div); stack.append(div.body); continue
        elif re.match(r'^:{3,}\s*$', l) and len(stack) > 1: stack.pop(); continue
        stack[-1].append(l)
    return root

def myst_divs(nodes):
    "Callouts as MyST admonitions, other divs as containers (an outer fence is longer than the ones it holds)"
    out = []
    for n in nodes:
        if isinstance(n, str): out.append(n); continue
        body, colons, kind = myst_divs(n.body), ':' * (3 + n.height()), n.callout()
        title = n.title(body) if kind else None
        if kind and title: head = [f'{colons}{{admonition}} {title}', f':class: {kind}']
        elif kind: head = [f'{colons}{{{kind}}}']
        else: head = [f'{colons}{{container}} ' + ' '.join(n.classes())]
        if any(l.strip() for l in body): out += head + body + [colons]
    return out

def gfm_divs(nodes):
    "Callouts as GitHub alerts (`> [!NOTE]`), other divs as their content"
    out = []
    for n in nodes:
        if isinstance(n, str): out.append(n); continue
        body, kind = gfm_divs(n.body), n.callout()
        if not kind: out += body; continue
        title = n.title(body)
        out += [f'> [!{kind.upper()}]'] + ([f'> **{title}**', '>'] if title else []) + [f'> {l}'.rstrip() for l in body]
    return out

def pandoc_id(title):
    "The id Quarto (Pandoc) gives a heading, so that links like core.html#finding.to_dict keep working"
    s = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', title).replace('`', '').replace('*', '')
    s = re.sub(r'[^\w\s.-]', '', s.lower()).strip()
    return re.sub(r'^[^a-z]+', '', re.sub(r'\s+', '-', s)) or 'section'

def heading_anchor(l):
    "Before a heading, an anchor with Pandoc's id where docutils would give it another one"
    m = re.match(r'^(#{1,6})\s+(.*?)\s*(\{#([\w.:-]+)[^}]*\}|\{[^}]*\})?\s*$', l)
    if not m or len(m.group(1)) == 1: return l
    hid, title = m.group(4) or pandoc_id(m.group(2)), m.group(2)
    return l if hid == make_id(title) else f'<div id="{hid}"></div>\n\n{m.group(1)} {title}'

def to_myst(md, page_dir):
    md = fix_links(md, site_url(page_dir))
    md = '\n'.join(myst_divs(parse_divs(md)))
    return _outside_fences(md, heading_anchor)

def to_gfm(md):
    md = fix_links(md, readme_url)
    md = '\n'.join(gfm_divs(parse_divs(md)))
    return _outside_fences(md, lambda l: re.sub(r'^(#{1,6}\s.*?)\s*\{[^}]*\}\s*$', r'\1', l))

def showdoc_md(md):
    "nbdev's show_doc markdown: its `---` rule and floated source link become a marker under the heading, for CSS"
    md = re.sub(r'^\s*---\s*\n', '', md)
    src = re.search(r'^\[source\]\((\S+)\)\{[^}\n]*\}[ \t]*\n?', md, flags=re.M)
    if src: md = md.replace(src.group(0), '')
    marker = '<div class="nbdev-showdoc">' + (f'<a class="nbdev-source" href="{src.group(1)}" target="_blank">source</a>' if src else '') + '</div>'
    md, n = re.subn(r'^(#{1,6}\s.*)$', lambda m: f'{m.group(1)}\n\n{marker}', md, count=1, flags=re.M)
    return md if n else f'{marker}\n\n{md}'

## Cells

def directives(src):
    "The leading `#|` options of a code cell (Quarto's and nbdev's), and the code without them"
    opts, lines = {}, src.split('\n')
    while lines and re.match(r'^\s*#\s*\|', lines[0]):
        k, _, v = re.sub(r'^\s*#\s*\|\s*', '', lines.pop(0)).partition(':')
        opts[k.strip()] = v.strip().strip('"\'').lower() if v.strip() else 'true'
    return opts, '\n'.join(lines).strip('\n')

def front_matter(cell):
    try: fm = yaml.safe_load(re.match(r'^---\s*\n(.*?)\n---', _src(cell['source']).strip(), re.S).group(1))
    except (AttributeError, yaml.YAMLError): return {}
    return fm if isinstance(fm, dict) else {}

def md_cell(s): return dict(cell_type='markdown', metadata={}, source=s)
def code_cell(s, outputs=(), tags=()):
    return dict(cell_type='code', execution_count=None, metadata=dict(tags=list(tags)) if tags else {}, outputs=list(outputs), source=s)

def site_nb(nb, page_dir='', orphan=False, name='index'):
    "A processed notebook as myst-nb reads it: title cell, show_doc outputs as markdown, `#|` options as tags"
    cells, fix = [], site_url(page_dir)
    for c in nb['cells']:
        src, kind = _src(c.get('source')), c['cell_type']
        if kind == 'raw':
            fm = front_matter(c)
            if 'title' in fm:
                desc = f"\n\n:::{{container}} nbdev-description\n{fm['description']}\n:::" if fm.get('description') else ''
                cells.append(md_cell(f"# {fm['title']}{desc}"))
        elif kind == 'markdown':
            if src.strip() and not src.startswith('<!-- WARNING'): cells.append(md_cell(to_myst(src, page_dir)))
        else:
            opts, code = directives(src)
            if opts.get('include') == 'false': continue
            hide_code, outs = opts.get('echo') == 'false' or not code, c.get('outputs', [])
            if opts.get('output') == 'false': outs = []
            if opts.get('output') == 'asis':  # show_doc: markdown output, so it reaches the toc and the search
                if not hide_code: cells.append(code_cell(code))
                for o in outs:
                    d = o.get('data', {})
                    md = _src(d.get('text/markdown')) or (f"```\n{_src(d['text/plain'])}\n```" if 'text/plain' in d else '')
                    if md: cells.append(md_cell(to_myst(showdoc_md(md), page_dir)))
                continue
            for o in outs:
                if 'text/markdown' in o.get('data', {}): o['data']['text/markdown'] = fix_links(_src(o['data']['text/markdown']), fix)
            tags = ['remove-input'] * hide_code + ['hide-input'] * (opts.get('code-fold') == 'true')
            if code or outs: cells.append(code_cell(code, outs, tags))
    if not cells or not cells[0]['source'].startswith('# '):
        print(f"docs: {name} has no H1 title: titled by its file name")
        cells.insert(0, md_cell(f'# {Path(name).stem}'))
    meta = dict(kernelspec=dict(name='python3', display_name='Python 3', language='python'),
                language_info=dict(name='python', pygments_lexer='ipython3'))
    if orphan: meta['orphan'] = True
    return dict(cells=cells, metadata=meta, nbformat=4, nbformat_minor=4)

## The site

def sidebar(nbs):
    "[(caption or None, [notebook paths])] in nbs/sidebar.yml's order; a nested section joins its top section"
    def flat(items):
        for o in items:
            if isinstance(o, dict) and 'contents' in o: yield from flat(o['contents'])
            elif isinstance(o, dict) and 'href' in o: yield o['href']
            elif isinstance(o, str): yield o
    groups = []
    for o in yaml.safe_load((nbs/'sidebar.yml').read_text())['website']['sidebar']['contents']:
        if isinstance(o, dict) and 'section' in o: groups.append((o['section'], list(flat(o.get('contents', [])))))
        elif groups and groups[-1][0] is None: groups[-1][1].extend(flat([o]))
        else: groups.append((None, list(flat([o]))))
    return groups

def toctrees(groups, pages):
    "Hidden toctrees that give the sidebar its entries and sections; entries not built yet are skipped"
    out = []
    for caption, entries in groups:
        docs = []
        for e in entries:
            if e == 'index.ipynb': continue
            if e not in pages: print(f"docs: {e} is in sidebar.yml but does not exist yet: left out"); continue
            docs.append(pages[e][:-len('.html')])
        if docs: out.append('```{toctree}\n:hidden:\n' + (f':caption: {caption}\n' if caption else '') + '\n' + '\n'.join(docs) + '\n```')
    return out

def build(nbs, out):
    t0 = time.time()
    nbs = nbs.resolve()
    made_from = cfg.config_path/'_proc'/'.docs_nbs'  # _proc/ is cached by modification time: not across folders
    force = not made_from.exists() or made_from.read_text() != str(nbs)
    try: proc = Path(proc_nbs(nbs, force=force)); made_from.write_text(str(nbs))
    except Exception as e:
        sys.exit(f"docs: nbdev's processing failed, as `nbdev_docs` would: {str(e).splitlines()[0]}\n"
                 "  nbdev runs every exported cell and every cell with an import to render show_doc: a cell that imports "
                 "and also runs code must be split (imports in a cell of their own)")
    t1 = time.time()
    with tempfile.TemporaryDirectory() as tmp: sphinx(nbs, proc, Path(tmp), out)
    print(f"docs: {out.relative_to(ROOT)}/ has {', '.join(built(out))} (nbdev processing {t1-t0:.0f}s, sphinx {time.time()-t1:.0f}s)")

def built(out): return sorted(p.relative_to(out).as_posix() for p in out.rglob('*.html') if p.name not in ('genindex.html', 'search.html') and '_static' not in p.parts)

def sphinx(nbs, proc, tmp, out):
    "Stage the processed notebooks under their page names, with the toctrees of sidebar.yml, and run sphinx-build"
    stage, doctrees = tmp/'src', tmp/'doctrees'
    srcs = [Path(p).relative_to(nbs).as_posix() for p in nbglob(nbs)]
    pages = {s: html_name(s) for s in srcs}
    groups = sidebar(nbs)
    listed = {e for _, es in groups for e in es}
    for s, page in pages.items():
        if s != 'index.ipynb' and s not in listed: print(f"docs: {s} is not in sidebar.yml: built as {page}, not in the navigation")
        nb = site_nb(json.loads((proc/s).read_text()), posixpath.dirname(page), orphan=s not in listed and s != 'index.ipynb', name=s)
        (stage/page).with_suffix('.ipynb').parent.mkdir(parents=True, exist_ok=True)
        (stage/page).with_suffix('.ipynb').write_text(json.dumps(nb))
    for f in proc.rglob('*'):  # images the pages refer to by relative path
        if f.suffix.lower() in ('.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp'):
            (stage/f.relative_to(proc)).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, stage/f.relative_to(proc))
    index = stage/'index.ipynb'
    if not index.exists():
        print("docs: nbs/index.ipynb does not exist yet: the home page shows the title and description from settings.ini")
        index.write_text(json.dumps(site_nb(dict(cells=[dict(cell_type='raw', source=f"---\ntitle: {json.dumps(cfg.title)}\n"
                                                             f"description: {json.dumps(cfg.description)}\n---")]))))
    nb = json.loads(index.read_text())
    nb['cells'] += [md_cell(t) for t in toctrees(groups, pages)]
    index.write_text(json.dumps(nb))
    # built inside `tmp`, where myst-nb also puts its jupyter_execute/ folder (beside the output), then moved
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-W', '--keep-going', '-q', '-E', '-c', str(CONF), '-d', str(doctrees), str(stage), str(tmp/'html')]
    r = subprocess.run(cmd)
    if r.returncode: sys.exit(f"docs: sphinx-build failed (exit {r.returncode}): see the warnings above")
    (tmp/'html'/'.buildinfo').unlink(missing_ok=True)
    shutil.rmtree(out, ignore_errors=True)
    shutil.move(tmp/'html', out)

## README

def readme(nbs, out):
    src = nbs/cfg.readme_nb
    if not src.exists(): sys.exit(f"docs: {src} does not exist: README.md is made from it")
    with tempfile.TemporaryDirectory() as d:
        nbdev.serve_drv.main((src, Path(d)/src.name, FilterDefaults))  # what nbdev_readme does before Quarto
        nb = json.loads((Path(d)/src.name).read_text())
    out.parent.mkdir(parents=True, exist_ok=True)
    figs = out.parent/(src.stem + '_files')/'figure-commonmark'
    shutil.rmtree(figs, ignore_errors=True)
    parts = []
    for i, c in enumerate(nb['cells']):
        src_, kind = _src(c.get('source')), c['cell_type']
        if kind == 'raw':
            fm = front_matter(c)
            if 'title' in fm: parts += [f"# {fm['title']}"] + ([f"> {fm['description']}"] if fm.get('description') else [])
        elif kind == 'markdown': parts.append(to_gfm(src_))
        else:
            opts, code = directives(src_)
            if opts.get('include') == 'false': continue
            if code and opts.get('echo') != 'false': parts.append(f"``` python\n{code}\n```")
            if opts.get('output') == 'false': continue
            for j, o in enumerate(c.get('outputs', [])):
                d = o.get('data', {})
                if o['output_type'] == 'stream': parts.append(f"```\n{_src(o['text']).rstrip()}\n```")
                elif o['output_type'] == 'error': parts.append("```\n" + re.sub(r'\x1b\[[0-9;]*m', '', '\n'.join(o['traceback'])) + "\n```")
                elif 'text/markdown' in d: parts.append(to_gfm(_src(d['text/markdown'])))
                elif img := next((k for k in ('image/png', 'image/jpeg') if k in d), None):
                    f = figs/f"cell-{i}-output-{j}.{img.split('/')[1]}"
                    f.parent.mkdir(parents=True, exist_ok=True); f.write_bytes(base64.b64decode(_src(d[img])))
                    parts.append(f"![]({f.relative_to(out.parent).as_posix()})")
                elif 'text/html' in d: parts.append(re.sub(r'<(style|script)\b.*?</\1>', '', _src(d['text/html']), flags=re.S).strip())
                elif 'text/plain' in d: parts.append(f"```\n{_src(d['text/plain']).rstrip()}\n```")
    out.write_text('\n\n'.join(p.strip('\n') for p in parts if p.strip()) + '\n')
    print(f"docs: wrote {out} from {src}")

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('what', nargs='?', choices=['site', 'readme'], default='site')
    p.add_argument('--nbs', type=Path, default=cfg.nbs_path, help="notebooks folder (default: settings.ini's nbs_path)")
    p.add_argument('--out', type=Path, help="site folder (default: settings.ini's doc_path) or README file (default: README.md)")
    a = p.parse_args()
    if a.what == 'readme': readme(a.nbs, (a.out or ROOT/'README.md').resolve())
    else: build(a.nbs, (a.out or cfg.doc_path).resolve())
