// Draws the lab's figures: each <div class="lab-plot" data-figure="…/ID.json"> becomes
// an interactive plotly figure drawn from its JSON file, in the colours of the current
// material palette, and re-coloured when the reader switches light/dark.
// plotly.js (the one copy, served next to this script) loads only on pages with a figure.
(() => {
  const PLOTLY_URL = new URL("plotly.min.js", document.currentScript.src).href;
  const SCHEMES = {
    default: { paper: "#ffffff", plot: "#f5f6fa", font: "#1f2328", grid: "#dde1ea" },
    slate: { paper: "#1e2129", plot: "#262a35", font: "#e2e4e9", grid: "#3b4050" },
  };
  let plotly = null;

  function loadPlotly() {
    plotly ??= new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = PLOTLY_URL;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error(`could not load ${PLOTLY_URL}`));
      document.head.append(script);
    });
    return plotly;
  }

  // A relayout update that puts the figure in the palette's colours, on every axis.
  function colours(layout) {
    const c = SCHEMES[document.body.dataset.mdColorScheme] || SCHEMES.default;
    const update = { paper_bgcolor: c.paper, plot_bgcolor: c.plot, "font.color": c.font };
    const axes = Object.keys(layout || {}).filter((key) => /^[xy]axis\d*$/.test(key));
    for (const axis of new Set(["xaxis", "yaxis", ...axes])) {
      update[`${axis}.gridcolor`] = c.grid;
      update[`${axis}.zerolinecolor`] = c.grid;
    }
    return update;
  }

  async function fetchFigure(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  async function draw(div) {
    const [Plotly, figure] = await Promise.all([loadPlotly(), fetchFigure(div.dataset.figure)]);
    await Plotly.newPlot(div, figure.data, figure.layout, { responsive: true, displaylogo: false });
    await Plotly.relayout(div, colours(figure.layout));
  }

  function drawAll() {
    for (const div of document.querySelectorAll(".lab-plot:not([data-drawn])")) {
      div.dataset.drawn = "";
      draw(div).catch((err) => {
        div.classList.add("lab-broken");
        div.textContent = `This figure could not be drawn: ${err.message}`;
      });
    }
  }

  function recolour() {
    for (const div of document.querySelectorAll(".lab-plot.js-plotly-plot")) {
      window.Plotly.relayout(div, colours(div.layout));
    }
  }

  new MutationObserver(recolour).observe(document.body, {
    attributes: true,
    attributeFilter: ["data-md-color-scheme"],
  });
  // material's instant navigation swaps pages without reloading: document$ emits on each.
  if (window.document$) window.document$.subscribe(drawAll);
  else drawAll();
})();
