// Live preview of a primitives job: redraws the shapes found so far on a 2D canvas.
import type { Color, Shape } from "../shared/shapes";
import type { Canvas } from "./job";

const rgba = (c: Color) => `rgba(${c.r}, ${c.g}, ${c.b}, ${c.a / 255})`;

/** The shape's paint: its colour, or its two-stop gradient (canvas gradients live in canvas space, as the stops do). */
function ink(ctx: CanvasRenderingContext2D, s: Shape): string | CanvasGradient {
  const g = s.gradient;
  if (!g) return rgba(s.color);
  const grad = ctx.createLinearGradient(g.x1, g.y1, g.x2, g.y2);
  grad.addColorStop(0, rgba(s.color));
  grad.addColorStop(1, rgba({ ...g.to, a: s.color.a }));
  return grad;
}

function drawShape(ctx: CanvasRenderingContext2D, s: Shape): void {
  ctx.beginPath();
  switch (s.type) {
    case "triangle":
    case "polygon":
      ctx.moveTo(s.points[0][0], s.points[0][1]);
      for (const [x, y] of s.points.slice(1)) ctx.lineTo(x, y);
      ctx.closePath();
      break;
    case "rectangle":
      ctx.rect(Math.min(s.x1, s.x2), Math.min(s.y1, s.y2), Math.abs(s.x2 - s.x1), Math.abs(s.y2 - s.y1));
      break;
    case "rotated-rectangle": {
      ctx.save();
      ctx.translate(s.cx, s.cy);
      ctx.rotate((s.angle * Math.PI) / 180);
      ctx.rect(-s.rx, -s.ry, 2 * s.rx, 2 * s.ry);
      ctx.restore();
      break;
    }
    case "ellipse":
      ctx.ellipse(s.cx, s.cy, Math.max(0, s.rx), Math.max(0, s.ry), 0, 0, 2 * Math.PI);
      break;
    case "rotated-ellipse":
      ctx.ellipse(s.cx, s.cy, Math.max(0, s.rx), Math.max(0, s.ry), (s.angle * Math.PI) / 180, 0, 2 * Math.PI);
      break;
    case "circle":
      ctx.arc(s.cx, s.cy, Math.max(0, s.r), 0, 2 * Math.PI);
      break;
    case "bezier":
      ctx.moveTo(s.p0[0], s.p0[1]);
      ctx.quadraticCurveTo(s.c[0], s.c[1], s.p1[0], s.p1[1]);
      ctx.lineWidth = s.width;
      ctx.lineCap = "round";
      ctx.strokeStyle = ink(ctx, s);
      ctx.stroke();
      return;
  }
  ctx.fillStyle = ink(ctx, s);
  ctx.fill();
}

/** Draw everything (the canvas element is sized to the working image; CSS scales it). */
export function drawCanvas(el: HTMLCanvasElement, c: Canvas): void {
  if (el.width !== c.width || el.height !== c.height) {
    el.width = c.width;
    el.height = c.height;
  }
  const ctx = el.getContext("2d");
  if (!ctx) return;
  ctx.fillStyle = rgba({ ...c.background, a: 255 });
  ctx.fillRect(0, 0, c.width, c.height);
  for (const s of c.shapes) drawShape(ctx, s);
}
