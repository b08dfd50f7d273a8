// The ER diagram: the server sends the tables, columns and foreign keys to draw
// (diagram.json), ELK lays them out (layered, one port per key column, on the page's
// own thread: see engine()), and this file draws them as SVG. Panzoom pans and zooms it.
// Every name is user text: it only ever reaches the page as a text node.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var FONT_FAMILY = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
  var FONT_SIZE = 12;
  var ROW = 20;
  var HEAD = 26;
  var PAD = 8;
  var GAP = 18;
  var STYLE = [
    ".backdrop { fill: #fff; }",
    "text { font-family: " + FONT_FAMILY + "; font-size: " + FONT_SIZE + "px; fill: #1f2933; }",
    ".table-box { fill: #fff; stroke: #8a94a6; }",
    ".table-head { fill: #e8eef6; }",
    ".table-name { font-weight: bold; }",
    ".column-type, .more { fill: #5f6b7a; }",
    ".key { fill: #9a5b00; font-weight: bold; }",
    ".link path { fill: none; stroke: #6b7a90; stroke-width: 1.4; }",
    ".marker { fill: none; stroke: #6b7a90; stroke-width: 1.4; }",
    ".highlighting .table:not(.lit), .highlighting .link:not(.lit) { opacity: 0.18; }",
    ".link.lit path { stroke: #0b6bcb; stroke-width: 2.2; }",
    ".table.lit .table-box { stroke: #0b6bcb; }",
    ".table.chosen .table-box { stroke: #0b6bcb; stroke-width: 3; }",
    "a.table:focus { outline: none; }",
    "a.table:focus .table-box { stroke: #0b6bcb; stroke-width: 3; }",
  ].join("\n");
  // Dark mode on screen (and in an export asked for dark): these follow the light rules.
  var DARK = [
    ".backdrop { fill: #13171f; }",
    "text { fill: #dde3ea; }",
    ".table-box { fill: #1b212c; stroke: #5d6a7d; }",
    ".table-head { fill: #263142; }",
    ".column-type, .more { fill: #98a4b3; }",
    ".key { fill: #f0b35a; }",
    ".link path, .marker { stroke: #8b9ab0; }",
    ".link.lit path, .table.lit .table-box, .table.chosen .table-box, a.table:focus .table-box { stroke: #5aa9f5; }",
  ].join("\n");
  var darkScheme = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function paint(svg, dark) {
    svg.querySelector("style").textContent = STYLE + (dark ? "\n" + DARK : "");
  }

  var page, figure, canvas, status, stepsSelect, findForm;
  var state = { focus: "", steps: "", hash: "", data: null, drawing: false, chosen: null };
  var layoutEngine = null;
  var panzoom = null;
  var measurer = null;
  var pressed = null;
  var LAYOUT_INDEX = "diagram-layouts";
  var LAYOUT_PREFIX = "diagram-layout:";
  var LAYOUTS_KEPT = 8;

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (key) {
      node.setAttribute(key, attrs[key]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Widths come from one canvas context (no layout of the page), each distinct text once:
  // types repeat across tables, and setting the context's font is itself not free.
  function textWidth(text, bold) {
    var key = (bold ? "b" : "n") + text;
    if (!measurer) measurer = { context: document.createElement("canvas").getContext("2d"), bold: null, widths: {} };
    if (!(key in measurer.widths)) {
      if (measurer.bold !== Boolean(bold)) {
        measurer.bold = Boolean(bold);
        measurer.context.font = (bold ? "bold " : "") + FONT_SIZE + "px " + FONT_FAMILY;
      }
      measurer.widths[key] = Math.ceil(measurer.context.measureText(text).width);
    }
    return measurer.widths[key];
  }

  function keyMarks(column) {
    return [column.pk && "PK", column.fk && "FK", column.uk && "UK"].filter(Boolean).join(" ");
  }

  // Sizes of a table's box from its text, before layout.
  function measure(table) {
    var nameWidth = 0;
    var typeWidth = 0;
    table.columns.forEach(function (column) {
      nameWidth = Math.max(nameWidth, textWidth(column.column));
      var marks = keyMarks(column);
      typeWidth = Math.max(typeWidth, textWidth(column.type + (marks ? "  " + marks : "")));
    });
    var more = (table.links_outside ? 1 : 0) + (table.partitions ? 1 : 0);
    var width = Math.max(textWidth(table.table_name, true) + 2 * PAD, nameWidth + GAP + typeWidth + 2 * PAD, 120);
    return { width: width, height: HEAD + (table.columns.length + more) * ROW + 4, nameWidth: nameWidth };
  }

  function portId(columnId, side) {
    return "p:" + columnId + ":" + side;
  }

  function rowOf(table, columnId) {
    for (var i = 0; i < table.columns.length; i += 1) {
      if (table.columns[i].id === columnId) return i;
    }
    return -1;
  }

  // The ELK graph: each table a node, each key column that a line starts or ends at a
  // port on its row (starts on the right, ends on the left), so lines meet columns.
  function layoutGraph(data, boxes) {
    var byId = {};
    data.tables.forEach(function (table) {
      byId[table.id] = { table: table, ports: {} };
    });
    function port(tableId, columnId, side) {
      var entry = byId[tableId];
      var row = columnId ? rowOf(entry.table, columnId) : -1;
      if (row < 0) return tableId;
      var id = portId(columnId, side);
      entry.ports[id] = {
        id: id,
        x: side === "e" ? boxes[tableId].width : 0,
        y: HEAD + row * ROW + ROW / 2,
        width: 0,
        height: 0,
        layoutOptions: { "elk.port.side": side === "e" ? "EAST" : "WEST" },
      };
      return id;
    }
    var edges = data.links.map(function (link) {
      return {
        id: "l:" + link.id,
        sources: [port(link.from_table, link.from_column, "e")],
        targets: [port(link.to_table, link.to_column, "w")],
      };
    });
    return {
      id: "root",
      layoutOptions: {
        "elk.algorithm": "layered",
        "elk.direction": "RIGHT",
        "elk.edgeRouting": "ORTHOGONAL",
        "elk.layered.spacing.nodeNodeBetweenLayers": "70",
        "elk.spacing.nodeNode": "30",
        "elk.spacing.edgeNode": "16",
        "elk.spacing.edgeEdge": "8",
        "elk.spacing.componentComponent": "50",
        "elk.aspectRatio": "1.6",
        // Cheaper than the defaults, as drawn (100 tables, node, CPU time of a first layout):
        // 3 rounds of crossing minimisation instead of 7 gave the same drawings; not sorting
        // by the tables' order took another quarter off (a 100-table tree: 0 crossings either
        // way, 7% less tall; 100 tables with 191 random keys: 2% more crossings).
        "elk.layered.thoroughness": "3",
        "elk.layered.considerModelOrder.strategy": "NONE",
        // Network simplex (the default) put every table that points at the same one in a
        // single column: 100 linked tables came out 1,504 x 31,364 px; this, 10,204 x 8,066.
        "elk.layered.layering.strategy": "COFFMAN_GRAHAM",
      },
      children: data.tables.map(function (table) {
        var ports = byId[table.id].ports;
        return {
          id: table.id,
          width: boxes[table.id].width,
          height: boxes[table.id].height,
          layoutOptions: { "elk.portConstraints": "FIXED_POS" },
          ports: Object.keys(ports).map(function (key) {
            return ports[key];
          }),
        };
      }),
      edges: edges,
    };
  }

  function markers() {
    var defs = el("defs");
    // The "many" end: a crow's foot where the foreign key column is, its toes on the
    // table's edge and its point out along the line (so no box ever covers it).
    var many = el("marker", { id: "many", viewBox: "0 0 12 12", refX: "0", refY: "6", markerWidth: "12", markerHeight: "12", orient: "auto", markerUnits: "userSpaceOnUse" });
    many.appendChild(el("path", { class: "marker", d: "M 11 6 L 0 1 M 11 6 L 0 6 M 11 6 L 0 11" }));
    var one = el("marker", { id: "one", viewBox: "0 0 12 12", refX: "11", refY: "6", markerWidth: "12", markerHeight: "12", orient: "auto", markerUnits: "userSpaceOnUse" });
    one.appendChild(el("path", { class: "marker", d: "M 5 1 L 5 11 M 8 1 L 8 11" }));
    defs.appendChild(many);
    defs.appendChild(one);
    return defs;
  }

  function tableUrl(id) {
    return page.dataset.tableUrl.replace("TABLE_ID", encodeURIComponent(id));
  }

  function drawTable(table, box) {
    var group = el("a", {
      class: "table",
      href: tableUrl(table.id),
      "data-id": table.id,
      "data-name": table.table_name,
      "aria-label": "Table " + table.table_name + (table.name !== table.table_name ? " (" + table.name + ")" : ""),
    });
    group.appendChild(el("title", {}, table.name));
    group.appendChild(el("rect", { class: "table-box", width: box.width, height: box.height, rx: "4" }));
    group.appendChild(el("rect", { class: "table-head", x: "1", y: "1", width: box.width - 2, height: HEAD - 2, rx: "3" }));
    group.appendChild(el("text", { class: "table-name", x: PAD, y: HEAD - 8 }, table.table_name));
    table.columns.forEach(function (column, index) {
      var y = HEAD + index * ROW + ROW - 6;
      var row = el("g", { class: "column", "data-column": column.column });
      if (column.name !== column.column) row.appendChild(el("title", {}, column.name));
      row.appendChild(el("text", { class: "column-name", x: PAD, y: y }, column.column));
      var type = el("text", { class: "column-type", x: PAD + box.nameWidth + GAP, y: y }, column.type);
      var marks = keyMarks(column);
      if (marks) type.appendChild(el("tspan", { class: "key" }, "  " + marks));
      row.appendChild(type);
      group.appendChild(row);
    });
    var extra = table.columns.length;
    if (table.links_outside) {
      var words = "+" + table.links_outside + " link" + (table.links_outside > 1 ? "s" : "") + " to tables not shown";
      group.appendChild(el("text", { class: "more", x: PAD, y: HEAD + extra * ROW + ROW - 6 }, words));
      extra += 1;
    }
    if (table.partitions) {
      // Partitions are folded into their parent: their columns are its columns.
      var folded = table.partitions + " partition" + (table.partitions > 1 ? "s" : "");
      group.appendChild(el("text", { class: "more partitions", x: PAD, y: HEAD + extra * ROW + ROW - 6 }, folded));
    }
    return group;
  }

  function pathOf(edge) {
    var parts = [];
    (edge.sections || []).forEach(function (section) {
      var points = [section.startPoint].concat(section.bendPoints || [], [section.endPoint]);
      points.forEach(function (point, index) {
        parts.push((index === 0 ? "M " : "L ") + point.x + " " + point.y);
      });
    });
    return parts.join(" ");
  }

  // The drawing before its layout: the tables at the origin, no lines yet.
  function drawTables(data, boxes) {
    var svg = el("svg", { xmlns: SVG, role: "img" });
    svg.appendChild(el("title", {}, "Entity-relationship diagram: " + data.tables.length + " tables"));
    svg.appendChild(el("style", {}, STYLE));
    paint(svg, darkScheme && darkScheme.matches);
    svg.appendChild(markers());
    svg.appendChild(el("rect", { class: "backdrop", width: "100%", height: "100%" }));
    var tables = el("g", { class: "tables" });
    data.tables.forEach(function (table) {
      tables.appendChild(drawTable(table, boxes[table.id]));
    });
    svg.appendChild(tables);
    // Lines (and their ends) above the boxes they meet.
    svg.appendChild(el("g", { class: "links" }));
    return svg;
  }

  // The layout applied: each table moved to its place, the lines drawn between them.
  function place(svg, data, layout) {
    var width = Math.ceil(layout.width || 0) + 2;
    var height = Math.ceil(layout.height || 0) + 2;
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    var nodes = {};
    (layout.children || []).forEach(function (node) {
      nodes[node.id] = node;
    });
    svg.querySelectorAll("a.table").forEach(function (group) {
      var node = nodes[group.dataset.id];
      group.setAttribute("transform", "translate(" + node.x + "," + node.y + ")");
    });
    var edges = {};
    (layout.edges || []).forEach(function (edge) {
      edges[edge.id] = edge;
    });
    var links = svg.querySelector("g.links");
    data.links.forEach(function (link) {
      var edge = edges["l:" + link.id];
      if (!edge) return;
      var group = el("g", { class: "link", "data-from": link.from_table, "data-to": link.to_table });
      var from = tableName(data, link.from_table);
      var to = tableName(data, link.to_table);
      group.appendChild(el("title", {}, link.name + ": " + from + " → " + to));
      group.appendChild(el("path", { d: pathOf(edge), "marker-start": "url(#many)", "marker-end": "url(#one)" }));
      links.appendChild(group);
    });
  }

  function tableName(data, id) {
    for (var i = 0; i < data.tables.length; i += 1) {
      if (data.tables[i].id === id) return data.tables[i].table_name;
    }
    return "";
  }

  // Neighbour highlight: a table, the tables linked to it and the lines between them.
  function highlight(id) {
    var svg = canvas.querySelector("svg");
    if (!svg) return;
    svg.querySelectorAll(".lit").forEach(function (node) {
      node.classList.remove("lit");
    });
    id = id || state.chosen;
    svg.classList.toggle("highlighting", Boolean(id));
    if (!id) return;
    var lit = {};
    lit[id] = true;
    svg.querySelectorAll(".link").forEach(function (link) {
      if (link.dataset.from === id || link.dataset.to === id) {
        link.classList.add("lit");
        lit[link.dataset.from] = true;
        lit[link.dataset.to] = true;
      }
    });
    svg.querySelectorAll(".table").forEach(function (table) {
      if (lit[table.dataset.id]) table.classList.add("lit");
      table.classList.toggle("chosen", table.dataset.id === state.chosen);
    });
  }

  function view() {
    return { width: figure.clientWidth, height: figure.clientHeight };
  }

  // Panzoom scales about the canvas's centre: translate so that `point` (canvas units)
  // lands in the middle of the figure at `scale`.
  function centreOn(point, scale) {
    var box = view();
    var size = canvas.getBoundingClientRect();
    var current = panzoom.getScale();
    var centre = { x: size.width / current / 2, y: size.height / current / 2 };
    panzoom.zoom(scale, { animate: false, force: true });
    panzoom.pan(
      (box.width / 2 - centre.x) / scale - point.x + centre.x,
      (box.height / 2 - centre.y) / scale - point.y + centre.y,
      { animate: false, force: true }
    );
  }

  // The canvas takes the window's height below the toolbar (the page need not scroll to
  // see all of it), so Fit fits the drawing into what is in sight.
  function fillRoom() {
    var top = figure.getBoundingClientRect().top + window.scrollY;
    figure.style.height = Math.max(320, Math.floor(window.innerHeight - top - 12)) + "px";
  }

  function fit() {
    var svg = canvas.querySelector("svg");
    if (!svg || !panzoom) return;
    var width = Number(svg.getAttribute("width"));
    var height = Number(svg.getAttribute("height"));
    var box = view();
    // The status line sits over the canvas's top: the drawing fits below it.
    var over = status.offsetHeight + 8;
    var scale = Math.min(1, (box.width - 16) / width, (box.height - 16 - over) / height);
    scale = Math.max(scale, 0.05);
    centreOn({ x: width / 2, y: height / 2 - over / 2 / scale }, scale);
  }

  function focusTable(id) {
    var group = canvas.querySelector('.table[data-id="' + CSS.escape(id) + '"]');
    if (!group) return false;
    state.chosen = id;
    var box = group.getBBox();
    var match = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(group.getAttribute("transform"));
    centreOn({ x: Number(match[1]) + box.width / 2, y: Number(match[2]) + box.height / 2 }, Math.max(panzoom.getScale(), 1));
    highlight();
    return true;
  }

  function describe(data) {
    var count = data.tables.length;
    var words;
    if (data.total === 0) return "No tables yet: add one on the Tables tab.";
    if (data.steps === "all") {
      words = "Showing all " + count + " tables.";
    } else {
      words = "Showing " + tableName(data, data.focus) + " and the tables up to " + data.steps + " step" +
        (data.steps > 1 ? "s" : "") + " from it: " + count + " of " + data.total + " tables.";
      if (data.left_out) words += " " + data.left_out + " more within reach are not drawn; choose fewer steps or another table.";
      if (state.steps === "all") words = "The whole schema is too big to draw at once. " + words;
    }
    return words + " Click a table to open it.";
  }

  // ELK runs here rather than in a web worker: a new worker loads and compiles its 1.6 MB
  // anew on every visit and runs it cold, where the page's thread reuses compiled code
  // across visits (100 tables, not kept: drawn in 1.3-1.4 s instead of 2.1-2.4 s, loaded
  // machine). Once warm, a later layout (a teammate's edit) holds the page for a few tenths
  // of a second. Its script is loaded only when a layout is to be computed, and only the
  // layered algorithm is registered.
  function engine() {
    if (!layoutEngine) {
      layoutEngine = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = page.dataset.layoutScript;
        script.onload = function () {
          resolve(new ELK({ algorithms: ["layered"] }));
        };
        script.onerror = function () {
          layoutEngine = null;
          reject(new Error("the layout engine did not load"));
        };
        document.head.appendChild(script);
      });
    }
    return layoutEngine;
  }

  // Layouts computed before, kept in localStorage under a digest of the very graph given to
  // ELK (every name, size, port and option is in it), so that reopening an unchanged diagram
  // skips ELK, whose first layout on a visit costs about a second. A kept layout holds
  // ids and coordinates only, no names. The index lists the newest first, with the diagram
  // (its data URL) each was drawn for.
  function keptIndex() {
    try {
      var index = JSON.parse(window.localStorage.getItem(LAYOUT_INDEX) || "[]");
      return Array.isArray(index) ? index : [];
    } catch (error) {
      return [];
    }
  }

  function keptLayout(digest) {
    if (!keptIndex().some(function (entry) { return entry.digest === digest; })) return null;
    try {
      return JSON.parse(window.localStorage.getItem(LAYOUT_PREFIX + digest));
    } catch (error) {
      return null;
    }
  }

  function keepLayout(digest, diagram, layout) {
    var index = keptIndex().filter(function (entry) {
      return entry.digest !== digest;
    });
    index.unshift({ digest: digest, diagram: diagram });
    var kept = {
      width: layout.width,
      height: layout.height,
      children: (layout.children || []).map(function (node) {
        return { id: node.id, x: node.x, y: node.y };
      }),
      edges: (layout.edges || []).map(function (edge) {
        return { id: edge.id, sections: edge.sections };
      }),
    };
    try {
      index.slice(LAYOUTS_KEPT).forEach(function (entry) {
        window.localStorage.removeItem(LAYOUT_PREFIX + entry.digest);
      });
      index = index.slice(0, LAYOUTS_KEPT);
      window.localStorage.setItem(LAYOUT_PREFIX + digest, JSON.stringify(kept));
      window.localStorage.setItem(LAYOUT_INDEX, JSON.stringify(index));
    } catch (error) {
      // Storage full or refused: the next visit lays the diagram out again.
    }
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (byte) {
      return (byte < 16 ? "0" : "") + byte.toString(16);
    }).join("");
  }

  // SHA-256 of the graph; null where the browser has no WebCrypto (no secure context).
  function graphDigest(graph) {
    if (!window.crypto || !window.crypto.subtle) return Promise.resolve(null);
    var bytes = new TextEncoder().encode(JSON.stringify(graph));
    return window.crypto.subtle.digest("SHA-256", bytes).then(hex, function () {
      return null;
    });
  }

  // The kept layout of `graph`, else ELK's.
  function layOut(graph) {
    return graphDigest(graph).then(function (digest) {
      var kept = digest && keptLayout(digest);
      if (kept) return { layout: kept, kept: true };
      return engine().then(function (elk) {
        return elk.layout(graph);
      }).then(function (layout) {
        if (digest) keepLayout(digest, page.dataset.url, layout);
        return { layout: layout, kept: false };
      });
    });
  }

  function render(data, refit) {
    var started = performance.now();
    var boxes = {};
    data.tables.forEach(function (table) {
      boxes[table.id] = measure(table);
    });
    state.drawing = true;
    return layOut(layoutGraph(data, boxes))
      .then(function (result) {
        var svg = drawTables(data, boxes);
        place(svg, data, result.layout);
        canvas.replaceChildren(svg);
        canvas.style.width = svg.getAttribute("width") + "px";
        canvas.style.height = svg.getAttribute("height") + "px";
        state.data = data;
        state.hash = data.hash;
        if (state.chosen && !canvas.querySelector('.table[data-id="' + CSS.escape(state.chosen) + '"]')) state.chosen = null;
        if (refit) fit();
        highlight();
        status.textContent = describe(data);
        // For bench/diagram.py: layout and drawing, and since the page began to load.
        figure.dataset.drawMs = String(Math.round(performance.now() - started));
        figure.dataset.drawnAt = String(Math.round(performance.now()));
        figure.dataset.drawn = data.hash;
        figure.dataset.layout = result.kept ? "kept" : "computed";
      })
      .catch(function (error) {
        status.textContent = "The diagram could not be drawn: " + error.message;
      })
      .finally(function () {
        state.drawing = false;
      });
  }

  function dataUrl(since) {
    var params = new URLSearchParams();
    if (state.focus) params.set("focus", state.focus);
    if (state.steps) params.set("steps", state.steps);
    if (since) params.set("since", since);
    return page.dataset.url + "?" + params.toString();
  }

  function remember() {
    var params = new URLSearchParams(window.location.search);
    ["focus", "steps"].forEach(function (key) {
      if (state[key]) params.set(key, state[key]);
      else params.delete(key);
    });
    window.history.replaceState(null, "", window.location.pathname + "?" + params.toString());
  }

  // The first request is the one the page preloads (same URL, same mode), the later ones
  // follow the focus and steps chosen since.
  function load(refit, first) {
    var url = first ? page.dataset.firstUrl : dataUrl();
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("the server answered " + response.status);
        return response.json();
      })
      .then(function (data) {
        state.focus = data.focus || "";
        if (data.steps !== "all" && !state.chosen) state.chosen = data.focus;
        if (state.steps !== "all" || data.steps === "all") state.steps = String(data.steps);
        stepsSelect.value = String(data.steps);
        remember();
        return render(data, refit);
      })
      .catch(function (error) {
        status.textContent = "The diagram could not be drawn: " + error.message;
      });
  }

  // Teammates' edits: the server answers 204 while the drawing still matches.
  function poll() {
    if (state.drawing || document.hidden || !state.hash) return;
    fetch(dataUrl(state.hash), { credentials: "same-origin" })
      .then(function (response) {
        return response.status === 200 ? response.json() : null;
      })
      .then(function (data) {
        if (data && !state.drawing) render(data, false);
      })
      .catch(function () {});
  }

  // The names offered while typing: a search of the project's tables (the diagram's data
  // holds only what is drawn).
  function search(text) {
    var url = page.dataset.findUrl + "?" + new URLSearchParams({ q: text.trim() }).toString();
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("the server answered " + response.status);
      return response.json();
    }).then(function (found) {
      return found.tables;
    });
  }

  function fillFinder(found) {
    var list = document.getElementById("diagram-table-names");
    var options = found.map(function (entry) {
      var option = document.createElement("option");
      option.value = entry[1];
      option.textContent = entry[2];
      return option;
    });
    list.replaceChildren.apply(list, options);
  }

  var suggesting = null;
  function suggest() {
    clearTimeout(suggesting);
    suggesting = setTimeout(function () {
      search(findForm.elements.table.value).then(fillFinder).catch(function () {});
    }, 200);
  }

  function find(text) {
    var wanted = text.trim();
    if (!wanted || !state.data) return;
    search(wanted).then(function (found) {
      // A table named so, else the first whose name starts so (ranks 0 and 1).
      var hit = found.find(function (entry) { return entry[3] <= 1; });
      if (!hit) {
        status.textContent = "No table is named “" + wanted + "”.";
        return;
      }
      if (focusTable(hit[0])) return;
      // Not drawn: draw its neighbourhood instead.
      state.focus = hit[0];
      state.chosen = hit[0];
      if (state.steps === "all") state.steps = "1";
      load(true).then(function () {
        focusTable(hit[0]);
      });
    }).catch(function (error) {
      status.textContent = "The search failed: " + error.message;
    });
  }

  function download(name, blob) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () {
      URL.revokeObjectURL(link.href);
    }, 1000);
  }

  function darkExport() {
    var choice = document.getElementById("diagram-export-dark");
    return Boolean(choice && choice.checked);
  }

  // The drawing as a standalone SVG file: no pan or zoom, no highlight; light unless a
  // dark export was asked for, whatever the screen shows.
  function svgText() {
    var svg = canvas.querySelector("svg").cloneNode(true);
    paint(svg, darkExport());
    svg.classList.remove("highlighting");
    svg.querySelectorAll(".lit, .chosen").forEach(function (node) {
      node.classList.remove("lit", "chosen");
    });
    svg.querySelectorAll("a.table").forEach(function (link) {
      link.setAttribute("href", new URL(link.getAttribute("href"), window.location.href).href);
    });
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(svg);
  }

  function fileName(extension) {
    // The server names every download alike (designer.database.exports.file_stem).
    return (page.dataset.fileName || "schema-diagram") + "." + extension;
  }

  function exportSvg() {
    download(fileName("svg"), new Blob([svgText()], { type: "image/svg+xml" }));
  }

  // PNG: the SVG drawn onto a canvas, twice the size where the browser allows it.
  function exportPng() {
    var svg = canvas.querySelector("svg");
    var width = Number(svg.getAttribute("width"));
    var height = Number(svg.getAttribute("height"));
    var scale = Math.min(2, Math.sqrt(16e6 / (width * height)), 16000 / width, 16000 / height);
    var image = new Image();
    image.onload = function () {
      var board = document.createElement("canvas");
      board.width = Math.round(width * scale);
      board.height = Math.round(height * scale);
      var context = board.getContext("2d");
      context.fillStyle = darkExport() ? "#13171f" : "#fff";
      context.fillRect(0, 0, board.width, board.height);
      context.drawImage(image, 0, 0, board.width, board.height);
      board.toBlob(function (blob) {
        download(fileName("png"), blob);
      }, "image/png");
    };
    image.onerror = function () {
      status.textContent = "The PNG could not be made.";
    };
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svgText());
  }

  function startPanzoom() {
    panzoom = Panzoom(canvas, { canvas: true, maxScale: 4, minScale: 0.05, step: 0.25, cursor: "grab" });
    figure.addEventListener("wheel", panzoom.zoomWithWheel);
    // A drag that ends on a table must not open it.
    page.addEventListener("pointerdown", function (event) {
      pressed = { x: event.clientX, y: event.clientY };
    }, true);
    figure.addEventListener("click", function (event) {
      if (pressed && Math.hypot(event.clientX - pressed.x, event.clientY - pressed.y) > 4) {
        event.preventDefault();
      }
    }, true);
  }

  function onKey(event) {
    if (event.target !== figure && !event.target.closest(".diagram")) return;
    if (event.key === "+" || event.key === "=") panzoom.zoomIn({ animate: false });
    else if (event.key === "-") panzoom.zoomOut({ animate: false });
    else if (event.key === "0") fit();
    else return;
    event.preventDefault();
  }

  function bind() {
    page.querySelector('[data-zoom="in"]').addEventListener("click", function () {
      panzoom.zoomIn({ animate: false });
    });
    page.querySelector('[data-zoom="out"]').addEventListener("click", function () {
      panzoom.zoomOut({ animate: false });
    });
    page.querySelector('[data-zoom="fit"]').addEventListener("click", fit);
    page.querySelector('[data-export="svg"]').addEventListener("click", exportSvg);
    page.querySelector('[data-export="png"]').addEventListener("click", exportPng);
    figure.addEventListener("keydown", onKey);
    figure.addEventListener("pointerover", function (event) {
      var table = event.target.closest && event.target.closest(".table");
      if (table) highlight(table.dataset.id);
    });
    figure.addEventListener("pointerleave", function () {
      highlight();
    });
    figure.addEventListener("focusin", function (event) {
      var table = event.target.closest && event.target.closest(".table");
      if (table) highlight(table.dataset.id);
    });
    findForm.elements.table.addEventListener("input", suggest);
    findForm.addEventListener("submit", function (event) {
      event.preventDefault();
      find(findForm.elements.table.value);
    });
    stepsSelect.addEventListener("change", function () {
      state.steps = stepsSelect.value;
      if (state.steps !== "all" && !state.focus && state.chosen) state.focus = state.chosen;
      load(true);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    page = document.getElementById("diagram-page");
    if (!page || typeof Panzoom === "undefined") return;
    figure = document.getElementById("diagram");
    canvas = figure.querySelector(".diagram-canvas");
    status = document.getElementById("diagram-status");
    stepsSelect = document.getElementById("diagram-steps");
    findForm = document.getElementById("diagram-find");
    state.focus = page.dataset.focus;
    state.steps = page.dataset.steps;
    state.chosen = state.focus || null;
    fillRoom();
    window.addEventListener("resize", fillRoom);
    if (darkScheme && darkScheme.addEventListener) {
      darkScheme.addEventListener("change", function () {
        var svg = canvas.querySelector("svg");
        if (svg) paint(svg, darkScheme.matches);
      });
    }
    startPanzoom();
    bind();
    // ELK's loading overlaps the data's request; when a layout of this diagram was kept, it
    // is likely still good and ELK is not needed.
    if (!keptIndex().some(function (entry) { return entry.diagram === page.dataset.url; })) {
      engine().catch(function () {});  // a failure is told when a layout is asked for
    }
    load(true, true).then(function () {
      if (state.chosen) focusTable(state.chosen);
    });
    setInterval(poll, Number(page.dataset.pollMs) || 3000);
  });
})();
