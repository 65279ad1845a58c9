/* Latent-space numbers, the same as vae/latent.py's: prior samples by seed, grid axes
   (linear or even in the prior's CDF), interpolation points. */

export const round2 = (v) => Math.round(v * 100) / 100;
export const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/* A 32-bit integer hash: vae.latent.mix32. */
export function mix32(x) {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/* The i-th prior sample of a seed, by Box-Muller: vae.latent.prior_samples. */
export function priorSample(seed, i) {
  const u = (k) => (mix32((mix32(2 * i + k + 1) ^ seed) >>> 0) + 0.5) / 4294967296;
  const r = Math.sqrt(-2 * Math.log(u(0))), angle = 2 * Math.PI * u(1);
  return [r * Math.cos(angle), r * Math.sin(angle)];
}

/* vae.latent.interpolation_points: `steps` points from a to b, both ends included. */
export function interpolationPoints(a, b, steps) {
  const points = [];
  for (let i = 0; i < steps; i++) {
    const t = i / (steps - 1);
    points.push([(1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]]);
  }
  return points;
}

/* Phi(z) from erfc (Numerical Recipes' Chebyshev fit, 1.2e-7 accurate) and its inverse by bisection. */
export function normalCdf(z) {
  const x = Math.abs(z) / Math.SQRT2, t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

export function normalIcdf(u) {
  let lo = -12, hi = 12;
  for (let i = 0; i < 60; i++) { const mid = (lo + hi) / 2; if (normalCdf(mid) < u) lo = mid; else hi = mid; }
  return (lo + hi) / 2;
}

/* vae.latent.grid_axis: n coordinates across `span` around `centre`, even in z or in Phi(z). */
export function gridAxis(centre, span, n, spacing) {
  if (n === 1) return [centre];
  const lo = centre - span / 2, hi = centre + span / 2, axis = [];
  for (let i = 0; i < n; i++) axis.push(lo + (i * span) / (n - 1));
  if (spacing !== "cdf") return axis;
  const ulo = normalCdf(lo), uhi = normalCdf(hi);
  return axis.map((_, i) => (i === 0 ? lo : i === n - 1 ? hi : clamp(normalIcdf(ulo + (i * (uhi - ulo)) / (n - 1)), lo, hi)));
}
