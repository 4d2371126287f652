// contactflow structure viewer: ball-and-stick on a Canvas 2D context (no WebGL, nothing fetched).
// Reads the geometries from <script type="application/json" id="geoms">; drag rotates, wheel zooms.
(function () {
  "use strict";
  var canvas = document.getElementById("viewer");
  var src = document.getElementById("geoms");
  if (!canvas || !src) return;
  var geoms = JSON.parse(src.textContent);
  var ctx = canvas.getContext("2d");
  var rot = mul(rotX(-1.2), rotZ(0.5)); // start looking at the interface from the side
  var zoom = 1, geom = null, bonds = [], center = [0, 0, 0], extent = 1, corners = [];

  function rotX(a) { var c = Math.cos(a), s = Math.sin(a); return [[1, 0, 0], [0, c, -s], [0, s, c]]; }
  function rotY(a) { var c = Math.cos(a), s = Math.sin(a); return [[c, 0, s], [0, 1, 0], [-s, 0, c]]; }
  function rotZ(a) { var c = Math.cos(a), s = Math.sin(a); return [[c, -s, 0], [s, c, 0], [0, 0, 1]]; }
  function mul(a, b) {
    var r = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
    for (var i = 0; i < 3; i++) for (var j = 0; j < 3; j++) for (var k = 0; k < 3; k++) r[i][j] += a[i][k] * b[k][j];
    return r;
  }
  function apply(m, v) {
    return [m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2], m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
            m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2]];
  }

  function load(id) {
    geom = geoms[id];
    var a = geom.atoms, L = geom.lattice, i, j;
    corners = [];
    for (var n = 0; n < 8; n++) {
      var f = [n & 1, (n >> 1) & 1, (n >> 2) & 1];
      corners.push([0, 1, 2].map(function (k) { return f[0] * L[0][k] + f[1] * L[1][k] + f[2] * L[2][k]; }));
    }
    // centre and scale on the atoms (a slab cell is mostly vacuum)
    center = [0, 1, 2].map(function (k) {
      return a.reduce(function (t, at) { return t + at.xyz[k]; }, 0) / Math.max(1, a.length);
    });
    extent = 2;
    a.forEach(function (at) {
      var d = Math.hypot(at.xyz[0] - center[0], at.xyz[1] - center[1], at.xyz[2] - center[2]) + at.r;
      if (d > extent) extent = d;
    });
    bonds = [];
    for (i = 0; i < a.length; i++) for (j = i + 1; j < a.length; j++) {
      var dx = a[i].xyz[0] - a[j].xyz[0], dy = a[i].xyz[1] - a[j].xyz[1], dz = a[i].xyz[2] - a[j].xyz[2];
      var cut = 1.25 * (a[i].r + a[j].r);
      if (dx * dx + dy * dy + dz * dz < cut * cut) bonds.push([i, j]);
    }
    draw();
  }

  function draw() {
    var W = canvas.width, H = canvas.height, s = zoom * 0.48 * Math.min(W, H) / extent;
    function proj(p) {
      var q = apply(rot, [p[0] - center[0], p[1] - center[1], p[2] - center[2]]);
      return [W / 2 + s * q[0], H / 2 - s * q[1], q[2]];
    }
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, W, H);
    var pc = corners.map(proj);
    ctx.strokeStyle = "#888"; ctx.lineWidth = 1;
    [[0, 1], [0, 2], [0, 4], [1, 3], [1, 5], [2, 3], [2, 6], [3, 7], [4, 5], [4, 6], [5, 7], [6, 7]].forEach(function (e) {
      ctx.beginPath(); ctx.moveTo(pc[e[0]][0], pc[e[0]][1]); ctx.lineTo(pc[e[1]][0], pc[e[1]][1]); ctx.stroke();
    });
    var p = geom.atoms.map(function (at) { return proj(at.xyz); });
    var items = [];
    geom.atoms.forEach(function (at, i) { items.push({z: p[i][2], atom: i}); });
    bonds.forEach(function (b) { items.push({z: (p[b[0]][2] + p[b[1]][2]) / 2 - 0.01, bond: b}); });
    items.sort(function (u, v) { return u.z - v.z; });
    items.forEach(function (it) {
      if (it.bond) {
        var u = p[it.bond[0]], v = p[it.bond[1]];
        ctx.strokeStyle = "#777"; ctx.lineWidth = Math.max(1, 0.15 * s);
        ctx.beginPath(); ctx.moveTo(u[0], u[1]); ctx.lineTo(v[0], v[1]); ctx.stroke();
        return;
      }
      var at = geom.atoms[it.atom], q = p[it.atom], r = Math.max(2, 0.6 * at.r * s);
      var g = ctx.createRadialGradient(q[0] - r / 3, q[1] - r / 3, r / 6, q[0], q[1], r);
      g.addColorStop(0, "#ffffff"); g.addColorStop(0.35, at.c); g.addColorStop(1, "#222222");
      ctx.fillStyle = g;
      ctx.beginPath(); ctx.arc(q[0], q[1], r, 0, 2 * Math.PI); ctx.fill();
      if (at.side === "film") { ctx.strokeStyle = "#1f5fa8"; ctx.lineWidth = 1; ctx.stroke(); }
    });
    canvas.dataset.atoms = String(geom.atoms.length);
    canvas.dataset.bonds = String(bonds.length);
    canvas.dataset.drawn = "1";
  }

  var drag = null;
  canvas.addEventListener("mousedown", function (e) { drag = [e.clientX, e.clientY]; });
  window.addEventListener("mouseup", function () { drag = null; });
  window.addEventListener("mousemove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag[0], dy = e.clientY - drag[1];
    drag = [e.clientX, e.clientY];
    rot = mul(rotX(dy * 0.01), mul(rotY(dx * 0.01), rot));
    draw();
  });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault(); zoom *= e.deltaY < 0 ? 1.1 : 1 / 1.1; draw();
  }, {passive: false});
  document.querySelectorAll("input[name=geom]").forEach(function (el) {
    el.addEventListener("change", function () { if (el.checked) load(el.value); });
  });
  var first = document.querySelector("input[name=geom]:checked");
  load(first ? first.value : Object.keys(geoms)[0]);
})();
