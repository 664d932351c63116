"""The wiki: the researcher's notes and the experiment pages as one linked notebook.

- ``notes``: front matter, the kinds of note and their validation, scaffolding.
- ``links``: wikilinks, figure embeds and metric citations; resolution; the graph
  of all pages with its backlinks.
- ``pages``: what the wiki generates: indexes and experiment provenance (Markdown),
  backlinks (HTML, added after Markdown and search).
- ``graph``: the graph of the notes (nodes, edges, filters, layout) as graph.json,
  drawn by ``assets/graph.js`` on the graph page and, around each note, its neighbours.
- ``tags``: the tags index page, and each note's tags as links to it.
- ``plugin``: the MkDocs plugin (ProperDocs or MkDocs 1.x), thin glue over the
  modules above; its docstring says what the glue is.

Nothing here imports torch or TransformerLens: the wiki reads experiment results
only through ``lab.results``.
"""
