# SPDX-License-Identifier: GPL-2.0
# Sphinx configuration: `sphinx-build -W -b html Documentation OUT` (testing/build --lint runs it).
project = "rust_utimer"
copyright = "rust_utimer developers"
root_doc = "index"
exclude_patterns = []
highlight_language = "none"
html_theme = "alabaster"
