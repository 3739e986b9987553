/*
 * CityOps live map: the layers that change during a shift, drawn on canvas (one for the staff,
 * one for everything else; cityops_canvas.js) and updated in place from batches sent by the
 * desktop application (desktop/map_view.py).
 *
 * The page is built once by folium (desktop/map_page.py), which calls cityops.init(map, config,
 * base) when its own layers exist. After that, Python calls cityops.applyBatch(batch) with one
 * object per event-loop turn:
 *
 *   {cases: {reset?: bool, upsert: [{id, lat, lon, ...}], remove: [id, ...]}, staff: {...},
 *    cameras: {...}, sensors: {...}, black_spots: {...}}
 *
 * (an upsert may come as {cols: [name, ...], rows: [[value, ...], ...]} instead: the same
 * objects without their keys repeated).
 *
 * Markers are kept in a Map id -> circleMarker per layer and moved / restyled in place; a layer
 * is never rebuilt. Clicks go back to Python over QWebChannel (bridge.caseClicked(id),
 * bridge.cameraClicked(id)). cityops.selectCase(id) rings a case and pans to it when it is not
 * well in view; cityops.showPlace(lat, lon) pans so to a place with no marker (an alert's).
 *
 * Every text shown comes from data and is put into the page with textContent only, never as
 * HTML: a case description may hold anything a citizen typed.
 */
(function () {
  'use strict';

  var LIVE = ['cases', 'staff', 'cameras', 'sensors', 'black_spots'];
  // Staff are drawn first (below everything), cases last (on top).
  var DRAW_ORDER = ['staff', 'black_spots', 'sensors', 'cameras', 'cases'];

  var S = {
    map: null,
    cfg: null,
    renderer: null,
    ringRenderer: null,
    groups: {},      // layer name -> L.FeatureGroup
    markers: {},     // layer name -> Map(id -> circleMarker)
    base: {},        // base layer name -> folium's layer
    bridge: null,
    selected: null,  // case id
    ring: null,      // the selection ring (an SVG circleMarker above the canvas)
    control: null,
    ready: false,
    lastApplyMs: 0,
    fitted: false
  };

  // ---------------------------------------------------------------------------------------
  // DOM helpers: text only
  // ---------------------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function escapeHtml(value) {
    return String(value === undefined || value === null ? '' : value)
      .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }

  function label(group, key, fallback) {
    var table = (S.cfg && S.cfg.labels && S.cfg.labels[group]) || {};
    var value = table[key];
    return value === undefined || value === null || value === '' ?
      (fallback === undefined ? String(key) : fallback) : value;
  }

  function card(title, rows, extra) {
    var box = el('div', 'cityops-card');
    box.appendChild(el('div', 'cityops-card-title', title));
    rows.forEach(function (row) {
      if (row[1] === undefined || row[1] === null || row[1] === '') { return; }
      var line = el('div', 'cityops-card-row');
      line.appendChild(el('span', 'cityops-card-key', row[0]));
      line.appendChild(el('span', 'cityops-card-value', row[1]));
      box.appendChild(line);
    });
    if (extra) { box.appendChild(el('div', 'cityops-card-text', extra)); }
    return box;
  }

  function shanghaiTime(iso) {
    if (!iso) { return ''; }
    var when = new Date(iso);
    if (isNaN(when.getTime())) { return String(iso); }
    try {
      return when.toLocaleString('zh-CN', {
        timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit', hour: '2-digit',
        minute: '2-digit', hour12: false
      });
    } catch (e) {
      return String(iso);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Styles and tooltips per layer
  // ---------------------------------------------------------------------------------------

  function px(value) { return value * ((S.cfg && S.cfg.scale) || 1); }

  var CAMERA_FULL_ZOOM = 12;  // the zoom from which cameras are drawn at full strength
  function camerasQuiet() { return !!(S.map && S.map.getZoom() < CAMERA_FULL_ZOOM); }

  function restyleCameras() {
    var quiet = camerasQuiet();
    if (quiet === S.camerasQuiet || !S.markers.cameras) { return; }
    S.camerasQuiet = quiet;
    S.markers.cameras.forEach(function (marker) {
      var st = STYLE.cameras(marker.cityops || {});
      marker.setStyle(st);
    });
  }

  var STYLE = {
    cases: function (d) {
      var c = S.cfg.colors;
      var fill = c.deadline[d.status] || c.deadline.none;
      var ring = c.urgency[d.urgency] || c.urgency.normal;
      if (d.urgency === 'emergency') {
        return {radius: px(9.5), color: ring, weight: px(3.5), fillColor: fill, fillOpacity: 1};
      }
      if (d.urgency === 'urgent') {
        return {radius: px(8), color: ring, weight: px(3), fillColor: fill, fillOpacity: 1};
      }
      return {radius: px(6.5), color: c.layers.case_ring, weight: px(1.5), fillColor: fill,
              fillOpacity: 1};
    },
    staff: function (d) {
      // Thousands of them: small and quiet, context for the cases rather than news.
      var c = S.cfg.colors.layers;
      return {radius: px(2.2), stroke: false, fillColor: d.on_duty ? c.staff_on_duty : c.staff_off_duty,
              fillOpacity: d.on_duty ? 0.55 : 0.4};
    },
    cameras: function (d) {
      // A camera symbol (cityops_canvas.js draws `shape: 'camera'`: a rounded square with a
      // "▶"), in a hue of its own, that answers a click 13 px from its centre.
      // Three hundred of them at the city-wide view buried the cases: below CAMERA_FULL_ZOOM
      // the same symbol, same size and hit area, is half-transparent, so the cases' deadline
      // colours lead and the cameras are still there to find and to click.
      var c = S.cfg.colors.layers;
      var quiet = camerasQuiet();
      return {radius: px(d.analytics ? 7.5 : 6.5), shape: 'camera', color: c.case_ring,
              weight: px(1), opacity: quiet ? 0.4 : 1, fillColor: c.camera, fillOpacity: quiet ? 0.4 : 1,
              glyphColor: c.camera_glyph, glyphOpacity: quiet ? 0.6 : 1, hitRadius: px(13)};
    },
    sensors: function (d) {
      // Quiet while normal; a sensor over a threshold becomes a thick ring in its level colour.
      var c = S.cfg.colors.sensors;
      var level = c[d.level] ? d.level : 'unknown';
      var alarming = level !== 'normal' && level !== 'unknown';
      return {radius: px(alarming ? 8 : 3.5), color: c[level], weight: px(alarming ? 3.5 : 1.5),
              opacity: alarming ? 1 : 0.8, fillColor: S.cfg.colors.layers.background,
              fillOpacity: alarming ? 0.6 : 0.9};
    },
    black_spots: function (d) {
      var c = S.cfg.colors.layers;
      return {radius: px(6), color: c.black_spot_ring, weight: px(2.5), fillColor: c.black_spot,
              fillOpacity: 1};
    }
  };

  // The fields each STYLE reads: a marker whose fields are unchanged keeps its style (a staff
  // tick moves 4,000 dots and restyles none). Keep in step with STYLE.
  var STYLE_FIELDS = {
    cases: ['status', 'urgency'], staff: ['on_duty'], cameras: ['analytics'], sensors: ['level'],
    black_spots: []
  };

  function styleKey(name, d) {
    var fields = STYLE_FIELDS[name], key = '';
    for (var i = 0; i < fields.length; i++) { key += d[fields[i]] + '|'; }
    return key;
  }

  var TOOLTIP = {
    cases: function (d) {
      var f = function (k) { return label('fields', k); };
      var text = d.title || d.summary || '';
      return card(d.number, [
        [f('class'), d.class_name],
        [f('town'), d.town],
        [f('state'), label('states', d.state)],
        [f('urgency'), d.urgency === 'normal' ? '' : label('urgency', d.urgency)],
        [f('deadline'), d.status && d.status !== 'none' ?
          label('deadline', d.status) + (d.deadline_at ? ' · ' + shanghaiTime(d.deadline_at) : '') : '']
      ], text);
    },
    staff: function (d) {
      var f = function (k) { return label('fields', k); };
      return card(d.name, [[f('seen'), shanghaiTime(d.at)]], d.on_duty ? f('on_duty') : f('off_duty'));
    },
    cameras: function (d) {
      var f = function (k) { return label('fields', k); };
      return card(d.name, [
        [f('camera'), d.code],
        [f('town'), d.town],
        ['', label('camera_kinds', d.kind, d.kind)]
      ], d.analytics ? f('analytics') : '');
    },
    sensors: function (d) {
      var f = function (k) { return label('fields', k); };
      var value = d.last_value === null || d.last_value === undefined ? f('no_reading') :
        String(d.last_value) + ' ' + (d.unit || '');
      return card(d.name, [
        [f('sensor'), label('sensor_kinds', d.kind, d.kind) + ' · ' + (d.code || '')],
        [f('value'), value],
        [f('level'), label('sensor_levels', d.level, d.level)],
        [f('town'), d.town]
      ], d.last_at ? shanghaiTime(d.last_at) : '');
    },
    black_spots: function (d) {
      var f = function (k) { return label('fields', k); };
      return card(d.name, [
        [f('black_spot'), d.code],
        [f('town'), d.town],
        ['', label('black_spot_categories', d.category, d.category)],
        [f('failed_rechecks'), d.failed_rechecks ? String(d.failed_rechecks) : '']
      ]);
    }
  };

  // ---------------------------------------------------------------------------------------
  // Set-up
  // ---------------------------------------------------------------------------------------

  function init(map, cfg, base) {
    S.map = map;
    S.cfg = cfg;
    S.base = base || {};
    map.getContainer().classList.add('cityops-map');
    // The frames' sizes (cityops_map.css) follow the screen like the markers do.
    map.getContainer().style.setProperty('--cityops-scale', String(cfg.scale || 1));

    map.createPane('cityopsStaff').style.zIndex = 445;        // above folium's overlays (400)
    map.getPane('cityopsStaff').style.pointerEvents = 'none';  // events come via S.renderer
    map.createPane('cityopsMarkers').style.zIndex = 450;
    map.createPane('cityopsSelection').style.zIndex = 460;
    map.getPane('cityopsSelection').style.pointerEvents = 'none';
    // Canvas, not DOM markers (which stall Leaflet at about a thousand), drawn from sprites
    // (cityops_canvas.js). Staff move every second: they get a canvas of their own, so their
    // ticks redraw 4,000 dots and leave the 20,000 cases alone.
    var canvas = L.cityopsCanvas || L.canvas;
    // (a smaller margin than the cases' canvas: it is redrawn every second, whole)
    S.staffRenderer = canvas({pane: 'cityopsStaff', padding: 0.1, tolerance: px(3)});
    S.renderer = canvas({pane: 'cityopsMarkers', padding: 0.3, tolerance: px(3),
                         under: [S.staffRenderer]});
    S.ringRenderer = L.svg({pane: 'cityopsSelection', padding: 0.3});

    LIVE.forEach(function (name) {
      S.markers[name] = new Map();
      var group = L.featureGroup();
      // One tooltip per layer, filled when shown: 20,000 markers need no 20,000 tooltips.
      group.bindTooltip(function (marker) { return TOOLTIP[name](marker.cityops || {}); },
                        {className: 'cityops-tooltip', direction: 'top', offset: [0, -px(6)],
                         opacity: 1});
      group.on('click', function (e) { onMarkerClick(name, e.propagatedFrom || e.layer); });
      S.groups[name] = group;
    });

    decorateBase();
    // Live layers are added in drawing order so that the canvas paints cases last.
    DRAW_ORDER.forEach(function (name) {
      if (cfg.visible[name] !== false) { S.groups[name].addTo(map); }
    });
    addLayerControl();
    addLegend();
    L.control.scale({imperial: false, position: 'bottomright', maxWidth: px(100)}).addTo(map);
    map.on('overlayadd', onOverlayAdd);

    fitCity();
    // A page loaded while its widget was hidden has no size yet: fit once it gets one.
    map.on('resize', function () { if (!S.fitted) { fitCity(); } });

    var attribution = map.attributionControl;
    if (attribution) { attribution.setPrefix(false); }
    connectBridge();
  }

  function fitCity() {
    var size = S.map.getSize();
    if (!size.x || !size.y || !S.cfg.bounds) { return; }
    S.map.fitBounds(S.cfg.bounds, {padding: [8, 8], animate: false});
    S.fitted = true;
  }

  function whenStill(fn) {
    // Leaflet ignores a setView asked for while a zoom animation runs: wait for its end.
    if (S.map._animatingZoom) { S.map.once('zoomend', fn); } else { fn(); }
  }

  function decorateBase() {
    var towns = S.base.towns;
    if (towns) {
      towns.eachLayer(function (layer) {
        var p = (layer.feature && layer.feature.properties) || {};
        var name = el('span', 'cityops-town-name', p.name);
        if (p.low_lying) { name.classList.add('cityops-low-lying'); }
        layer.bindTooltip(name, {permanent: true, direction: 'right', offset: [px(5), 0],
                                 className: 'cityops-town-label', interactive: false});
      });
    }
    ['outline', 'towns', 'grids'].forEach(function (name) {
      if (S.base[name] && S.cfg.visible[name] === false) { S.map.removeLayer(S.base[name]); }
    });
    // Thirty-odd town names overlap at the city-wide zoom: after every zoom, show a name only
    // where it does not cover one already shown (biggest towns first, so the names that stay
    // are the ones a leader looks for); zooming in brings the others back.
    S.map.on('zoomend viewreset', declutterLabels);
    S.map.on('zoomend', restyleCameras);
    S.map.whenReady(declutterLabels);
  }

  function declutterLabels() {
    var towns = S.base.towns;
    if (!towns || !towns._map) { return; }
    var labels = [];
    towns.eachLayer(function (layer) {
      var tip = layer.getTooltip && layer.getTooltip();
      var node = tip && tip.getElement && tip.getElement();
      if (!node) { return; }
      var b = layer.getBounds ? layer.getBounds() : null;
      var area = b ? Math.abs((b.getNorth() - b.getSouth()) * (b.getEast() - b.getWest())) : 0;
      labels.push({node: node, area: area});
    });
    labels.sort(function (a, b) { return b.area - a.area; });
    var shown = [];
    labels.forEach(function (l) {
      l.node.style.visibility = '';
      var r = l.node.getBoundingClientRect();
      var clash = shown.some(function (s) {
        return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;
      });
      if (clash) { l.node.style.visibility = 'hidden'; } else { shown.push(r); }
    });
  }

  function onOverlayAdd(e) {
    // A layer switched back on is painted after everything already on the canvas: put staff
    // back under everything and the cases back on top.
    if (e.layer === S.groups.staff) {
      S.markers.staff.forEach(function (m) { m.bringToBack(); });
    } else if (e.layer !== S.groups.cases && S.groups.cases._map &&
               LIVE.some(function (n) { return S.groups[n] === e.layer; })) {
      S.markers.cases.forEach(function (m) { m.bringToFront(); });
    }
    syncSelection(false);
  }

  function layerName(name) {
    // Leaflet's layer control sets its label with innerHTML: escape, and leave a span whose
    // count refreshCounts() fills with textContent.
    return '<span class="cityops-layer-name">' + escapeHtml(label('layers', name)) +
      '</span> <span class="cityops-count" data-layer="' + escapeHtml(name) + '"></span>';
  }

  function addLayerControl() {
    var overlays = {};
    S.cfg.layer_order.forEach(function (name) {
      var layer = S.groups[name] || S.base[name];
      if (layer) { overlays[layerName(name)] = layer; }
    });
    var control = L.control.layers(null, overlays, {collapsed: false, position: 'topright'});
    var update = control._update;
    control._update = function () {  // the control rebuilds its list on every toggle
      var result = update.apply(this, arguments);
      refreshCounts();
      return result;
    };
    control.addTo(S.map);
    S.control = control;
  }

  function addLegend() {
    var legend = L.control({position: 'bottomleft'});
    legend.onAdd = function () {
      var box = el('div', 'cityops-legend');
      box.appendChild(el('div', 'cityops-legend-title', label('fields', 'legend')));
      ['overdue', 'due_soon', 'on_track', 'none'].forEach(function (status) {
        var row = el('div', 'cityops-legend-row');
        var dot = el('span', 'cityops-legend-dot');
        dot.style.background = S.cfg.colors.deadline[status];
        row.appendChild(dot);
        row.appendChild(el('span', null, label('deadline', status)));
        box.appendChild(row);
      });
      // Urgency is the ring (and the size): one sample each, drawn like the markers.
      ['urgent', 'emergency'].forEach(function (urgency) {
        var row = el('div', 'cityops-legend-row');
        var sample = el('span', 'cityops-legend-dot cityops-legend-ring cityops-legend-' + urgency);
        sample.style.borderColor = S.cfg.colors.urgency[urgency];
        row.appendChild(sample);
        row.appendChild(el('span', null, label('urgency', urgency)));
        box.appendChild(row);
      });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    legend.addTo(S.map);
  }

  function connectBridge() {
    if (typeof QWebChannel === 'undefined' || typeof qt === 'undefined' || !qt.webChannelTransport) {
      console.warn('cityops: no QWebChannel transport; clicks stay on the page');
      S.ready = true;
      return;
    }
    /* global QWebChannel, qt */
    new QWebChannel(qt.webChannelTransport, function (channel) {
      S.bridge = channel.objects.cityopsBridge || null;
      S.ready = true;
      if (S.bridge && S.bridge.pageReady) {
        S.bridge.pageReady();
      } else {
        console.error('cityops: the bridge object is missing from the web channel');
      }
    });
  }

  // ---------------------------------------------------------------------------------------
  // Batches
  // ---------------------------------------------------------------------------------------

  function upserts(part) {
    // Python sends big upserts as columns + rows (keys once, not per marker): make objects.
    if (!part.cols || !part.rows) { return part.upsert || []; }
    var cols = part.cols, n = cols.length;
    return part.rows.map(function (row) {
      var d = {};
      for (var i = 0; i < n; i++) { d[cols[i]] = row[i]; }
      return d;
    });
  }

  function styleChanged(options, st) {
    for (var key in st) {
      if (Object.prototype.hasOwnProperty.call(st, key) && options[key] !== st[key]) { return true; }
    }
    return false;
  }

  function applyLayer(name, part) {
    var group = S.groups[name];
    var markers = S.markers[name];
    var style = STYLE[name];
    var added = 0;
    if (!part) { return 0; }
    if (part.reset) {
      group.clearLayers();
      markers.clear();
    }
    (part.remove || []).forEach(function (id) {
      var marker = markers.get(id);
      if (marker) {
        group.removeLayer(marker);
        markers.delete(id);
      }
    });
    var tooltip = group.isTooltipOpen() ? group.getTooltip() : null;
    var moved = [];
    upserts(part).forEach(function (d) {
      if (d === null || typeof d !== 'object' || d.id === undefined || d.id === null) { return; }
      var lat = +d.lat, lon = +d.lon;
      if (!isFinite(lat) || !isFinite(lon)) { return; }
      var marker = markers.get(d.id);
      var key = styleKey(name, d);
      if (marker) {
        marker.cityops = d;
        var old = marker.getLatLng();
        if (old.lat !== lat || old.lng !== lon) { moved.push([marker, lat, lon]); }
        if (marker.cityopsStyle !== key) {  // a move is no restyle
          var restyle = style(d);
          if (marker.options.radius !== restyle.radius) { marker.setRadius(restyle.radius); }
          if (styleChanged(marker.options, restyle)) { marker.setStyle(restyle); }
          marker.cityopsStyle = key;
        }
      } else {
        var st = style(d);
        st.renderer = name === 'staff' ? S.staffRenderer : S.renderer;
        st.pane = st.renderer.options.pane;
        st.bubblingMouseEvents = false;
        marker = L.circleMarker([lat, lon], st);
        marker.cityops = d;
        marker.cityopsStyle = key;
        markers.set(d.id, marker);
        group.addLayer(marker);
        added += 1;
        // Staff are the most numerous and the least urgent: under everything else.
        if (name === 'staff' && marker._map) { marker.bringToBack(); }
      }
    });
    moveMarkers(moved);
    if (tooltip && tooltip._source && markers.get((tooltip._source.cityops || {}).id) === tooltip._source) {
      tooltip.update();  // an open card shows the fresh data
    }
    return added;
  }

  function moveMarkers(moved) {
    // A few moves go through Leaflet (setLatLng: a redraw of the spots they leave and reach).
    // Thousands (a staff tick) skip its per-marker bookkeeping: new positions, projected, and
    // one redraw of the whole canvas, which is what their spread would cause anyway.
    if (moved.length < 200) {
      moved.forEach(function (m) { m[0].setLatLng([m[1], m[2]]); });
      return;
    }
    var renderers = [];
    moved.forEach(function (m) {
      var marker = m[0];
      marker._latlng = L.latLng(m[1], m[2]);
      if (!marker._map) { return; }
      marker._project();
      var r = marker._renderer;
      if (r && renderers.indexOf(r) < 0) { renderers.push(r); }
    });
    renderers.forEach(function (r) {
      if (!r._map || !r._bounds) { return; }
      r._redrawBounds = L.bounds(r._bounds.min, r._bounds.max);
      r._redrawRequest = r._redrawRequest || L.Util.requestAnimFrame(r._redraw, r);
    });
  }

  function applyBatch(batch) {
    var t0 = performance.now();
    if (!S.map) { throw new Error('cityops.applyBatch before init'); }
    if (!batch || typeof batch !== 'object') { return stats(); }
    Object.keys(batch).forEach(function (name) {
      if (!S.groups[name]) { console.warn('cityops: unknown layer in batch: ' + name); }
    });
    var casesBefore = S.markers.cases.size;
    var addedBelowCases = 0;
    // In drawing order, whatever order the keys came in: cases are painted last.
    DRAW_ORDER.forEach(function (name) {
      var added = applyLayer(name, batch[name]);
      if (name !== 'cases' && name !== 'staff') { addedBelowCases += added; }
    });
    // New cameras/sensors/black spots are painted after the cases already there: lift the
    // cases again (rare: those layers hardly ever gain a marker during a shift).
    if (addedBelowCases && casesBefore && S.groups.cases._map) {
      S.markers.cases.forEach(function (m) { m.bringToFront(); });
    }
    syncSelection(false);
    refreshCounts();
    S.lastApplyMs = performance.now() - t0;
    return stats();
  }

  function refreshCounts() {
    var spans = document.querySelectorAll('.cityops-count');
    for (var i = 0; i < spans.length; i++) {
      var name = spans[i].getAttribute('data-layer');
      var markers = S.markers[name];
      spans[i].textContent = markers ? '(' + markers.size + ')' : '';
    }
  }

  // ---------------------------------------------------------------------------------------
  // Selection and clicks
  // ---------------------------------------------------------------------------------------

  function onMarkerClick(name, marker) {
    if (!marker || !marker.cityops) { return; }
    var id = marker.cityops.id;
    if (name === 'cases') {
      S.selected = id;
      syncSelection(false);
      if (S.bridge) { S.bridge.caseClicked(id); }
    } else if (name === 'cameras') {
      if (S.bridge) { S.bridge.cameraClicked(id); }
    }
  }

  function syncSelection(pan) {
    var marker = S.selected === null ? null : S.markers.cases.get(S.selected);
    if (!marker) {
      if (S.ring) { S.ring.remove(); }
      return;
    }
    var ll = marker.getLatLng();
    var radius = (marker.options.radius || px(6)) + px(7);
    if (!S.ring) {
      S.ring = L.circleMarker(ll, {
        renderer: S.ringRenderer, pane: 'cityopsSelection', interactive: false,
        radius: radius, color: S.cfg.colors.layers.selection, weight: px(3), fill: false,
        className: 'cityops-selected-ring'
      });
    } else {
      S.ring.setLatLng(ll);
      S.ring.setRadius(radius);
    }
    if (!S.ring._map) { S.ring.addTo(S.map); }
    if (marker._map) { marker.bringToFront(); }
    if (pan) { showPlace(ll.lat, ll.lng); }
  }

  function showPlace(lat, lon) {
    // Pan (and zoom in) to a place unless it is well in view at a useful zoom.
    var ll = L.latLng(lat, lon);
    whenStill(function () {
      var inner = S.map.getBounds().pad(-0.2);
      if (!inner.contains(ll) || S.map.getZoom() < S.cfg.select_zoom - 3) {
        S.map.setView(ll, Math.max(S.map.getZoom(), S.cfg.select_zoom), {animate: true});
      }
    });
  }

  function selectCase(id) {
    S.selected = id === null || id === undefined ? null : id;
    syncSelection(true);
    return S.selected;
  }

  // ---------------------------------------------------------------------------------------
  // Introspection for tests and diagnostics
  // ---------------------------------------------------------------------------------------

  function stats() {
    var out = {};
    LIVE.forEach(function (name) { out[name] = S.markers[name] ? S.markers[name].size : 0; });
    return out;
  }

  function markerInfo(layer, id) {
    var marker = S.markers[layer] && S.markers[layer].get(id);
    if (!marker) { return null; }
    var ll = marker.getLatLng();
    return {lat: ll.lat, lon: ll.lng, radius: marker.options.radius, color: marker.options.color,
            fillColor: marker.options.fillColor, weight: marker.options.weight,
            onMap: !!marker._map};
  }

  function hitTest(x, y) {
    // What is under a point of the map's container (CSS pixels): the place, and the case or
    // camera a click there would hit (the nearest when several answer). The window's
    // right-click menu is built from this.
    var cp = L.point(x, y), lp = S.map.containerPointToLayerPoint(cp);
    var ll = S.map.containerPointToLatLng(cp);
    function nearest(name) {
      var best = null, bestD = Infinity;
      if (!S.groups[name] || !S.groups[name]._map) { return null; }
      S.markers[name].forEach(function (m) {
        if (!m._map || !m._point || !m._containsPoint(lp)) { return; }
        var d = m._point.distanceTo(lp);
        if (d < bestD) { bestD = d; best = m; }
      });
      return best ? best.cityops.id : null;
    }
    return {lat: ll.lat, lon: ll.lng, case_id: nearest('cases'), camera_id: nearest('cameras')};
  }

  function screenPoint(layer, id) {
    var marker = S.markers[layer] && S.markers[layer].get(id);
    if (!marker) { return null; }
    var p = S.map.latLngToContainerPoint(marker.getLatLng());
    return {x: p.x, y: p.y};
  }

  function fireClick(layer, id) {
    var marker = S.markers[layer] && S.markers[layer].get(id);
    if (!marker) { return false; }
    // The same path a real click takes: the marker fires, the event propagates to its group.
    marker.fire('click', {latlng: marker.getLatLng()}, true);
    return true;
  }

  function openTooltip(layer, id) {
    var marker = S.markers[layer] && S.markers[layer].get(id);
    if (!marker || !marker._map) { return null; }
    marker.fire('mouseover', {latlng: marker.getLatLng()}, true);
    var tooltip = S.groups[layer].getTooltip();
    var node = tooltip && tooltip.getElement();
    return node ? node.textContent : null;
  }

  window.cityops = {
    init: init,
    applyBatch: applyBatch,
    selectCase: selectCase,
    showPlace: showPlace,
    selectedCase: function () { return S.selected; },
    hasCase: function (id) { return S.markers.cases ? S.markers.cases.has(id) : false; },
    stats: stats,
    isReady: function () { return S.ready; },
    lastApplyMs: function () { return S.lastApplyMs; },
    escapeHtml: escapeHtml,
    hitTest: hitTest,
    screenPoint: screenPoint,
    // For tests: the real event paths, driven from script.
    _marker: markerInfo,
    _markerRef: function (layer, id) { return (S.markers[layer] && S.markers[layer].get(id)) || null; },
    _view: function () {
      var c = S.map.getCenter();
      return {lat: c.lat, lon: c.lng, zoom: S.map.getZoom()};
    },
    _setView: function (lat, lon, zoom) {
      whenStill(function () { S.map.setView([lat, lon], zoom, {animate: false}); });
    },
    _ringShown: function () { return !!(S.ring && S.ring._map); },
    _fireCaseClick: function (id) { return fireClick('cases', id); },
    _fireCameraClick: function (id) { return fireClick('cameras', id); },
    _openTooltip: openTooltip,
    _cameraStyle: function (id) {
      var m = S.markers.cameras && S.markers.cameras.get(id);
      return m ? {radius: m.options.radius, fillOpacity: m.options.fillOpacity} : null;
    },
    _townLabels: function () {
      // Each town name's box and whether it is shown (tests: shown names never overlap).
      return Array.prototype.map.call(document.querySelectorAll('.cityops-town-label'), function (n) {
        var r = n.getBoundingClientRect();
        return {text: n.textContent, shown: n.style.visibility !== 'hidden',
                left: r.left, top: r.top, right: r.right, bottom: r.bottom};
      });
    },
    _tooltipElement: function (layer) {
      var t = S.groups[layer] && S.groups[layer].getTooltip();
      return t ? t.getElement() : null;
    }
  };
}());
