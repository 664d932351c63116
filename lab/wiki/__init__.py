"""The wiki: the researcher's notes and the experiment pages as one linked notebook.

- ``notes``: front matter, the kinds of note and their validation; ``scaffold``: new notes
  that build strictly as soon as they are made.
- ``syntax``: the notes' own syntax (wikilinks, embeds, metric citations), written
  and read in one place; ``mask``: what link processing leaves alone (code, math).
- ``links``: resolution by Obsidian's rules; the graph of all pages with its
  backlinks; rendering of links, images, figures and transclusions.
- ``citations``: what metric citations and figure embeds resolve to: a recorded value,
  an error, or a value pending (a run will record it); ``freshness``: whether the
  results shown are fresh, as ``make status`` judges them.
- ``outline``: a note's headings and ``^block`` ids, which anchors point at.
- ``pages``: what the wiki generates: indexes and experiment provenance (Markdown),
  backlinks (HTML, added after Markdown and search); ``folders``: a section per
  folder outside the kind folders; ``metaline``: the line of front-matter fields
  under a note's title.
- ``htmllinks``: the links the wiki writes (and a note's meta line), put into the
  HTML after the conversion rather than parsed as Markdown.
- ``callouts``: Obsidian callouts as admonitions; ``math``: the Markdown extension
  that writes ``$…$`` as MathML; ``vault``: an Obsidian vault read in place.
- ``graph``: the graph of the notes (nodes, edges, filters) as graph.json, laid out
  by d3-force (vendored) and drawn by ``assets/graph.js`` on the graph page and,
  around each note, its neighbours.
- ``tags``: the tags index page, and each note's tags as links to it.
- ``plugin``: the MkDocs plugin (ProperDocs or MkDocs 1.x), thin glue over the
  modules above; its docstring says what the glue is.

Nothing here imports torch or TransformerLens: the wiki reads experiment results
only through ``lab.results``.
"""
