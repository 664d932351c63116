"""The wiki: the researcher's notes and the experiment pages as one linked notebook.

- ``notes``: front matter, the kinds of note and their validation, scaffolding.
- ``syntax``: the notes' own syntax (wikilinks, embeds, metric citations), written
  and read in one place; ``mask``: what link processing leaves alone (code, math).
- ``links``: resolution by Obsidian's rules; the graph of all pages with its
  backlinks; rendering of links, images, figures and transclusions.
- ``outline``: a note's headings and ``^block`` ids, which anchors point at.
- ``pages``: what the wiki generates: indexes and experiment provenance (Markdown),
  backlinks (HTML, added after Markdown and search); ``folders``: a section per
  folder outside the kind folders.
- ``callouts``: Obsidian callouts as admonitions; ``math``: the Markdown extension
  that writes ``$…$`` as MathML; ``vault``: an Obsidian vault read in place.
- ``plugin``: the MkDocs plugin, thin glue over the modules above.

Nothing here imports torch or TransformerLens: the wiki reads experiment results
only through ``lab.results``.
"""
