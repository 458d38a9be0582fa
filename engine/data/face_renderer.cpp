#include "engine/data/face_renderer.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "engine/error.h"

namespace sceald::data {

// ---- shapes and their prototypes

std::array<double, FaceShape::kFields> FaceShape::to_array() const {
  return {brow_raise,     brow_inner,        brow_inner_x,      brow_arch,       eye_open,      lower_lid,
          mouth_width,    mouth_corner,      mouth_open_top,    mouth_open_bottom, upper_lip_raise, lip_thickness,
          nose_wrinkle,   nasolabial,        forehead_lines,    brow_furrow};
}

FaceShape FaceShape::from_array(const std::array<double, kFields>& v) {
  FaceShape s;
  s.brow_raise = v[0];
  s.brow_inner = v[1];
  s.brow_inner_x = v[2];
  s.brow_arch = v[3];
  s.eye_open = v[4];
  s.lower_lid = v[5];
  s.mouth_width = v[6];
  s.mouth_corner = v[7];
  s.mouth_open_top = v[8];
  s.mouth_open_bottom = v[9];
  s.upper_lip_raise = v[10];
  s.lip_thickness = v[11];
  s.nose_wrinkle = v[12];
  s.nasolabial = v[13];
  s.forehead_lines = v[14];
  s.brow_furrow = v[15];
  return s;
}

namespace {

// One row per class in canonical order; columns in FaceShape's field order:
// brow raise, inner, inner x, arch | eye open, lower lid | mouth width, corner,
// open top, open bottom, lip raise, lip thickness | nose wrinkle, nasolabial,
// forehead, furrow. docs/SYNTHETIC.md explains each row (after FACS).
constexpr std::array<std::array<double, FaceShape::kFields>, kNumExpressions> kPrototypes = {{
    // surprise: brows high and arched, eyes wide, jaw dropped (round open mouth), forehead lines
    {-0.14, 0.00, 0.12, 0.08, 0.130, 0.0, 0.15, 0.00, 0.08, 0.20, 0.00, 0.025, 0.0, 0.0, 1.0, 0.0},
    // fear: brows raised with inner ends up and drawn together, eyes wide, lips stretched sideways
    {-0.10, -0.07, 0.08, 0.00, 0.130, 0.1, 0.34, 0.03, 0.02, 0.08, 0.00, 0.020, 0.0, 0.0, 0.6, 0.4},
    // disgust: brows a little down, squint, nose wrinkled, upper lip raised, corners down
    {0.05, 0.03, 0.10, 0.02, 0.050, 0.4, 0.23, 0.05, 0.02, 0.00, 0.06, 0.025, 1.0, 0.6, 0.0, 0.3},
    // happiness: cheeks push the lower lids up, wide mouth with corners up, smile folds
    {0.00, 0.00, 0.12, 0.04, 0.060, 0.5, 0.34, -0.10, 0.00, 0.07, 0.00, 0.025, 0.0, 1.0, 0.0, 0.0},
    // sadness: inner brow ends raised (oblique brows), lids lowered, corners down
    {0.01, -0.08, 0.11, -0.02, 0.060, 0.0, 0.23, 0.08, 0.00, 0.00, 0.00, 0.025, 0.0, 0.0, 0.2, 0.0},
    // anger: brows lowered and slanted in, glare, lips pressed thin and narrow, furrow between brows
    {0.06, 0.09, 0.07, -0.01, 0.065, 0.2, 0.19, 0.02, 0.00, 0.00, 0.00, 0.014, 0.0, 0.0, 0.0, 1.0},
    // neutral: relaxed
    {0.00, 0.00, 0.12, 0.03, 0.075, 0.0, 0.26, 0.00, 0.00, 0.00, 0.00, 0.025, 0.0, 0.0, 0.0, 0.0},
}};

// Individual differences: each field jitters by this share of its spread
// across the prototypes, so identity never swamps expression.
constexpr double kJitterShare = 0.12;

}  // namespace

FaceShape expression_prototype(int expression) {
  SCEALD_CHECK(expression >= 0 && expression < kNumExpressions, "expression_prototype: class index must be in [0, ",
               kNumExpressions, "), got ", expression);
  return FaceShape::from_array(kPrototypes[static_cast<std::size_t>(expression)]);
}

FaceShape blend_expressions(const std::array<double, kNumExpressions>& weights) {
  double total = 0.0;
  for (double w : weights) {
    SCEALD_CHECK(w >= 0.0 && std::isfinite(w), "blend_expressions: weights must be finite and >= 0, got ", w);
    total += w;
  }
  SCEALD_CHECK(std::abs(total - 1.0) < 1e-9, "blend_expressions: weights must sum to 1, got ", total);
  std::array<double, FaceShape::kFields> out{};
  for (std::size_t k = 0; k < weights.size(); ++k)
    for (std::size_t f = 0; f < out.size(); ++f) out[f] += weights[k] * kPrototypes[k][f];
  return FaceShape::from_array(out);
}

// ---- appearance

namespace {

double uniform(Generator& g, double lo, double hi) { return lo + (hi - lo) * g.next_uniform(); }

double normal(Generator& g) {
  // Box-Muller; 1 - u keeps the log finite.
  const double u1 = 1.0 - g.next_uniform();
  const double u2 = g.next_uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace

FaceAppearance draw_appearance(Generator& g) {
  // The order of the draws is part of the dataset's definition: changing it
  // changes every image (bump kSyntheticVersion in synthetic.h).
  FaceAppearance a;
  a.face_width = uniform(g, 0.70, 0.84);
  a.eye_spacing = uniform(g, 0.27, 0.33);
  a.eye_height = uniform(g, -0.25, -0.19);
  a.mouth_height = uniform(g, 0.48, 0.56);
  a.gaze = uniform(g, -0.025, 0.025);
  a.hairline = uniform(g, -1.0, -0.85);
  a.skin = uniform(g, 140.0, 210.0);
  a.hair = uniform(g, 20.0, 90.0);
  a.background = uniform(g, 20.0, 115.0);
  std::array<double, FaceShape::kFields> jitter{};
  for (std::size_t f = 0; f < jitter.size(); ++f) {
    double lo = kPrototypes[0][f], hi = lo;
    for (const auto& row : kPrototypes) lo = std::min(lo, row[f]), hi = std::max(hi, row[f]);
    jitter[f] = kJitterShare * (hi - lo) * normal(g);
  }
  a.shape_jitter = FaceShape::from_array(jitter);
  const double max_rotation = 12.0 * std::numbers::pi / 180.0;
  a.rotation = std::clamp(5.0 * std::numbers::pi / 180.0 * normal(g), -max_rotation, max_rotation);
  a.scale = uniform(g, 0.90, 1.08);
  a.shift_x = uniform(g, -0.05, 0.05);
  a.shift_y = uniform(g, -0.05, 0.05);
  a.light_angle = uniform(g, 0.0, 2.0 * std::numbers::pi);
  a.light_strength = uniform(g, 0.0, 0.3);
  a.noise_sigma = uniform(g, 2.0, 7.0);
  return a;
}

// ---- the scene: parts as signed distances in face units

namespace {

struct Vec2 {
  double x = 0.0, y = 0.0;
};

struct Box {
  double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
  void add(Vec2 p) { x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y); }
  bool near(Vec2 p, double margin) const {
    return p.x >= x0 - margin && p.x <= x1 + margin && p.y >= y0 - margin && p.y <= y1 + margin;
  }
};

double segment_distance(Vec2 p, Vec2 a, Vec2 b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0.0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  const double ex = p.x - (a.x + t * dx), ey = p.y - (a.y + t * dy);
  return std::sqrt(ex * ex + ey * ey);
}

// The region between two curves over |u - cx| <= half_width, t = (u - cx) / half_width:
//   top(t)    = cy + corner t^2 - open_top profile(t) - raise (1 - t^4)
//   bottom(t) = cy + corner t^2 + open_bottom profile(t)
// profile is 1 - t^2 (mouths) or sqrt(1 - t^2) (eyes, rounder). The distance
// is the larger of the vertical and horizontal overshoots: not exact, but
// negative exactly inside, and close enough to anti-alias a one-pixel edge.
struct Lens {
  double cx = 0, cy = 0, half_width = 0.1, corner = 0, open_top = 0, open_bottom = 0, raise = 0;
  bool round = false;

  double profile(double t) const { return round ? std::sqrt(std::max(0.0, 1.0 - t * t)) : 1.0 - t * t; }
  double top(double t) const { return cy + corner * t * t - open_top * profile(t) - raise * (1.0 - t * t * t * t); }
  double bottom(double t) const { return cy + corner * t * t + open_bottom * profile(t); }
  Vec2 top_point(double t) const { return {cx + t * half_width, top(t)}; }
  Vec2 bottom_point(double t) const { return {cx + t * half_width, bottom(t)}; }
  double distance(Vec2 p) const {
    const double t = std::clamp((p.x - cx) / half_width, -1.0, 1.0);
    const double vertical = std::max(top(t) - p.y, p.y - bottom(t));
    return std::max(vertical, std::abs(p.x - cx) - half_width);
  }
};

struct Ellipse {
  Vec2 centre;
  double rx = 1, ry = 1;
  // Inigo Quilez's first-order distance estimate k0 (k0 - 1) / k1.
  double distance(Vec2 p) const {
    const double qx = (p.x - centre.x) / rx, qy = (p.y - centre.y) / ry;
    const double k0 = std::sqrt(qx * qx + qy * qy);
    const double k1 = std::sqrt(qx * qx / (rx * rx) + qy * qy / (ry * ry));
    return k1 > 0.0 ? k0 * (k0 - 1.0) / k1 : -std::min(rx, ry);
  }
  double normalised_radius2(Vec2 p) const {
    const double qx = (p.x - centre.x) / rx, qy = (p.y - centre.y) / ry;
    return qx * qx + qy * qy;
  }
};

// One painted part: a filled region or a stroke, composited over what lies
// below with coverage * alpha, optionally clipped to another region.
struct Layer {
  enum class Kind { Ellipse, Lens, Stroke, Hair };
  Kind kind = Kind::Stroke;
  Ellipse ellipse;
  Lens lens;
  std::vector<Vec2> points;  // Stroke: a polyline
  double radius = 0.0;       // Stroke half-thickness; Hair: the hairline's v
  double grey = 0.0;
  double alpha = 1.0;
  double shade = 0.0;        // Ellipse: darkening towards the rim
  int clip = -1;             // index of a Lens or Ellipse layer that bounds this one
  Box box;                   // where the coverage can be non-zero

  double distance(Vec2 p) const {
    switch (kind) {
      case Kind::Ellipse: return ellipse.distance(p);
      case Kind::Lens: return lens.distance(p);
      case Kind::Hair: return p.y - (radius + 0.15 * p.x * p.x);
      case Kind::Stroke: {
        double d = 1e9;
        for (std::size_t i = 0; i + 1 < points.size(); ++i) d = std::min(d, segment_distance(p, points[i], points[i + 1]));
        return d - radius;
      }
    }
    return 1e9;
  }
};

Layer stroke(std::vector<Vec2> points, double radius, double grey, double alpha) {
  Layer l;
  l.kind = Layer::Kind::Stroke;
  l.points = std::move(points);
  l.radius = radius;
  l.grey = grey;
  l.alpha = alpha;
  for (const Vec2& p : l.points) l.box.add(p);
  l.box = {l.box.x0 - radius, l.box.y0 - radius, l.box.x1 + radius, l.box.y1 + radius};
  return l;
}

Layer lens_fill(const Lens& lens, double grey, double alpha) {
  Layer l;
  l.kind = Layer::Kind::Lens;
  l.lens = lens;
  l.grey = grey;
  l.alpha = alpha;
  for (int i = 0; i <= 8; ++i) {
    const double t = -1.0 + i / 4.0;
    l.box.add(lens.top_point(t));
    l.box.add(lens.bottom_point(t));
  }
  l.box.add({lens.cx, lens.top(0.0) - lens.raise});
  return l;
}

std::vector<Vec2> lens_edge(const Lens& lens, bool top, int samples = 9) {
  std::vector<Vec2> points;
  for (int i = 0; i < samples; ++i) {
    const double t = -1.0 + 2.0 * i / (samples - 1);
    points.push_back(top ? lens.top_point(t) : lens.bottom_point(t));
  }
  return points;
}

std::vector<Vec2> quadratic(Vec2 a, Vec2 control, Vec2 b, int samples = 7) {
  std::vector<Vec2> points;
  for (int i = 0; i < samples; ++i) {
    const double t = static_cast<double>(i) / (samples - 1), s = 1.0 - t;
    points.push_back({s * s * a.x + 2 * s * t * control.x + t * t * b.x, s * s * a.y + 2 * s * t * control.y + t * t * b.y});
  }
  return points;
}

FaceShape sanitised(FaceShape s) {
  s.eye_open = std::max(s.eye_open, 0.02);
  s.lower_lid = std::clamp(s.lower_lid, 0.0, 0.9);
  s.mouth_width = std::max(s.mouth_width, 0.10);
  s.mouth_open_top = std::max(s.mouth_open_top, 0.0);
  s.mouth_open_bottom = std::max(s.mouth_open_bottom, 0.0);
  s.upper_lip_raise = std::max(s.upper_lip_raise, 0.0);
  s.lip_thickness = std::max(s.lip_thickness, 0.010);
  s.brow_inner_x = std::max(s.brow_inner_x, 0.04);
  s.nose_wrinkle = std::clamp(s.nose_wrinkle, 0.0, 1.0);
  s.nasolabial = std::clamp(s.nasolabial, 0.0, 1.0);
  s.forehead_lines = std::clamp(s.forehead_lines, 0.0, 1.0);
  s.brow_furrow = std::clamp(s.brow_furrow, 0.0, 1.0);
  return s;
}

std::vector<Layer> build_scene(const FaceShape& expression, const FaceAppearance& a) {
  std::array<double, FaceShape::kFields> values = expression.to_array();
  const auto jitter = a.shape_jitter.to_array();
  for (std::size_t f = 0; f < values.size(); ++f) values[f] += jitter[f];
  const FaceShape s = sanitised(FaceShape::from_array(values));

  const double line = a.skin * 0.45;  // wrinkles and lip lines: darker skin
  std::vector<Layer> layers;

  Layer face;
  face.kind = Layer::Kind::Ellipse;
  face.ellipse = {{0.0, 0.0}, a.face_width, 1.0};
  face.grey = a.skin;
  face.shade = 0.18;
  face.box = {-a.face_width, -1.0, a.face_width, 1.0};
  layers.push_back(face);
  const int face_index = 0;

  const double brow_v = -0.44 + s.brow_raise;
  for (int j = 0; j < 3; ++j) {  // forehead lines, above the brows
    const double v = brow_v - 0.11 - 0.06 * j;
    layers.push_back(stroke(quadratic({-0.28, v + 0.015}, {0.0, v - 0.02}, {0.28, v + 0.015}), 0.011, line,
                            0.8 * s.forehead_lines));
  }
  Layer hair;
  hair.kind = Layer::Kind::Hair;
  hair.radius = a.hairline;
  hair.grey = a.hair;
  hair.clip = face_index;
  hair.box = {-a.face_width, -1.0, a.face_width, a.hairline + 0.15};
  layers.push_back(hair);

  for (int side : {-1, 1}) {
    // brows: inner end, arched middle, outer end
    const Vec2 inner{side * s.brow_inner_x, brow_v + s.brow_inner};
    const Vec2 outer{side * 0.45, brow_v + 0.02};
    const Vec2 control{(inner.x + outer.x) / 2, (inner.y + outer.y) / 2 - 2.0 * s.brow_arch};
    layers.push_back(stroke(quadratic(inner, control, outer), 0.036, a.hair * 0.8, 0.92));
    // furrow between the brows
    layers.push_back(stroke({{side * 0.035, -0.42}, {side * 0.03, -0.29}}, 0.012, line, 0.8 * s.brow_furrow));

    // eyes: white, iris clipped to the opening, upper lid line
    Lens eye;
    eye.cx = side * a.eye_spacing;
    eye.cy = a.eye_height;
    eye.half_width = 0.12;
    eye.open_top = s.eye_open;
    eye.open_bottom = s.eye_open * (1.0 - s.lower_lid);
    eye.round = true;
    const int eye_index = static_cast<int>(layers.size());
    layers.push_back(lens_fill(eye, 225.0, 1.0));
    Layer iris;
    iris.kind = Layer::Kind::Ellipse;
    iris.ellipse = {{eye.cx + a.gaze, eye.cy}, 0.05, 0.05};
    iris.grey = 40.0;
    iris.clip = eye_index;
    iris.box = {eye.cx + a.gaze - 0.05, eye.cy - 0.05, eye.cx + a.gaze + 0.05, eye.cy + 0.05};
    layers.push_back(iris);
    layers.push_back(stroke(lens_edge(eye, true), 0.016, 35.0, 0.95));
    layers.push_back(stroke(lens_edge(eye, false), 0.008, line, 0.5));

    // smile folds from the nose wings to the mouth corners
    const Vec2 fold_start{side * 0.11, 0.12};
    const Vec2 fold_end{side * (s.mouth_width + 0.05), a.mouth_height + s.mouth_corner + 0.05};
    layers.push_back(stroke(quadratic(fold_start, {side * (s.mouth_width + 0.09), 0.26}, fold_end), 0.013, line,
                            0.7 * s.nasolabial));
  }

  // nose: a shaded side, the nostril line, and disgust's wrinkles across the bridge
  layers.push_back(stroke({{0.05, -0.12}, {0.065, 0.12}}, 0.012, line, 0.3));
  layers.push_back(stroke({{-0.09, 0.16}, {-0.04, 0.2}, {0.04, 0.2}, {0.09, 0.16}}, 0.018, line, 0.6));
  for (int j = 0; j < 2; ++j) {
    const double v = -0.12 + 0.08 * j;
    layers.push_back(stroke({{-0.08, v + 0.015}, {0.0, v}, {0.08, v + 0.015}}, 0.011, line, 0.85 * s.nose_wrinkle));
  }

  // mouth: the dark opening, then the two lip lines
  Lens mouth;
  mouth.cx = 0.0;
  mouth.cy = a.mouth_height;
  mouth.half_width = s.mouth_width;
  mouth.corner = s.mouth_corner;
  mouth.open_top = s.mouth_open_top;
  mouth.open_bottom = s.mouth_open_bottom;
  mouth.raise = s.upper_lip_raise;
  layers.push_back(lens_fill(mouth, 30.0, 1.0));
  layers.push_back(stroke(lens_edge(mouth, true), s.lip_thickness, a.skin * 0.5, 0.95));
  layers.push_back(stroke(lens_edge(mouth, false), s.lip_thickness, a.skin * 0.5, 0.95));

  for (Layer& l : layers)
    if (l.clip >= 0) {  // a clipped layer never reaches beyond its clip
      const Box& c = layers[static_cast<std::size_t>(l.clip)].box;
      l.box = {std::max(l.box.x0, c.x0), std::max(l.box.y0, c.y0), std::min(l.box.x1, c.x1), std::min(l.box.y1, c.y1)};
    }
  return layers;
}

// Area of a pixel covered by a region whose signed distance is d (one pixel = `pixel`).
double coverage(double d, double pixel) { return std::clamp(0.5 - d / pixel, 0.0, 1.0); }

}  // namespace

Image render_face(const FaceShape& shape, const FaceAppearance& a, int size, Generator& generator) {
  SCEALD_CHECK(size >= 8 && size <= 1024, "render_face: size must be in [8, 1024], got ", size);
  const std::vector<Layer> layers = build_scene(shape, a);
  const double unit = a.scale * 0.42 * size;  // pixels per face unit
  const double pixel = 1.0 / unit;
  const double cx = size * (0.5 + a.shift_x), cy = size * (0.5 + a.shift_y);
  const double cos_r = std::cos(a.rotation), sin_r = std::sin(a.rotation);
  const double light_x = std::cos(a.light_angle), light_y = std::sin(a.light_angle);

  Image image(size, size, 1);
  std::vector<double> cover(layers.size());
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      // Inverse pose: undo the on-screen rotation, then the scale.
      const Vec2 p{(cos_r * dx + sin_r * dy) / unit, (-sin_r * dx + cos_r * dy) / unit};
      double grey = a.background;
      for (std::size_t i = 0; i < layers.size(); ++i) {
        const Layer& l = layers[i];
        cover[i] = 0.0;
        if (l.alpha <= 0.0 || !l.box.near(p, pixel)) continue;
        double c = coverage(l.distance(p), pixel);
        if (l.clip >= 0) c *= cover[static_cast<std::size_t>(l.clip)];
        cover[i] = c;
        double colour = l.grey;
        if (l.kind == Layer::Kind::Ellipse && l.shade > 0.0)
          colour *= 1.0 - l.shade * std::min(1.0, l.ellipse.normalised_radius2(p));
        grey += c * l.alpha * (colour - grey);
      }
      // Light falls off across the image along light_angle.
      const double along = (dx * light_x + dy * light_y) / (0.5 * size);
      grey *= 1.0 + a.light_strength * along;
      grey += a.noise_sigma * normal(generator);
      image.at(x, y) = static_cast<std::uint8_t>(std::clamp(std::lround(grey), 0L, 255L));
    }
  }
  return image;
}

}  // namespace sceald::data
