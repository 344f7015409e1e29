// The one skeleton drawer of the pages: the server's skeleton (tracking/pose/skeleton.py, which the
// exports are drawn with too), put in the page by {% skeleton_definition %}, drawn on a canvas.
// Points are BlazePose-indexed [x, y, visibility], x and y normalised to the picture, unmirrored:
// a mirrored picture mirrors the context first.
const definition = JSON.parse(document.getElementById("formtrack-skeleton").textContent);

// The look the `skeleton` parameter asks for: null for none (false), else a style with a bone
// colour, a point colour and maybe a glow.
export function styleFor(value) {
  const { styles } = definition;
  if (value === false) return null;
  if (typeof value !== "string") return styles.default;
  const name = value.toLowerCase();
  if (/^#([0-9a-f]{3}|[0-9a-f]{6})$/.test(name)) return { line: name, point: "#ffffff" };
  // Dashboard preset ids (UUIDs) and unknown names draw the default style.
  return Object.prototype.hasOwnProperty.call(styles, name) ? styles[name] : styles.default;
}

// From landmarks as the pose model gives them: [x, y, z, visibility].
export function fromLandmarks(landmarks) {
  return landmarks ? landmarks.map((l) => [l[0], l[1], l[3] ?? 1]) : null;
}

// From a flat [x0, y0, v0, x1, …] list (pose timelines).
export function fromFlat(values) {
  if (!values) return null;
  const points = [];
  for (let i = 0; i + 2 < values.length; i += 3) points.push([values[i], values[i + 1], values[i + 2]]);
  return points;
}

export function isVisible(point) {
  return !!point && point[2] >= definition.minVisibility;
}

// Draws `points` into `box` ({x, y, width, height}: where the picture sits, in canvas units).
// `skeleton` is "coco" or "blazepose" (the request's blazepose parameter); `style` comes from
// styleFor(), and without one each side has its colour, as on the exports; `weight` thickens the
// lines of pictures shown larger than they are drawn.
export function drawSkeleton(context, points, { box, skeleton = "blazepose", style = {}, weight = 1 }) {
  const { points: shown, bones } = definition.skeletons[skeleton];
  const at = (i) => [box.x + points[i][0] * box.width, box.y + points[i][1] * box.height];
  const colour = (styled, i) => styled || definition.sideColours[definition.sides[i]];
  const lineWidth = Math.max(definition.minLinePx, Math.round((weight * Math.min(box.width, box.height)) / definition.lineDivisor));
  context.save();
  context.lineWidth = lineWidth;
  context.lineCap = "round";
  if (style.glow) {
    context.shadowColor = style.glow;
    context.shadowBlur = lineWidth * 3;
  }
  for (const [a, b] of bones) {
    if (!isVisible(points[a]) || !isVisible(points[b])) continue;
    context.strokeStyle = colour(style.line, b);
    context.beginPath();
    context.moveTo(...at(a));
    context.lineTo(...at(b));
    context.stroke();
  }
  for (const i of shown) {
    if (!isVisible(points[i])) continue;
    context.fillStyle = colour(style.point, i);
    context.beginPath();
    context.arc(...at(i), lineWidth + 1, 0, 2 * Math.PI);
    context.fill();
  }
  context.restore();
}
