# Sphinx configuration for recipe's offline docs site; `python .ci/docs.py` stages the processed notebooks and runs
# sphinx-build with this folder as its configuration directory. Project facts come from settings.ini.
from nbdev.config import get_config

cfg = get_config()
project, author, copyright = cfg.title, cfg.author, cfg.copyright
version = release = cfg.version

extensions = ['myst_nb']
root_doc = 'index'
exclude_patterns = ['_build', '**.ipynb_checkpoints']

# The notebooks carry their outputs and nbdev already ran their show_doc cells: nothing is executed here.
nb_execution_mode = 'off'
nb_merge_streams = True
nb_render_markdown_format = 'myst'  # markdown outputs (a Report's table) get tables like the pages do
myst_enable_extensions = ['colon_fence']
# Links are written as the Quarto site has them (core.html#finding): keep them as they are, unresolved.
myst_all_links_external = True
# nbdev removes `## Name -` headings, so a show_doc H3 can follow the H1 directly, as on the Quarto site.
suppress_warnings = ['myst.header']

html_theme = 'sphinx_book_theme'
html_title = cfg.title
html_static_path = ['static']
html_css_files = ['recipe.css']
html_copy_source = html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = dict(
    repository_url=cfg.git_url, repository_branch=cfg.branch, path_to_docs=cfg.nbs_path.name,
    use_repository_button=True, use_download_button=False, home_page_in_toc=True, show_toc_level=2, navigation_with_keys=False)
