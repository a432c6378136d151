/* geodistrict web pages: maps coloured like the QGIS styles, readable values.
 *
 * Everything here runs offline: Leaflet (and Leaflet.VectorGrid, for the layers
 * published as vector tiles) is served by the service itself and no basemap
 * tiles are requested (the district's own streets are the background).
 * The page gives the texts of its language in window.GD_TEXT and the labels of
 * the columns and values in the calls below.
 */
(function (global) {
  "use strict";

  var TEXT = global.GD_TEXT || {};
  var LANG = (global.GD_LANG || document.documentElement.lang || "it").slice(0, 2);
  var NUMBER = new Intl.NumberFormat(LANG === "it" ? "it-IT" : "en-GB", { maximumFractionDigits: 2 });
  var INTEGER = new Intl.NumberFormat(LANG === "it" ? "it-IT" : "en-GB", { maximumFractionDigits: 0 });

  function pairs(list) {
    var out = {};
    (list || []).forEach(function (p) { out[p[0]] = p[1]; });
    return out;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  var ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

  /* A value as a person reads it: dates dd/mm/yyyy, numbers with the language's
   * separators, yes/no, labels of categories and statuses. */
  function formatValue(value, valueLabels) {
    if (value === null || value === undefined || value === "") return "";
    if (typeof value === "boolean") return value ? (TEXT.yes || "yes") : (TEXT.no || "no");
    if (typeof value === "number") {
      if (!isFinite(value)) return "";
      if (Number.isInteger(value)) return INTEGER.format(value);
      return Math.abs(value) >= 100 ? INTEGER.format(value) : NUMBER.format(value);
    }
    var text = String(value);
    if (valueLabels && Object.prototype.hasOwnProperty.call(valueLabels, text)) return valueLabels[text];
    var m = ISO_DATE.exec(text);
    if (m) return m[3] + "/" + m[2] + "/" + m[1];
    return text;
  }

  function classOf(spec, properties) {
    var classes = (spec && spec.classes) || [];
    if (!classes.length) return null;
    if (!spec.field) return classes[0];
    var v = properties ? properties[spec.field] : undefined;
    if (classes[0].min !== undefined) {
      if (v === null || v === undefined || typeof v !== "number") return null;
      for (var i = 0; i < classes.length; i++) {
        if (v <= classes[i].max || i === classes.length - 1) return classes[i];
      }
      return classes[classes.length - 1];
    }
    var key = v === null || v === undefined ? "" : String(v);
    var other = null;
    for (var j = 0; j < classes.length; j++) {
      if (classes[j].value === key) return classes[j];
      if (classes[j].value === "" || classes[j].value === null) other = classes[j];
    }
    return other;
  }

  var MISSING = { colour: "#bdbdbd", opacity: 0.8 };

  /* The Leaflet path style of a feature, from its properties and the layer's style. */
  function featureStyle(spec, geometry, options) {
    options = options || {};
    var weight = options.weight || (geometry === "line" ? 3 : 1);
    return function (properties) {
      var c = classOf(spec, properties) || MISSING;
      var filled = geometry !== "line";
      var fillOpacity = filled ? Math.max(0.15, c.opacity === undefined ? 0.6 : c.opacity) : 0;
      if (geometry === "polygon" && c.opacity === 0) fillOpacity = 0;
      return {
        color: geometry === "polygon" ? (options.outline || "#555555") : c.colour,
        weight: weight,
        opacity: geometry === "polygon" ? 0.8 : 0.95,
        fillColor: c.colour,
        fillOpacity: geometry === "point" ? 0.9 : fillOpacity,
      };
    };
  }

  /* A Leaflet GeoJSON layer coloured by the layer's style. */
  function styledLayer(geojson, spec, geometry, options) {
    options = options || {};
    var radius = options.radius || 6;
    var style = featureStyle(spec, geometry, options);
    return L.geoJSON(geojson, {
      pane: options.pane || "overlayPane",
      style: function (feature) { return style(feature.properties); },
      pointToLayer: function (feature, latlng) {
        var c = classOf(spec, feature.properties) || MISSING;
        return L.circleMarker(latlng, {
          pane: options.pane || "overlayPane",
          radius: radius, color: "#ffffff", weight: 1, fillColor: c.colour, fillOpacity: 0.95,
        });
      },
      onEachFeature: function (feature, layer) {
        if (options.popup) layer.bindPopup(options.popup(feature));
      },
    });
  }

  /* The same layer drawn from vector tiles (MVT, OGC API - Tiles of the service) with
   * Leaflet.VectorGrid: `url` is the {z}/{x}/{y} template, `layerName` the MVT layer,
   * `tiles` {zooms: [min, max], bbox: [w, s, e, n]}; options as styledLayer's, or
   * options.style, one style for every feature (the background). Paths are SVG. */
  function styledTiles(url, layerName, spec, geometry, tiles, options) {
    options = options || {};
    var style = options.style ? function () { return options.style; } : featureStyle(spec, geometry, options);
    var interactive = !!options.popup;
    var styles = {};
    styles[layerName] = function (properties) {
      return Object.assign({ fill: geometry !== "line", interactive: interactive }, style(properties));
    };
    var settings = {
      pane: options.pane || "overlayPane",
      rendererFactory: L.svg.tile,
      vectorTileLayerStyles: styles,
      interactive: interactive,
      minNativeZoom: tiles.zooms[0],
      maxNativeZoom: tiles.zooms[1],
    };
    var b = tiles.bbox;
    if (b) settings.bounds = L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]);
    var layer = L.vectorGrid.protobuf(url, settings);
    if (interactive) {
      layer.on("click", function (e) {
        var feature = { properties: (e.layer && e.layer.properties) || {} };
        L.popup().setLatLng(e.latlng).setContent(options.popup(feature)).openOn(layer._map);
      });
    }
    return layer;
  }

  /* A popup (or table) of a feature's readable properties. */
  function propertiesTable(properties, columns, values) {
    var labels = pairs(columns);
    var valueMaps = {};
    (values || []).forEach(function (p) { valueMaps[p[0]] = pairs(p[1]); });
    var rows = (columns || []).filter(function (c) {
      var v = properties[c[0]];
      return v !== null && v !== undefined && v !== "";
    }).map(function (c) {
      return "<tr><th>" + escapeHtml(labels[c[0]]) + "</th><td>" +
        escapeHtml(formatValue(properties[c[0]], valueMaps[c[0]])) + "</td></tr>";
    });
    return '<table class="table table-sm gd-props">' + rows.join("") + "</table>";
  }

  function legendHtml(title, spec, geometry) {
    var classes = (spec && spec.classes) || [];
    var items = classes.map(function (c) {
      var shape = geometry === "line" ? "gd-swatch-line" : geometry === "point" ? "gd-swatch-point" : "gd-swatch-fill";
      var style = geometry === "line" ? "background:" + c.colour :
        "background:" + c.colour + ";opacity:" + Math.max(0.35, c.opacity === undefined ? 1 : c.opacity);
      var text = c.label || "";
      return '<li><span class="gd-swatch ' + shape + '" style="' + style + '"></span>' + escapeHtml(text) + "</li>";
    });
    return '<div class="gd-legend-block"><b>' + escapeHtml(title) + "</b><ul>" + items.join("") + "</ul></div>";
  }

  /* A map without tiles from the internet: only the attribution of the data. */
  function offlineMap(element, options) {
    var map = L.map(element, Object.assign({ zoomSnap: 0.25, preferCanvas: false }, options || {}));
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("© OpenStreetMap contributors");
    return map;
  }

  function fetchJson(url) {
    return fetch(url, { headers: { Accept: "application/geo+json, application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.json();
    });
  }

  global.GD = {
    pairs: pairs,
    escapeHtml: escapeHtml,
    formatValue: formatValue,
    classOf: classOf,
    featureStyle: featureStyle,
    styledLayer: styledLayer,
    styledTiles: styledTiles,
    propertiesTable: propertiesTable,
    legendHtml: legendHtml,
    offlineMap: offlineMap,
    fetchJson: fetchJson,
  };
})(window);
