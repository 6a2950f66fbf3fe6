"""Browser test of the docs site that `python .ci/docs.py` builds into _docs/.

Serves _docs/ on 127.0.0.1 and drives Debian's Chromium through Playwright: the home page and core.html render
with navigation, show_doc signatures and a loaded plot; the site's search finds the library's callbacks; no page
asks for anything outside the local server. Screenshots go to $DOCS_SHOTS (default: the temp folder)."""
import functools, http.server, importlib, inspect, os, re, shutil, tempfile, threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest, yaml

ROOT = Path(__file__).resolve().parents[1]
SITE, NBS = ROOT/'_docs', Path(os.environ.get('DOCS_NBS', ROOT/'nbs'))  # DOCS_NBS: a site built with --nbs
SHOTS = Path(os.environ.get('DOCS_SHOTS', tempfile.gettempdir()))/'recipe_docs'
CHROMIUM = os.environ.get('CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser') or '/usr/bin/chromium'
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync']

def page_name(nb): return re.sub(r'^\d+[a-zA-Z0-9]*_', '', Path(nb).name.lower())[:-len('.ipynb')] + '.html'  # as nbdev names them

def sidebar_pages(exist=True):
    "The pages nbs/sidebar.yml lists whose notebook exists (or, with `exist=False`, does not exist yet), in its order"
    def flat(items):
        for o in items:
            if isinstance(o, dict): yield from flat(o.get('contents', [])) if 'contents' in o else [o.get('href')]
            else: yield o
    items = yaml.safe_load((NBS/'sidebar.yml').read_text())['website']['sidebar']['contents']
    return [page_name(o) for o in flat(items) if o and (NBS/o).exists() == exist]

def callbacks():
    "(name, page) of every fastai Callback that recipe defines, found from the modules its _modidx lists"
    from fastai.callback.core import Callback
    from recipe._modidx import d
    res = []
    for mod, syms in d['syms'].items():
        m = importlib.import_module(mod)
        for n, o in vars(m).items():
            if inspect.isclass(o) and issubclass(o, Callback) and o.__module__ == mod and not n.startswith('_'):
                res.append((n, syms[f'{mod}.{n}'][0].split('#')[0]))
    return sorted(res)

@pytest.fixture(scope='module')
def server():
    assert (SITE/'index.html').exists(), "no _docs/index.html: build the site first with `python .ci/docs.py`"
    handler = functools.partial(type('Quiet', (http.server.SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}),
                                directory=str(SITE))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}/'
    srv.shutdown(); srv.server_close()

@pytest.fixture(scope='module')
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()

@pytest.fixture
def page(browser, server):
    "A page that may fetch from the local server only; whatever else it asks for is recorded and refused"
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1000})
    ctx.set_default_timeout(15_000)
    pg = ctx.new_page()
    pg.outside, pg.errors = [], []
    def route(r):
        if r.request.url.startswith(server) or r.request.url.startswith('data:'): r.continue_()
        else: pg.outside.append(r.request.url); r.abort()
    pg.route('**/*', route)
    pg.on('pageerror', lambda e: pg.errors.append(str(e)))
    pg.on('response', lambda r: r.status >= 400 and not r.url.endswith('/favicon.ico') and pg.errors.append(f'{r.status} {r.url}'))
    yield pg
    ctx.close()

def shot(pg, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS/f'{name}.png'), full_page=True)

def local_links_ok(pg, server):
    "Every link to another page of the site points to a file that exists, or to a page whose notebook is still to come"
    pending = set(sidebar_pages(exist=False))
    for href in pg.eval_on_selector_all('a[href]', 'els => els.map(e => e.href)'):
        if href.startswith(server):
            path = urlparse(href).path.lstrip('/') or 'index.html'
            if path in pending: print(f"{pg.url} links to {path}, whose notebook does not exist yet"); continue
            assert (SITE/path).exists(), f"{pg.url} links to {href}, which the site does not have"

def test_home(page, server):
    page.goto(server)
    assert page.title().startswith('recipe')
    nav = page.eval_on_selector_all('nav.bd-docs-nav a[href]', 'els => els.map(e => e.getAttribute("href"))')
    names = {urlparse(urljoin(server, h)).path.lstrip('/') or 'index.html' for h in nav}
    want = sidebar_pages()
    assert 'core.html' in want and set(want) - {'index.html'} <= names, f"sidebar links {sorted(names)}, want {want}"
    local_links_ok(page, server)
    shot(page, 'index')
    assert not page.outside, f"the home page asked for {page.outside}"
    assert not page.errors, page.errors

def test_api_page(page, server):
    page.goto(server + 'core.html')
    assert page.locator('h1').first.inner_text().startswith('Core')
    # show_doc blocks: a heading with nbdev's anchor, the signature as highlighted Python, the docstring
    for name in ('Finding', 'preserve_state'):
        # a removed `## Name -` heading leaves the show_doc heading one level up, as an h2 (else an h3)
        block = page.locator(f'xpath=//section[*[self::h2 or self::h3][starts-with(normalize-space(.), "{name}")]]')
        assert block.count() == 1, f"no show_doc section for {name}"
        assert page.locator(f'[id="{name.lower()}"]').count() > 0, f"no anchor #{name.lower()} (nbdev's link target)"
        sig = block.locator('div.highlight pre').first
        assert sig.inner_text().startswith(f'def {name}('), sig.inner_text()
        assert sig.locator('span.k').count() > 0, "the signature is not syntax-highlighted"
    assert page.locator('a.nbdev-source[href*="recipe/core.py#L"]').count() >= 2, "no links to the source"
    assert 'Finding' in page.locator('#pst-page-toc-nav').text_content(), "show_doc headings are not in the page's contents"
    # a Report renders as a table, and `#| hide` cells and `#|` directives do not show
    assert page.locator('table').count() > 0
    body = page.locator('article').inner_text()
    assert '#|' not in body and 'from nbdev.showdoc import' not in body and 'THIS FILE WAS AUTOGENERATED' not in body
    # the plot is an image that loaded
    sizes = page.eval_on_selector_all('article img', 'els => els.map(e => [e.getAttribute("src"), e.complete, e.naturalWidth])')
    assert any(src.endswith('.png') and done and w > 0 for src, done, w in sizes), f"no loaded plot on core.html: {sizes}"
    # links from one symbol's prose to its doc resolve to an anchor on the page (as core.html#finding does on the Quarto site)
    for h in page.eval_on_selector_all('a[href^="#"], a[href^="core.html#"]', 'els => els.map(e => e.getAttribute("href"))'):
        if h != '#': assert page.locator(f'[id="{h.split("#", 1)[1]}"]').count() > 0, f"link {h} on core.html goes to no anchor"
    local_links_ok(page, server)
    shot(page, 'core')
    assert not page.outside, f"core.html asked for {page.outside}"
    assert not page.errors, page.errors

def test_search(page, server):
    want = [(n, p) for n, p in callbacks() if (SITE/p).exists()]
    if not want:
        print("no documented Callback subclasses in recipe yet: searching for preserve_state instead")
        want = [('preserve_state', 'core.html')]
    for name, where in want:
        page.goto(server + 'index.html')
        page.locator('button.search-button-field:visible').first.click()
        page.locator('input[name="q"]:visible').first.fill(name)
        page.keyboard.press('Enter')
        page.wait_for_url('**/search.html?q=*')
        results = page.locator('#search-results li a')
        results.first.wait_for(timeout=15_000)
        hrefs = results.evaluate_all('els => els.map(e => e.getAttribute("href"))')
        assert any(h.split('#')[0].split('?')[0] == where for h in hrefs), f"searching {name} found {hrefs}, not {where}"
    shot(page, 'search')
    assert not page.outside, f"the search page asked for {page.outside}"
    assert not page.errors, page.errors
