/*
 * L.CityopsCanvas: Leaflet's canvas renderer, drawing circle markers from cached sprites.
 *
 * Leaflet's own canvas renderer draws every circle as a path: set fill and stroke styles
 * (Chromium parses the colour strings each time), arc, fill, stroke. At 24,000 markers a full
 * redraw takes ~0.5 s without a GPU. Here each distinct look (radius, fill, stroke) is drawn
 * once into a small offscreen canvas and every marker of that look is a drawImage of it, in
 * Leaflet's own order (so stacking is unchanged): about five times faster. Anything that is
 * not a plain circle marker is drawn by Leaflet as before.
 *
 * Events: a canvas sits over the whole map and takes every mouse event, so a renderer in a
 * lower pane would never see one. A renderer given `under: [renderer, ...]` hands the events
 * it has no marker for to those renderers (hover, tooltips, clicks), whose canvases then let
 * events pass (`pointer-events: none`).
 */
(function () {
  'use strict';

  var TAU = Math.PI * 2;
  var sprites = {};

  function roundedSquare(ctx, cx, cy, half, corner) {
    var x0 = cx - half, y0 = cy - half, x1 = cx + half, y1 = cy + half;
    ctx.moveTo(x0 + corner, y0);
    ctx.arcTo(x1, y0, x1, y1, corner);
    ctx.arcTo(x1, y1, x0, y1, corner);
    ctx.arcTo(x0, y1, x0, y0, corner);
    ctx.arcTo(x0, y0, x1, y0, corner);
    ctx.closePath();
  }

  function spriteFor(o, r, dpr) {
    var stroke = !!(o.stroke && o.weight !== 0);
    var shape = o.shape || 'circle';
    var key = shape + '|' + r + '|' + dpr + '|' + (o.fill ? (o.fillColor || o.color) + '|' + o.fillOpacity : '-') +
      '|' + (stroke ? o.color + '|' + o.weight + '|' + o.opacity : '-') + '|' + (o.glyphColor || '') + '|' + (o.glyphOpacity === undefined ? 1 : o.glyphOpacity);
    var s = sprites[key];
    if (s) { return s; }
    var css = Math.ceil(2 * (r + (stroke ? o.weight / 2 : 0) + 1));
    var canvas = document.createElement('canvas');
    canvas.width = canvas.height = Math.ceil(css * dpr);
    var ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.beginPath();
    var c = css / 2;
    if (shape === 'camera') {
      // A camera: a rounded square (no sensor or deadline dot is square) with a "▶" lens.
      roundedSquare(ctx, c, c, r, r * 0.35);
    } else {
      ctx.arc(c, c, r, 0, TAU, false);
    }
    if (o.fill) {
      ctx.globalAlpha = o.fillOpacity;
      ctx.fillStyle = o.fillColor || o.color;
      ctx.fill();
    }
    if (stroke) {
      ctx.globalAlpha = o.opacity;
      ctx.lineWidth = o.weight;
      ctx.strokeStyle = o.color;
      ctx.stroke();
    }
    if (shape === 'camera') {
      ctx.globalAlpha = o.glyphOpacity === undefined ? 1 : o.glyphOpacity;
      ctx.fillStyle = o.glyphColor || '#ffffff';
      ctx.beginPath();
      ctx.moveTo(c - r * 0.35, c - r * 0.5);
      ctx.lineTo(c + r * 0.55, c);
      ctx.lineTo(c - r * 0.35, c + r * 0.5);
      ctx.closePath();
      ctx.fill();
    }
    s = sprites[key] = {canvas: canvas, css: css, half: css / 2};
    return s;
  }

  // A marker may answer the mouse further out than it is drawn (`hitRadius`, CSS pixels):
  // a camera is a small symbol but an easy target.
  L.CircleMarker.include({
    _containsPoint: function (p) {
      var r = Math.max(this._radius, this.options.hitRadius || 0);
      return p.distanceTo(this._point) <= r + this._clickTolerance();
    }
  });

  function plainCircle(layer) {
    // Ellipses (radiusY), dashes and gradients keep Leaflet's own drawing.
    return layer instanceof L.CircleMarker && !layer._empty() && !layer.options.dashArray &&
      (!layer._radiusY || layer._radiusY === layer._radius);
  }

  var Base = L.Canvas.prototype;

  L.CityopsCanvas = L.Canvas.extend({
    options: {under: null},

    _draw: function () {
      var bounds = this._redrawBounds, ctx = this._ctx, dpr = L.Browser.retina ? 2 : 1;
      ctx.save();
      if (bounds) {
        var size = bounds.getSize();
        ctx.beginPath();
        ctx.rect(bounds.min.x, bounds.min.y, size.x, size.y);
        ctx.clip();
      }
      this._drawing = true;
      for (var order = this._drawFirst; order; order = order.next) {
        var layer = order.layer;
        if (bounds && !(layer._pxBounds && layer._pxBounds.intersects(bounds))) { continue; }
        if (!plainCircle(layer)) { layer._updatePath(); continue; }
        var s = spriteFor(layer.options, Math.max(Math.round(layer._radius), 1), dpr);
        var p = layer._point;
        ctx.globalAlpha = 1;
        ctx.drawImage(s.canvas, Math.round(p.x - s.half), Math.round(p.y - s.half), s.css, s.css);
      }
      this._drawing = false;
      ctx.restore();
    },

    // -- events for the renderers below --------------------------------------------------
    _under: function () { return this.options.under || []; },

    _onClick: function (e) {
      var point = this._map.mouseEventToLayerPoint(e);
      if (this._hit(point) || !this._under().length) { return Base._onClick.call(this, e); }
      var under = this._under();
      for (var i = 0; i < under.length; i++) {
        if (under[i]._map && (under[i]._hit(point) || i === under.length - 1)) {
          return under[i]._onClick(e);
        }
      }
      return Base._onClick.call(this, e);
    },

    _onMouseMove: function (e) {
      Base._onMouseMove.call(this, e);
      var under = this._under(), claimed = !!this._hoveredLayer;
      for (var i = 0; i < under.length; i++) {
        if (!under[i]._map) { continue; }
        if (claimed) {
          under[i]._handleMouseOut(e);
        } else {
          under[i]._onMouseMove(e);
          claimed = !!under[i]._hoveredLayer;
        }
      }
    },

    _handleMouseOut: function (e) {
      Base._handleMouseOut.call(this, e);
      var under = this._under();
      for (var i = 0; i < under.length; i++) {
        if (under[i]._map) { under[i]._handleMouseOut(e); }
      }
    },

    _hit: function (point) {
      for (var order = this._drawFirst; order; order = order.next) {
        var layer = order.layer;
        if (layer.options.interactive && layer._containsPoint(point)) { return true; }
      }
      return false;
    }
  });

  L.cityopsCanvas = function (options) {
    return new L.CityopsCanvas(options);
  };
}());
