"""Sphinx configuration of the course website: `simplex-edu site` (simplex_edu/site.py) writes the pages and
builds them with this folder as Sphinx's configuration folder.
"""

from simplex_edu.site import REPOSITORY

project = "simplex-edu"
author = "the simplex-edu authors"
html_title = "simplex-edu — where do you pay for an answer?"
extensions = ["myst_nb"]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# The lessons arrive executed (site.py runs them): myst-nb only renders them.
nb_execution_mode = "off"
nb_merge_streams = True
nb_ipywidgets_js = {}  # no widget manager from a CDN: explorers are pictures on the site

# MathJax is served from the site itself (site.py copies it into _static/mathjax), never from a CDN.
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": REPOSITORY,
    "use_repository_button": True,
    "use_download_button": False,  # a page's source is not the learner's notebook: the launch box links to that
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    # No in-page contents column on the right: the article then has room for the course's ~115-character code
    # lines. The page's sections are listed in the left-hand column instead, under the pages (html_sidebars).
    "secondary_sidebar_items": [],
}
# Light by default (the figures are drawn on white); the theme logs an error when no mode is set.
html_context = {"default_mode": "light"}
html_static_path = ["static"]
html_css_files = ["site.css"]
html_copy_source = False  # the notebooks are in the repository; the site need not carry them twice
html_show_sourcelink = False
# The theme's own sidebar, but the course's name in a landmark (site/templates/sidebar-brand.html): every site
# page passes axe-core with no violation (tests/test_browser_accessibility.py). Under the pages, this page's
# sections ("Contents", the theme's in-page table of contents). One search: the header's button (Ctrl+K), shown on
# every screen width, so no second search field in the sidebar.
templates_path = ["templates"]
html_sidebars = {"**": ["sidebar-brand.html", "icon-links.html", "sbt-sidebar-nav.html", "page-toc.html"]}
