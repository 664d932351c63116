// Draws the graph of the notes from graph.json (written at build time: nodes and edges):
// - on the graph page, <div class="lab-graph lab-graph--all">: every note, laid out
//   here by d3-force (vendored: assets/vendor/d3-force, loaded before this script),
//   with the page's filters (<select data-filter="project|kind|status">) and colour choice;
// - on each note, <div class="lab-graph lab-graph--local" data-node="SRC">: the note
//   and its neighbours (links in and out), around it in a circle.
// Plain SVG; every colour comes from graph.css, so material's light/dark switch
// recolours the graph without any script. A click on a node opens its note.
(() => {
  const DATA_URL = new URL("graph.json", document.currentScript.src).href;
  const SITE_ROOT = new URL("../../", document.currentScript.src); // this script is in assets/lab/
  const SVG = "http://www.w3.org/2000/svg";
  const LABEL_PX = 12; // labels keep this size on screen at any zoom
  const HUBS = 8; // on the graph page, the best-linked nodes are always labelled
  // Steps of the layout, cooling from alpha 1 to d3's alphaMin (0.001): d3's default
  // is 300; 120 keep the same picture at 1,000 notes in 0.4 of the time (~0.6 s
  // against ~1.5 s in Chromium on a loaded 2-core machine).
  const LAYOUT_STEPS = 120;
  let loaded = null; // graph.json, fetched once per visit (instant navigation keeps it)

  function load() {
    loaded ??= fetch(DATA_URL).then((response) => {
      if (!response.ok) throw new Error(`${DATA_URL}: HTTP ${response.status}`);
      return response.json();
    }).then(withNeighbours);
    return loaded;
  }

  function withNeighbours(data) {
    data.index = new Map(data.nodes.map((node, i) => [node.id, i]));
    data.near = data.nodes.map(() => new Set());
    for (const [a, b] of data.edges) {
      data.near[a].add(b);
      data.near[b].add(a);
    }
    return data;
  }

  function svgElement(name, attributes, parent) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    parent.append(element);
    return element;
  }

  // A node's radius in pixels: larger the more it links; `size` below 1 where they are many.
  const nodeRadius = (data, i, size = 1) => Math.min(14, size * (3 + 1.5 * Math.sqrt(data.near[i].size)));

  const cssName = (value) => value.replace(/[^a-z0-9]+/gi, "-").toLowerCase() || "none";

  // The nodes `shown` (indexes into data.nodes) at `at[i]` = [x, y] pixels, with the
  // edges among them, in a width x height picture.
  // `size` scales the nodes: below 1 where they stand close together.
  function draw(container, data, shown, at, width, height, size = 1) {
    const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, class: "lab-graph__picture" }, container);
    const edgeLayer = svgElement("g", { class: "lab-graph__edges" }, svg);
    const nodeLayer = svgElement("g", { class: "lab-graph__nodes" }, svg);
    const nodes = new Map();
    const edges = new Map(shown.map((i) => [i, []])); // node -> its lines
    const lines = [];
    for (const [a, b] of data.edges) {
      if (!at.has(a) || !at.has(b)) continue;
      const [x1, y1] = at.get(a), [x2, y2] = at.get(b);
      const line = svgElement("line", { x1, y1, x2, y2, class: "lab-edge" }, edgeLayer);
      line.ends = [a, b];
      lines.push(line);
      edges.get(a).push(line);
      edges.get(b).push(line);
    }
    for (const i of shown) {
      const node = data.nodes[i];
      const [x, y] = at.get(i);
      const group = svgElement("g", {
        class: `lab-node kind-${cssName(node.kind)} status-${cssName(node.status)}`,
        "data-id": node.id, role: "link", tabindex: 0,
      }, nodeLayer);
      const radius = nodeRadius(data, i, size);
      svgElement("circle", { cx: x, cy: y, r: radius }, group);
      const label = node.title.length > 40 ? `${node.title.slice(0, 39)}…` : node.title; // all of it on hover
      svgElement("text", { x: x + radius + 2, y: y + 4 }, group).textContent = label;
      svgElement("title", {}, group).textContent =
        `${node.title} (${[node.kind, node.status].filter(Boolean).join(", ")})`;
      const open = () => window.location.assign(new URL(node.url, SITE_ROOT).href);
      group.addEventListener("click", open);
      group.addEventListener("keydown", (event) => event.key === "Enter" && open());
      group.addEventListener("mouseenter", () => highlight(svg, [group, ...neighbourNodes(i)], edges.get(i), true));
      group.addEventListener("mouseleave", () => highlight(svg, [group, ...neighbourNodes(i)], edges.get(i), false));
      nodes.set(i, group);
    }
    function neighbourNodes(i) {
      return [...data.near[i]].filter((j) => nodes.has(j)).map((j) => nodes.get(j));
    }
    return { svg, nodes, edges, lines };
  }

  // Hovering a node shows it, its neighbours and its edges, and dims the rest.
  function highlight(svg, nodes, edges, on) {
    svg.classList.toggle("lab-graph--focus", on);
    for (const element of [...nodes, ...edges]) element.classList.toggle("lab-near", on);
  }

  // Where each node goes on the graph page, by d3-force: linked nodes pull together
  // (springs, weaker at hubs), all push apart (many-body, Barnes-Hut), none overlap
  // (collision, by each node's radius), and a weak pull to the centre keeps unlinked
  // notes in view. Run to rest before drawing, not animated, and once per visit
  // (instant navigation keeps `data`); d3-force seeds its own randomness, so the same
  // graph lays out the same.
  function layoutAll(data) {
    if (!data.at) {
      const points = data.nodes.map(() => ({}));
      const simulation = d3.forceSimulation(points)
        .force("link", d3.forceLink(data.edges.map(([source, target]) => ({ source, target }))).distance(30))
        .force("charge", d3.forceManyBody().strength(-60))
        .force("collide", d3.forceCollide((_, i) => 2 + nodeRadius(data, i)))
        .force("x", d3.forceX().strength(0.05))
        .force("y", d3.forceY().strength(0.05))
        .alphaDecay(1 - Math.pow(0.001, 1 / LAYOUT_STEPS))
        .stop();
      simulation.tick(LAYOUT_STEPS);
      data.at = points.map((point) => [point.x, point.y]);
    }
    return data.at;
  }

  // The layout fitted to the box, leaving room on the right for labels, which run
  // rightwards. The legend goes above the picture.
  function drawAll(container, data) {
    const legendBox = legend(container, data);
    const width = container.clientWidth || 800;
    const height = (container.clientHeight || 600) - legendBox.offsetHeight;
    const fit = (values, from, to) => {
      const low = Math.min(...values), span = Math.max(...values) - low || 1;
      return values.map((v) => from + (v - low) / span * (to - from));
    };
    const positions = layoutAll(data);
    const xs = fit(positions.map(([x]) => x), 30, width - 180);
    const ys = fit(positions.map(([, y]) => y), 30, height - 30);
    const at = new Map(data.nodes.map((_, i) => [i, [xs[i], ys[i]]]));
    const shown = data.nodes.map((_, i) => i);
    const spacing = Math.sqrt(width * height / data.nodes.length); // between neighbours, in pixels
    const picture = draw(container, data, shown, at, width, height, Math.min(1, spacing / 40));
    // Labelled at every zoom: the few nodes linked far more than most (projects, as a rule).
    const degrees = shown.map((i) => data.near[i].size).sort((a, b) => a - b);
    const typical = degrees[Math.floor(degrees.length / 2)];
    const hubs = [...shown].sort((a, b) => data.near[b].size - data.near[a].size).slice(0, HUBS);
    for (const i of hubs) {
      if (data.near[i].size >= 3 * typical) picture.nodes.get(i).classList.add("lab-node--hub");
    }
    zoomable(picture.svg, width, height, (zoom) => {
      picture.svg.style.fontSize = `${LABEL_PX / zoom}px`;
      picture.svg.classList.toggle("lab-graph--labels", spacing * zoom >= 60);
    });
    filters(data, picture);
  }

  // Wheel to zoom around the pointer, drag the background to move.
  function zoomable(svg, width, height, onZoom) {
    const view = { x: 0, y: 0, w: width, h: height };
    const apply = () => {
      svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
      onZoom(width / view.w);
    };
    svg.addEventListener("wheel", (event) => {
      event.preventDefault();
      const box = svg.getBoundingClientRect();
      const factor = Math.min(Math.max(Math.exp(event.deltaY * 0.002), 0.5), 2);
      const w = Math.min(Math.max(view.w * factor, width / 40), width * 2);
      const fx = (event.clientX - box.left) / box.width, fy = (event.clientY - box.top) / box.height;
      view.x += (view.w - w) * fx;
      view.y += (view.h - w * height / width) * fy;
      view.w = w;
      view.h = w * height / width;
      apply();
    }, { passive: false });
    let drag = null;
    svg.addEventListener("pointerdown", (event) => {
      if (event.target.closest(".lab-node")) return;
      drag = { x: event.clientX, y: event.clientY };
      svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const box = svg.getBoundingClientRect();
      view.x -= (event.clientX - drag.x) * view.w / box.width;
      view.y -= (event.clientY - drag.y) * view.h / box.height;
      drag = { x: event.clientX, y: event.clientY };
      apply();
    });
    svg.addEventListener("pointerup", () => { drag = null; });
    apply();
  }

  // What each colour means, for the current "colour by".
  function legend(container, data) {
    const box = document.createElement("p");
    box.className = "lab-graph__legend";
    container.append(box);
    const by = document.querySelector("[data-colour-by]");
    const fill = () => {
      const facet = by ? by.value : "kind";
      container.classList.toggle("lab-graph--by-status", facet === "status");
      box.replaceChildren(...data.facets[facet].map(([value, label]) => {
        const item = document.createElement("span");
        item.className = `lab-graph__key ${facet}-${cssName(value)}`;
        item.textContent = label;
        return item;
      }));
    };
    by?.addEventListener("change", fill);
    fill();
    return box;
  }

  // A node is shown when it matches every chosen filter; an edge when both its ends are.
  function filters(data, picture) {
    const selects = [...document.querySelectorAll("[data-filter]")];
    const apply = () => {
      const chosen = selects.filter((s) => s.value !== "*").map((s) => [s.dataset.filter, s.value]);
      const hidden = new Set();
      for (const [i, group] of picture.nodes) {
        const node = data.nodes[i];
        const hide = chosen.some(([facet, value]) => node[facet] !== value);
        group.classList.toggle("lab-hidden", hide);
        if (hide) hidden.add(i);
      }
      for (const line of picture.lines) {
        line.classList.toggle("lab-hidden", hidden.has(line.ends[0]) || hidden.has(line.ends[1]));
      }
    };
    for (const select of selects) select.addEventListener("change", apply);
    apply();
  }

  // The note and its neighbours, these on one ring (two, and smaller, when there are many).
  function drawLocal(container, data) {
    const centre = data.index.get(container.dataset.node);
    if (centre === undefined || !data.near[centre].size) {
      container.hidden = true;
      return;
    }
    const neighbours = [...data.near[centre]].sort((a, b) =>
      data.nodes[a].kind.localeCompare(data.nodes[b].kind) || data.nodes[a].title.localeCompare(data.nodes[b].title));
    const width = container.clientWidth || 600, height = container.clientHeight || 280;
    const rx = width / 2 - 160, ry = height / 2 - 24; // an ellipse, leaving room for labels
    const at = new Map([[centre, [width / 2, height / 2]]]);
    neighbours.forEach((j, n) => {
      const angle = (2 * Math.PI * n) / neighbours.length - Math.PI / 2;
      const ring = neighbours.length > 16 && n % 2 ? 0.6 : 1;
      at.set(j, [width / 2 + ring * rx * Math.cos(angle), height / 2 + ring * ry * Math.sin(angle)]);
    });
    const picture = draw(container, data, [centre, ...neighbours], at, width, height,
      Math.min(1, 32 / neighbours.length));
    picture.nodes.get(centre).classList.add("lab-node--self");
    picture.svg.classList.toggle("lab-graph--labels", neighbours.length <= 16);
  }

  function drawPage() {
    const containers = document.querySelectorAll(".lab-graph:not([data-drawn])");
    if (!containers.length) return;
    load().then((data) => {
      for (const container of containers) {
        container.dataset.drawn = "";
        if (container.classList.contains("lab-graph--local")) drawLocal(container, data);
        else drawAll(container, data);
      }
    }).catch((err) => {
      for (const container of containers) {
        container.classList.add("lab-broken");
        container.textContent = `The graph could not be drawn: ${err.message}`;
      }
    });
  }

  // material's instant navigation swaps pages without reloading: document$ emits on each.
  if (window.document$) window.document$.subscribe(drawPage);
  else drawPage();
})();
