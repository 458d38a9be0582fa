// Procedural grey faces for the synthetic expression dataset (synthetic.h).
//
// A face is drawn from two parameter sets:
// - FaceShape: what the expression moves (brows, eyelids, mouth, wrinkles).
//   Each of the seven classes has a prototype (expression_prototype); an
//   image that mixes expressions uses the mixture-weighted blend of the
//   prototypes (blend_expressions), so the picture itself carries the mixture.
// - FaceAppearance: what the expression does not move (identity, pose,
//   lighting, noise), drawn at random per image (draw_appearance).
//
// Geometry lives in face units: origin at the face centre, u to the right, v
// downwards, 1 = half the face's height. render_face maps every pixel centre
// into face units through the pose (rotation, scale, shift) and evaluates the
// scene there: each part is a signed distance (negative inside) turned into
// coverage over one pixel, so edges are anti-aliased without supersampling.
// docs/SYNTHETIC.md lists the prototypes and shows what they look like.
#pragma once

#include <array>
#include <cstdint>

#include "engine/data/expressions.h"
#include "engine/data/image.h"
#include "engine/rng.h"

namespace sceald::data {

// Everything an expression changes, in face units (v grows downwards, so a
// negative offset raises a part). Blending is linear in every field.
struct FaceShape {
  double brow_raise = 0.0;     // vertical offset of both brows
  double brow_inner = 0.0;     // extra offset of the inner ends (negative: inner ends up)
  double brow_inner_x = 0.12;  // distance of the inner ends from the midline (smaller: drawn together)
  double brow_arch = 0.03;     // height of the brow's middle above its chord
  double eye_open = 0.075;     // half-height of the eye opening
  double lower_lid = 0.0;      // 0..1: how far the lower lid is pushed up (cheek raise, squint)
  double mouth_width = 0.26;   // half-width of the mouth
  double mouth_corner = 0.0;   // vertical offset of the corners (negative: up, a smile)
  double mouth_open_top = 0.0;     // upper lip raised above the mouth line at the centre
  double mouth_open_bottom = 0.0;  // lower lip (jaw) dropped below it
  double upper_lip_raise = 0.0;    // flat, square raise of the upper lip (disgust's snarl)
  double lip_thickness = 0.025;    // half-thickness of the lip lines (pressed lips are thin)
  double nose_wrinkle = 0.0;   // 0..1 strength of the lines across the nose
  double nasolabial = 0.0;     // 0..1 strength of the folds from nose to mouth corners
  double forehead_lines = 0.0; // 0..1 strength of the horizontal forehead lines
  double brow_furrow = 0.0;    // 0..1 strength of the vertical lines between the brows

  static constexpr int kFields = 16;
  std::array<double, kFields> to_array() const;
  static FaceShape from_array(const std::array<double, kFields>& values);
};

// The prototype of one class (canonical order, expressions.h).
FaceShape expression_prototype(int expression);
// sum_k weights[k] * prototype(k); the weights must be >= 0 and sum to 1.
FaceShape blend_expressions(const std::array<double, kNumExpressions>& weights);

// What varies between images of the same expression.
struct FaceAppearance {
  // identity
  double face_width = 0.78;   // half-width of the face ellipse (half-height is 1)
  double eye_spacing = 0.30;  // distance of each eye centre from the midline
  double eye_height = -0.22;  // v of the eye centres
  double mouth_height = 0.52; // v of the mouth line
  double gaze = 0.0;          // horizontal offset of both irises
  double hairline = -0.8;     // v above which the face is hair
  double skin = 170.0;        // grey levels
  double hair = 50.0;
  double background = 80.0;
  // Added to the blended shape: individual differences. All zero by default.
  FaceShape shape_jitter = FaceShape::from_array({});
  // pose: face units -> pixels
  double rotation = 0.0;      // radians, clockwise on screen
  double scale = 1.0;         // the face's half-height is scale * 0.42 * image side
  double shift_x = 0.0;       // offset of the face centre from the image centre,
  double shift_y = 0.0;       // as a fraction of the image side
  // lighting and sensor
  double light_angle = 0.0;   // direction of the brightness gradient
  double light_strength = 0.0;  // relative brightness change from the centre to the image edge
  double noise_sigma = 0.0;   // grey levels, Gaussian, per pixel
};

// Draws an appearance from `generator` (the ranges are in docs/SYNTHETIC.md).
FaceAppearance draw_appearance(Generator& generator);

// Renders a size x size grey face. The pixel noise is drawn from `generator`,
// so a fixed generator state gives identical bytes.
Image render_face(const FaceShape& shape, const FaceAppearance& appearance, int size, Generator& generator);

}  // namespace sceald::data
