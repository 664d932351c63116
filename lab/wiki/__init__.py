"""The wiki: the researcher's notes and the experiment pages as one linked notebook.

- ``notes``: front matter, the kinds of note and their validation, scaffolding.
- ``links``: wikilinks, figure embeds and metric citations; resolution; the graph
  of all pages with its backlinks.
- ``pages``: what the wiki generates: indexes and experiment provenance (Markdown),
  backlinks (HTML, added after Markdown and search).
- ``plugin``: the MkDocs plugin, thin glue over the three modules above.

Nothing here imports torch or TransformerLens: the wiki reads experiment results
only through ``lab.results``.
"""
