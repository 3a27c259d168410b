// The fleet map: every device's track on a plain coordinate canvas (the machine
// may have no internet, so no tiles). Web-Mercator projection fitted to the
// tracks' bounds with equal scale on both axes, a grid of round latitudes and
// longitudes with labels, a polyline per device in its colour, its current
// position marked and labelled. The projection functions need no DOM (the unit
// test imports them); drawMap sets data-points, data-tracks and data-track-points
// (JSON: points per device) on the canvas.

const MAX_LAT = 85;
/** The smallest span shown, degrees: a single fix or a parked device still gets a readable map. */
const MIN_SPAN = 0.002;

const PALETTE = ["#00a9ce", "#ff6e00", "#1a7f37", "#8250df", "#c62828", "#b08800", "#0550ae", "#bf3989"];

export function colourFor(index) {
	return PALETTE[index % PALETTE.length];
}

/** Web-Mercator's y (radians) of a latitude in degrees, clamped to ±85°. */
export function mercatorY(lat) {
	const phi = (Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 180;
	return Math.log(Math.tan(Math.PI / 4 + phi / 2));
}

/** The latitude in degrees of a Web-Mercator y. */
export function inverseMercatorY(y) {
	return ((2 * Math.atan(Math.exp(y)) - Math.PI / 2) * 180) / Math.PI;
}

/** The bounds of all points of all tracks, or null without a point. */
export function trackBounds(tracks) {
	let bounds = null;
	for (const track of tracks) {
		for (const { lat, lon } of track.points) {
			if (!Number.isFinite(lat) || !Number.isFinite(lon)) continue;
			if (bounds === null) bounds = { minLat: lat, maxLat: lat, minLon: lon, maxLon: lon };
			else {
				bounds.minLat = Math.min(bounds.minLat, lat);
				bounds.maxLat = Math.max(bounds.maxLat, lat);
				bounds.minLon = Math.min(bounds.minLon, lon);
				bounds.maxLon = Math.max(bounds.maxLon, lon);
			}
		}
	}
	return bounds;
}

/**
 * A projection of `bounds` into a width × height canvas with `padding` pixels
 * kept free at each edge: project(lat, lon) gives canvas pixels (y down); the
 * view's corners in degrees come with it for the grid.
 */
export function fitProjection(bounds, width, height, padding = 30) {
	if (!(width > 2 * padding) || !(height > 2 * padding)) throw new RangeError("the canvas is smaller than its padding");
	const widen = (min, max) => {
		const span = max - min;
		return span >= MIN_SPAN ? [min, max] : [(min + max) / 2 - MIN_SPAN / 2, (min + max) / 2 + MIN_SPAN / 2];
	};
	const [minLon, maxLon] = widen(bounds.minLon, bounds.maxLon);
	const [minLat, maxLat] = widen(bounds.minLat, bounds.maxLat);
	const x0 = (minLon * Math.PI) / 180;
	const x1 = (maxLon * Math.PI) / 180;
	const y0 = mercatorY(minLat);
	const y1 = mercatorY(maxLat);
	const scale = Math.min((width - 2 * padding) / (x1 - x0), (height - 2 * padding) / (y1 - y0));
	// centred: the axis with room to spare shows more around the tracks
	const cx = (x0 + x1) / 2;
	const cy = (y0 + y1) / 2;
	const project = (lat, lon) => [width / 2 + ((lon * Math.PI) / 180 - cx) * scale, height / 2 - (mercatorY(lat) - cy) * scale];
	const view = {
		minLon: ((cx - width / 2 / scale) * 180) / Math.PI,
		maxLon: ((cx + width / 2 / scale) * 180) / Math.PI,
		minLat: inverseMercatorY(cy - height / 2 / scale),
		maxLat: inverseMercatorY(cy + height / 2 / scale),
	};
	return { project, view, scale };
}

/** A round grid step (1, 2 or 5 × 10^n degrees) giving about `lines` lines over `span`. */
export function niceStep(span, lines = 6) {
	if (!(span > 0)) throw new RangeError("the span must be positive");
	const raw = span / lines;
	const magnitude = 10 ** Math.floor(Math.log10(raw));
	const step = [1, 2, 5, 10].find((m) => m * magnitude >= raw) * magnitude;
	return step;
}

/** The multiples of `step` from `min` to `max`, each with its label (as many decimals as the step needs). */
export function gridLines(min, max, step) {
	const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
	const lines = [];
	for (let i = Math.ceil(min / step); i * step <= max; i++) lines.push({ value: i * step, label: (i * step).toFixed(decimals) });
	return lines;
}

/** Draws the tracks ([{id, colour, points: [{lat, lon}]}]) on `canvas`. */
export function drawMap(canvas, tracks) {
	const ratio = window.devicePixelRatio || 1;
	const width = canvas.clientWidth || canvas.width;
	const height = canvas.clientHeight || canvas.height;
	if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
		canvas.width = Math.round(width * ratio);
		canvas.height = Math.round(height * ratio);
	}
	const g = canvas.getContext("2d");
	g.setTransform(ratio, 0, 0, ratio, 0, 0);
	g.fillStyle = "#eef3f6";
	g.fillRect(0, 0, width, height);
	const drawn = tracks.filter((t) => t.points.length > 0);
	canvas.dataset.tracks = String(drawn.length);
	canvas.dataset.points = String(drawn.reduce((sum, t) => sum + t.points.length, 0));
	canvas.dataset.trackPoints = JSON.stringify(Object.fromEntries(drawn.map((t) => [t.id, t.points.length])));
	const bounds = trackBounds(drawn);
	if (bounds === null) {
		g.fillStyle = "#6b7785";
		g.font = "14px system-ui, sans-serif";
		g.textAlign = "center";
		g.fillText("No position yet: tracks appear with the devices' GPS messages.", width / 2, height / 2);
		return;
	}
	const { project, view } = fitProjection(bounds, width, height, 40);
	drawGrid(g, project, view, width, height);
	// Devices driving the same road overlap: the tracks drawn first are wider, so
	// each one still shows around those drawn over it.
	drawn.forEach((track, i) => drawTrack(g, project, track, drawn.length > 1 ? (drawn.length - 1 - i) / (drawn.length - 1) : 0));
	// labels last, over every track, moved down past each other where devices are close together
	const placed = [];
	for (const track of drawn) {
		const last = track.points[track.points.length - 1];
		drawLabel(g, project(last.lat, last.lon), track, placed);
	}
}

/** The first spot at or below `y` where a label of `height` does not overlap the `placed` ones near `x`. */
export function labelSpot(x, y, width, height, placed) {
	let top = y;
	for (const other of [...placed].sort((a, b) => a.y - b.y)) {
		const apart = x + width <= other.x || other.x + other.width <= x || top + height <= other.y || other.y + other.height <= top;
		if (!apart) top = other.y + other.height;
	}
	return top;
}

function drawLabel(g, [x, y], track, placed) {
	g.font = "600 12px system-ui, sans-serif";
	const width = g.measureText(track.id).width + 4;
	const height = 15;
	const top = labelSpot(x + 9, y - height / 2, width, height, placed);
	placed.push({ x: x + 9, y: top, width, height });
	g.textAlign = "left";
	g.textBaseline = "middle";
	g.lineWidth = 3;
	g.strokeStyle = "white";
	g.strokeText(track.id, x + 11, top + height / 2);
	g.fillStyle = track.colour;
	// a bar of the track's colour, whole pixels, ties the label to its track
	g.fillRect(Math.round(x + 8), Math.round(top + 3), 4, height - 6);
	g.fillStyle = "#1d2733";
	g.fillText(track.id, x + 15, top + height / 2);
}

function drawGrid(g, project, view, width, height) {
	g.strokeStyle = "#c9d3dc";
	g.lineWidth = 1;
	g.fillStyle = "#6b7785";
	g.font = "11px ui-monospace, monospace";
	const lonStep = niceStep(view.maxLon - view.minLon);
	const latStep = niceStep(view.maxLat - view.minLat);
	g.textAlign = "left";
	g.textBaseline = "bottom";
	for (const { value, label } of gridLines(view.minLon, view.maxLon, lonStep)) {
		const [x] = project(view.minLat, value);
		g.beginPath();
		g.moveTo(x, 0);
		g.lineTo(x, height);
		g.stroke();
		g.fillText(`${label}°`, x + 3, height - 3);
	}
	for (const { value, label } of gridLines(view.minLat, view.maxLat, latStep)) {
		const [, y] = project(value, view.minLon);
		g.beginPath();
		g.moveTo(0, y);
		g.lineTo(width, y);
		g.stroke();
		g.fillText(`${label}°`, 3, y - 2);
	}
}

/** Draws a track; `widen` (0 to 1) makes its line and mark wider. */
function drawTrack(g, project, track, widen) {
	const pixels = track.points.map((p) => project(p.lat, p.lon));
	g.strokeStyle = track.colour;
	g.lineWidth = 2.5 + 3 * widen;
	g.lineJoin = "round";
	g.beginPath();
	pixels.forEach(([x, y], i) => (i === 0 ? g.moveTo(x, y) : g.lineTo(x, y)));
	g.stroke();
	const [x, y] = pixels[pixels.length - 1];
	g.fillStyle = track.colour;
	g.strokeStyle = "white";
	g.lineWidth = 2;
	g.beginPath();
	g.arc(x, y, 6 + 4 * widen, 0, 2 * Math.PI);
	g.fill();
	g.stroke();
}
