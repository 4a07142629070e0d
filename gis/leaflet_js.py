"""The page script and style of the offline HTML map (see :mod:`gis.leaflet`).

Kept apart from the Python that builds the data so that both stay short. The script reads
the map data from a ``<script type="application/json">`` element with ``JSON.parse`` (the
data is never executed as code) and puts every text from the data into the page with
``textContent``, never ``innerHTML``. The one place where Leaflet itself uses
``innerHTML`` (the names in the layer control) receives fixed layer names, escaped again
by ``escapeHtml``. The Leaflet map object is ``window.planMap`` (for a browser console and
the browser tests); ``<html data-map-ready="1">`` marks a page whose script has finished.
"""

from __future__ import annotations

from typing import Final

__all__ = ["PAGE_CSS", "PAGE_JS"]

PAGE_CSS: Final = """
html, body { margin: 0; padding: 0; height: 100%; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC",
  "Microsoft YaHei", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif; }
#plan-header { position: absolute; top: 0; left: 0; right: 0; height: 44px;
  padding: 0 14px; display: flex; align-items: center; background: #2b3a4a; color: #fff; }
#plan-header h1 { font-size: 18px; margin: 0; font-weight: 600; }
#plan-header .note { margin-left: 16px; font-size: 12px; opacity: 0.8; }
#map { position: absolute; top: 44px; left: 0; right: 0; bottom: 0; background: #f4f3ee; }
.plan-popup-title { font-weight: 700; margin-bottom: 4px; font-size: 13px; }
.plan-popup table { border-collapse: collapse; font-size: 12px; }
.plan-popup th { text-align: left; font-weight: 400; color: #555; padding: 1px 8px 1px 0; }
.plan-popup td { text-align: right; padding: 1px 0; }
.plan-label { background: transparent; border: none; box-shadow: none; text-align: center;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.plan-label::before { display: none; }
.plan-label .first { font-weight: 700; font-size: 13px; color: #222; }
.plan-label .second { font-size: 10px; color: #333; }
.plan-legend { background: #fff; padding: 6px 9px; font-size: 12px; line-height: 18px;
  max-height: 60vh; overflow-y: auto; }
.plan-legend .title { font-weight: 700; margin-bottom: 2px; }
.plan-legend .head { font-weight: 600; margin-top: 4px; }
.plan-swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px;
  vertical-align: -2px; border: 1px solid #555; }
.plan-swatch.circle { border-radius: 50%; }
.plan-swatch.line { height: 0; border-width: 2px 0 0 0; border-style: solid; width: 16px;
  vertical-align: 3px; }
"""

PAGE_JS: Final = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("plan-data").textContent);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function escapeHtml(text) {
    var table = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"};
    return String(text).replace(/[&<>"']/g, function (c) { return table[c]; });
  }
  function popupContent(p) {
    return function () {
      var box = el("div", "plan-popup");
      box.appendChild(el("div", "plan-popup-title", p.h));
      var table = el("table");
      p.rows.forEach(function (row) {
        var tr = table.insertRow();
        tr.appendChild(el("th", null, row[0]));
        tr.appendChild(el("td", null, row[1]));
      });
      box.appendChild(table);
      return box;
    };
  }
  function labelContent(lines) {
    var box = el("div");
    lines.forEach(function (line, i) {
      if (line) { box.appendChild(el("div", i ? "second" : "first", line)); }
    });
    return box;
  }

  var map = L.map("map", {attributionControl: false, zoomSnap: 0.25});
  map.fitBounds(data.bounds, {padding: [12, 12]});
  var overlays = {};
  data.layers.forEach(function (layer) {
    var group = L.featureGroup();
    layer.features.forEach(function (f) {
      var item;
      if (f.t === "pt") {
        item = L.circleMarker(f.c, f.s);
      } else if (f.t === "ln") {
        item = L.polyline(f.c, f.s);
      } else {
        item = L.geoJSON(f.g, {style: f.s});
      }
      if (f.p) { item.bindPopup(popupContent(f.p), {maxWidth: 380}); }
      if (f.tip) { item.bindTooltip(labelContent([f.tip]), {sticky: true}); }
      group.addLayer(item);
      if (f.l) {
        group.addLayer(L.tooltip({permanent: true, direction: "center", interactive: false,
                                  className: "plan-label"})
          .setLatLng(f.lp).setContent(labelContent(f.l)));
      }
    });
    if (layer.visible) { group.addTo(map); }
    var name = "<span class=\"plan-layer\" data-layer=\"" + escapeHtml(layer.id) + "\">" +
      escapeHtml(layer.name) + " (" + escapeHtml(layer.count) + ")</span>";
    overlays[name] = group;
  });

  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var box = el("div", "plan-legend leaflet-bar");
    box.appendChild(el("div", "title", data.legend.title));
    data.legend.items.forEach(function (item) {
      var row = el("div", item.k === "head" ? "head" : "row");
      if (item.k !== "head") {
        var swatch = el("span", "plan-swatch " + item.k);
        swatch.style.backgroundColor = item.k === "line" ? "transparent" : item.fill;
        swatch.style.borderColor = item.edge;
        row.appendChild(swatch);
      }
      row.appendChild(el("span", null, item.text));
      box.appendChild(row);
    });
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  legend.addTo(map);
  L.control.layers(null, overlays, {collapsed: false, position: "topright"}).addTo(map);
  L.control.scale({imperial: false, maxWidth: 160}).addTo(map);
  window.planMap = map;  // for analysts' consoles and the browser tests
  document.documentElement.setAttribute("data-map-ready", "1");
})();
"""
